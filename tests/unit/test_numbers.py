"""The number rules as pure functions: the walk over stored JSON, metric totals that saturate,
and reads of numbers older versions (or other writers) stored."""

from __future__ import annotations

import math
from typing import Any

import pytest

from convostore.errors import Unprocessable
from convostore.models import MAX_INT64, MIN_INT64, EvidenceItem, EvidenceRef, EvidenceSource
from convostore.rules import add_metrics, sum_metrics
from convostore.storage.row_reads import evidence_ref_from_json
from convostore.storage.row_writes import evidence_span
from convostore.storage.stored_json import stored_json
from convostore.validation import check_numbers

NAN, INF = math.nan, math.inf


@pytest.mark.parametrize(
    ("value", "where"),
    [
        (NAN, "p"),
        ({"a": [1, {"b": INF}]}, "p.a[1].b"),
        ([[[-INF]]], "p[0][0][0]"),
        ({"n": 2**64}, "p.n"),
        ({"n": -(2**63) - 1}, "p.n"),
        ((1, NAN), "p[1]"),
        (EvidenceRef.model_construct(source=EvidenceSource(id="v", extra={"x": NAN})), "p"),
    ],
)
def test_check_numbers_names_what_it_refuses(value: Any, where: str) -> None:
    with pytest.raises(Unprocessable) as caught:
        check_numbers(value, "p")
    assert caught.value.status == 422
    assert caught.value.param is not None and caught.value.param.startswith(where)


def test_check_numbers_takes_64_bit_integers_and_makes_negative_zero_zero() -> None:
    item = EvidenceItem(kind="k", start=-0.0)
    value: dict[str, Any] = {"a": -0.0, "b": [-0.0, {"c": -0.0}], "u": 2**64 - 1, "items": [item]}
    check_numbers(value, "p")
    assert value == {"a": 0.0, "b": [0.0, {"c": 0.0}], "u": 2**64 - 1, "items": [item]}
    assert math.copysign(1.0, value["b"][1]["c"]) == 1.0
    assert math.copysign(1.0, item.start) == 1.0  # in domain values too


def test_check_numbers_walks_deeper_than_python_recurses() -> None:
    deep: list[Any] = [NAN]
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(Unprocessable):
        check_numbers(deep, "p")


def test_totals_saturate_at_the_64_bit_range_whatever_the_type() -> None:
    assert sum_metrics([{"cost": 1e308}, {"cost": 1e308}]) == {"cost": MAX_INT64}
    assert sum_metrics([{"total_tokens": MAX_INT64}] * 3) == {"total_tokens": MAX_INT64}
    assert add_metrics({"cost": -9e18}, {"cost": -9e18}) == {"cost": MIN_INT64}
    assert add_metrics({"cost": 1.5}, {"cost": 1}) == {"cost": 2.5}


def test_totals_skip_what_is_not_a_finite_number() -> None:
    delta = {"a_tokens": NAN, "b_tokens": INF, "c_tokens": True, "d_tokens": "1", "e_tokens": 2}
    assert add_metrics({}, delta) == {"e_tokens": 2}
    # a total damaged by an older version is left for migration 0004, not restarted
    assert add_metrics({"total_tokens": None}, {"total_tokens": 5}) == {"total_tokens": None}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('{"a": 1.5, "b": [null, -2]}', {"a": 1.5, "b": [None, -2]}),
        ('{"a": NaN, "b": [Infinity, -Infinity], "c": 1e999, "d": 2}', {
            "a": None, "b": [None, None], "c": None, "d": 2,
        }),
    ],
)  # fmt: skip
def test_stored_json_reads_what_other_writers_leave(text: str, value: Any) -> None:
    assert stored_json(text) == value


def test_stored_json_still_refuses_what_is_not_json() -> None:
    with pytest.raises(ValueError):
        stored_json('{"a": nope}')


def test_evidence_times_stored_as_null_read_as_documented() -> None:
    """A start that is not a finite number reads as 0 (the start of the source); an end or a
    duration that is not one, as absent."""
    stored = {
        "source": {"kind": "video", "id": "v", "name": None, "duration": None, "extra": {}},
        "items": [
            {"kind": "k", "start": None, "end": None, "text": None, "extra": {}},
            {"kind": "k", "start": 4, "end": 10**400, "text": None, "extra": {}},
        ],
    }
    ref = evidence_ref_from_json(stored)
    assert [(i.start, i.end) for i in ref.items] == [(0.0, None), (4.0, None)]
    assert ref.source.duration is None
    assert evidence_span(ref) == (0.0, 4.0)
