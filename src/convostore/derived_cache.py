"""Values computed over many sessions of a tenant (list totals, the component list), cached briefly.

Such a value walks an index over every matching session, and a page/offset list asks for its
total on every page. So each value is kept for `ttl_s` seconds per tenant and key, and dropped at
once when the tenant's sessions change through this process (`changed`); writes by other
processes show within `ttl_s`. When a value expires, one caller computes it again while the
others keep getting the expired one: a count computed by every concurrent request at once made
the slowest requests of a list many times slower than the count itself.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar, cast

T = TypeVar("T")

DEFAULT_TTL_S = 5.0
# More entries than this (many filters, many tenants) and the cache starts over.
DEFAULT_MAX_ENTRIES = 10_000


class DerivedCache:
    """Per-tenant values with a lifetime, computed again by one caller at a time."""

    def __init__(
        self,
        ttl_s: float = DEFAULT_TTL_S,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.clock = clock
        # a tenant's values are keyed by its generation, so a change makes them unreachable
        self._generation: defaultdict[str, int] = defaultdict(int)
        # key -> (when computed, value, whether a caller is computing it again)
        self._values: dict[tuple[Any, ...], tuple[float, Any, bool]] = {}

    def changed(self, tenant_id: str) -> None:
        """Sessions of this tenant changed: its cached values no longer apply."""
        self._generation[tenant_id] += 1

    def get(self, tenant_id: str, key: Hashable, compute: Callable[[], T]) -> T:
        """The tenant's value for `key`: cached, or `compute()`d now (and cached)."""
        full_key = (tenant_id, self._generation[tenant_id], key)
        now = self.clock()
        cached = self._values.get(full_key)
        if cached is not None:
            computed_at, known, refreshing = cached
            if refreshing or now - computed_at < self.ttl_s:
                return cast(T, known)
            self._values[full_key] = (computed_at, known, True)
        try:
            value = compute()
        except BaseException:
            if cached is not None:  # the next caller tries again
                self._values[full_key] = (cached[0], cached[1], False)
            raise
        if len(self._values) >= self.max_entries:
            self._values.clear()
        self._values[full_key] = (now, value, False)
        return value
