"""Values mapped from rows, remembered under the rows themselves (`RowMemo`).

Mapping a listing row to its domain value (JSON text decoded, timestamps made datetimes, the
value assembled) is a sizeable share of what a served list page costs. Lists are read
far more often than sessions change (a dashboard's first page, a user's recent sessions), so the
store keeps each value it mapped, keyed by the row it came from, column for column.

The key is the row's content, not its id. A value is a function of its row alone, so a row that
comes back identical maps to an identical value, and a session that changed comes back as a
different row (a write changes the column it writes, and `updated_at`) and is mapped afresh. So
the memo can never answer with an out-of-date value and has nothing to invalidate: it only skips
repeating work already done. Values are shared by every caller that lists the same
row, so they must not be changed in place (values are replaced with `model_copy`, never edited).

Memory is bounded by an approximate byte budget (`listing_cache_mb`): each entry is charged for
its text and a fixed overhead, and the oldest entries leave first. A budget of 0 turns it off.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

V = TypeVar("V")

# What an entry is charged: a fixed part for the key tuple, the value, its dict and datetimes,
# and its text several times over (decoded JSON takes more room than its text). Chosen to charge
# a typical listing row somewhat more than tracemalloc measures it (row included), so the budget
# errs on the side of less memory (docs/performance.md).
ENTRY_BYTES = 1_024
TEXT_FACTOR = 4
# A row charged more than this share of the budget is mapped but not remembered.
LARGEST_SHARE = 64


def remembered(
    build: Callable[[Sequence[Any]], V], budget_bytes: int
) -> Callable[[Sequence[Any]], V]:
    """`build` behind a `RowMemo` of `budget_bytes`, or `build` itself for a budget of 0."""
    return RowMemo(build, budget_bytes) if budget_bytes > 0 else build


class RowMemo(Generic[V]):
    """`build(row)`, remembered by the row's content within `budget_bytes` (oldest out first)."""

    def __init__(self, build: Callable[[Sequence[Any]], V], budget_bytes: int) -> None:
        self.build = build
        self.budget_bytes = max(budget_bytes, 0)
        self.used_bytes = 0
        self._values: dict[tuple[Any, ...], tuple[V, int]] = {}
        self._lock = threading.Lock()  # around changes; a lookup is one dict read

    def __len__(self) -> int:
        return len(self._values)

    def __call__(self, row: Sequence[Any]) -> V:
        key = row if row.__class__ is tuple else tuple(row)
        try:
            found = self._values.get(key)
        except TypeError:  # an unhashable column (a decoded JSON value): nothing to key by
            return self.build(row)
        if found is not None:
            return found[0]
        value = self.build(row)
        cost = ENTRY_BYTES + TEXT_FACTOR * sum(len(c) for c in key if c.__class__ is str)
        if cost * LARGEST_SHARE <= self.budget_bytes:
            self._remember(key, value, cost)
        return value

    def _remember(self, key: tuple[Any, ...], value: V, cost: int) -> None:
        with self._lock:
            if key in self._values:
                return
            values = self._values
            while values and self.used_bytes + cost > self.budget_bytes:
                self.used_bytes -= values.pop(next(iter(values)))[1]
            values[key] = (value, cost)
            self.used_bytes += cost
