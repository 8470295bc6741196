"""Per-caller request budgets: one token bucket for each API key, kept in memory.

A caller may spend `burst` requests at once and earns `per_minute / 60` of them back each second,
so a steady client at the configured rate is never refused and a burst is absorbed up to its
size. The limiter lives in one process (the server runs one worker), knows nothing of HTTP, and
is safe to call from the worker threads that authenticate requests. Buckets that have refilled
completely carry no information, so they are swept away from time to time: a flood of distinct
callers cannot grow memory without bound.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from convostore.errors import RateLimited

__all__ = ["RateLimiter"]


class RateLimiter:
    """A thread-safe token bucket per key. `check(key)` spends one token or raises `RateLimited`."""

    def __init__(
        self,
        per_minute: int,
        burst: int = 0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        if burst < 0:
            raise ValueError("burst must not be negative")
        self.per_minute = per_minute
        self.capacity = float(burst or per_minute)
        self.rate = per_minute / 60.0  # tokens earned per second
        self._clock = clock
        self._lock = threading.Lock()
        # key -> [tokens left, when they were counted]; a missing key has a full bucket
        self._buckets: dict[str, list[float]] = {}
        self._refill_s = self.capacity / self.rate
        self._sweep_every = max(self._refill_s, 10.0)
        self._next_sweep = clock() + self._sweep_every

    def acquire(self, key: str) -> float:
        """Spend one token of `key`: 0.0 when allowed, else the seconds until one is earned."""
        now = self._clock()
        with self._lock:
            if now >= self._next_sweep:
                self._sweep(now)
            bucket = self._buckets.get(key)
            if bucket is None:
                self._buckets[key] = [self.capacity - 1.0, now]
                return 0.0
            tokens = min(self.capacity, bucket[0] + (now - bucket[1]) * self.rate)
            bucket[1] = now
            if tokens >= 1.0:
                bucket[0] = tokens - 1.0
                return 0.0
            bucket[0] = tokens
            return (1.0 - tokens) / self.rate

    def waiting(self, key: str) -> float:
        """Seconds until `key` may spend a token (0.0: it may now), spending nothing."""
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                return 0.0
            tokens = min(self.capacity, bucket[0] + (now - bucket[1]) * self.rate)
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate

    def check(self, key: str) -> None:
        """Spend one token of `key`, or refuse with the whole seconds to wait before retrying."""
        self._refuse(self.acquire(key))

    def check_waiting(self, key: str) -> None:
        """Refuse, as `check` does, while `key` has no token left; spend nothing."""
        self._refuse(self.waiting(key))

    def _refuse(self, wait: float) -> None:
        if wait > 0.0:
            seconds = max(1, math.ceil(wait))
            raise RateLimited(
                f"rate limit exceeded: at most {self.per_minute} requests per minute for this "
                f"API key; retry in {seconds} s",
                retry_after=seconds,
            )

    def tracked(self) -> int:
        """How many callers currently have a bucket that is not full."""
        with self._lock:
            return len(self._buckets)

    def _sweep(self, now: float) -> None:
        """Forget buckets that have refilled: they behave exactly like absent ones."""
        full_since = now - self._refill_s
        for key in [k for k, (tokens, at) in self._buckets.items() if at <= full_since]:
            del self._buckets[key]
        self._next_sweep = now + self._sweep_every
