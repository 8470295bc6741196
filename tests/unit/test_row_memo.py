"""RowMemo: mapped values remembered by their rows' content, within a byte budget."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from convostore.storage.row_memo import ENTRY_BYTES, LARGEST_SHARE, RowMemo, remembered


class Counting:
    """A row mapper that counts its calls and returns a fresh value each time."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, row: Sequence[Any]) -> dict[str, Any]:
        self.calls += 1
        return {"row": list(row)}


def test_an_identical_row_is_the_same_value_and_a_changed_one_is_mapped_afresh() -> None:
    build = Counting()
    memo = RowMemo(build, 1_000_000)
    first = memo(("s1", "title", 10))
    assert memo(("s1", "title", 10)) is first
    assert memo(["s1", "title", 10]) is first  # rows that are not tuples key the same
    changed = memo(("s1", "title", 11))
    assert changed == {"row": ["s1", "title", 11]} and changed is not first
    retitled = memo(("s1", "other", 10))
    assert retitled == {"row": ["s1", "other", 10]}
    assert build.calls == 3 and len(memo) == 3


def test_memory_stays_within_the_budget_oldest_out_first() -> None:
    build = Counting()
    entry = ENTRY_BYTES + 4 * 3  # a row of one three-character text
    budget = LARGEST_SHARE * entry
    memo = RowMemo(build, budget)
    for i in range(3 * LARGEST_SHARE):
        memo((f"{i:03d}",))
        assert memo.used_bytes <= budget
    assert len(memo) == LARGEST_SHARE and memo.used_bytes == budget
    calls = build.calls
    memo((f"{3 * LARGEST_SHARE - 1:03d}",))  # among the newest: remembered
    assert build.calls == calls
    memo(("000",))  # long gone: mapped again
    assert build.calls == calls + 1


def test_rows_too_large_for_the_budget_and_unhashable_rows_are_mapped_every_time() -> None:
    build = Counting()
    budget = 4 * ENTRY_BYTES * LARGEST_SHARE
    memo = RowMemo(build, budget)
    big = ("x" * budget,)
    assert memo(big) == memo(big) and build.calls == 2 and len(memo) == 0
    decoded = ("s1", {"a": 1})  # a JSON column a driver decoded
    assert memo(decoded) == {"row": ["s1", {"a": 1}]} and memo(decoded) is not memo(decoded)
    assert len(memo) == 0


def test_a_budget_of_zero_is_the_plain_mapper() -> None:
    build = Counting()
    assert remembered(build, 0) is build
    assert isinstance(remembered(build, 1), RowMemo)
