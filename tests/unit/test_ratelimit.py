"""The token bucket on its own, on a clock the test moves."""

from __future__ import annotations

import threading

import pytest

from convostore.errors import RateLimited
from convostore.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_one_token_per_interval() -> None:
    clock = Clock()
    limiter = RateLimiter(6, clock=clock)  # one token every 10 s, 6 at once
    assert [limiter.acquire("k") for _ in range(6)] == [0.0] * 6
    assert limiter.acquire("k") == pytest.approx(10.0)
    clock.now += 4
    assert limiter.acquire("k") == pytest.approx(6.0)  # a refused call spends nothing
    clock.now += 6
    assert limiter.acquire("k") == 0.0
    assert limiter.acquire("k") == pytest.approx(10.0)


def test_burst_caps_what_an_idle_key_can_spend() -> None:
    clock = Clock()
    limiter = RateLimiter(60, burst=2, clock=clock)
    clock.now += 3600
    assert [limiter.acquire("k") for _ in range(3)] == [0.0, 0.0, pytest.approx(1.0)]


def test_keys_have_separate_budgets() -> None:
    limiter = RateLimiter(1, clock=Clock())
    limiter.check("a")
    limiter.check("b")
    with pytest.raises(RateLimited) as refused:
        limiter.check("a")
    assert refused.value.retry_after == 60
    assert refused.value.status == 429


def test_retry_after_is_rounded_up_to_a_whole_second() -> None:
    clock = Clock()
    limiter = RateLimiter(40, burst=1, clock=clock)  # a token every 1.5 s
    limiter.check("k")
    with pytest.raises(RateLimited) as refused:
        limiter.check("k")
    assert refused.value.retry_after == 2


def test_full_buckets_are_forgotten() -> None:
    clock = Clock()
    limiter = RateLimiter(60, clock=clock)
    for n in range(1000):
        limiter.check(f"caller-{n}")
    assert limiter.tracked() == 1000
    clock.now += 61  # everyone has refilled; the next call sweeps
    limiter.check("late")
    assert limiter.tracked() == 1


def test_concurrent_callers_never_overspend() -> None:
    limiter = RateLimiter(100, clock=Clock())  # the clock stands still: exactly 100 tokens
    allowed: list[int] = []
    lock = threading.Lock()

    def spend() -> None:
        mine = sum(1 for _ in range(50) if limiter.acquire("shared") == 0.0)
        with lock:
            allowed.append(mine)

    threads = [threading.Thread(target=spend) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(allowed) == 100


def test_invalid_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0)
    with pytest.raises(ValueError):
        RateLimiter(10, burst=-1)
