"""Totals and component lists are cached per tenant for a while, dropped by the tenant's writes,
and computed again by one caller at a time."""

from __future__ import annotations

import pytest

from convostore.derived_cache import DerivedCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def never() -> int:
    raise AssertionError("computed while a fresh or refreshing value was there")


def test_an_expired_total_is_computed_again_by_one_caller_at_a_time() -> None:
    """While one caller computes an expired total again, the others get the expired one."""
    clock = Clock()
    cache = DerivedCache(ttl_s=5.0, clock=clock)

    def boom() -> int:
        raise RuntimeError("database gone")

    assert cache.get("t", "total", lambda: 1) == 1
    assert cache.get("t", "total", never) == 1  # fresh
    clock.now += 6

    def again() -> int:
        # another request asks meanwhile (a concurrent one, on the loop or a thread)
        assert cache.get("t", "total", never) == 1
        return 2

    assert cache.get("t", "total", again) == 2
    assert cache.get("t", "total", never) == 2
    clock.now += 6
    with pytest.raises(RuntimeError):
        cache.get("t", "total", boom)
    assert cache.get("t", "total", lambda: 3) == 3  # a failed refresh is tried again


def test_a_change_drops_only_that_tenants_values() -> None:
    cache = DerivedCache(clock=Clock())
    assert cache.get("t", "total", lambda: 1) == 1
    assert cache.get("u", "total", lambda: 10) == 10
    cache.changed("t")
    assert cache.get("t", "total", lambda: 2) == 2
    assert cache.get("u", "total", never) == 10


def test_too_many_values_start_the_cache_over() -> None:
    cache = DerivedCache(max_entries=2, clock=Clock())
    for key in ("a", "b", "c"):
        cache.get("t", key, lambda: 1)
    assert cache.get("t", "c", never) == 1
    assert cache.get("t", "a", lambda: 2) == 2
