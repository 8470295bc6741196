"""Row mapping builds values without validating them again: they must equal validated ones."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convostore.ids import from_micros, to_micros
from convostore.models import Message, Run, Session
from convostore.storage.row_reads import (
    BRIEF_SESSION_COLUMNS,
    MESSAGE_COLUMNS,
    RUN_COLUMNS,
    SESSION_COLUMNS,
    message_from_columns,
    run_from_columns,
    session_from_brief_columns,
    session_from_columns,
    session_from_row,
)
from convostore.storage.row_writes import message_to_row
from convostore.storage.trusted_values import trusted

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

SESSION_ROW = {
    "id": "s1",
    "user_id": "u1",
    "type": "agent",
    "component_id": None,
    "title": "Where is the cat?",
    "metrics": {"input_tokens": 12, "cost": 0.25},
    "message_count": 2,
    "run_count": 1,
    "created_at": 1_735_689_600_000_001,
    "updated_at": 1_735_689_700_123_456,
    "last_message_at": None,
}
MESSAGE_ROW: dict[str, Any] = {
    "session_id": "s1",
    "seq": 2,
    "id": "m2",
    "run_id": "r1",
    "role": "assistant",
    "content": "At 0:42.",
    "thinkings": [{"title": "look", "content": "scan the frames", "extra": {}}],
    # whole numbers where the model has floats, and keys left out: as older rows may hold them
    "refs": [
        {
            "source": {"kind": "video", "id": "v1", "duration": 120},
            "items": [{"kind": "keyframe", "start": 42, "text": "a cat"}],
        }
    ],
    "tool_calls": None,
    "metrics": {"output_tokens": 5},
    "from_history": 0,
    "extra": None,
    "created_at": 1_735_689_700_123_456,
}
RUN_ROW = {
    "session_id": "s1",
    "id": "r1",
    "run_index": 0,
    "parent_run_id": None,
    "component_id": "agent-1",
    "user_id": "u1",
    "status": "COMPLETED",
    "input": "Where is the cat?",
    "content": {"text": "At 0:42."},
    "metrics": None,
    "extra": None,
    "created_at": 1_735_689_600_000_001,
    "updated_at": 1_735_689_700_123_456,
}


def _same(built: Any, validated: Any) -> None:
    assert built == validated
    assert built.model_dump() == validated.model_dump()
    assert orjson.dumps(built.model_dump(mode="json")) == orjson.dumps(
        validated.model_dump(mode="json")
    )


def test_a_session_row_maps_to_the_validated_session() -> None:
    validated = Session.model_validate(
        {
            **SESSION_ROW,
            "created_at": from_micros(SESSION_ROW["created_at"]),  # type: ignore[arg-type]
            "updated_at": from_micros(SESSION_ROW["updated_at"]),  # type: ignore[arg-type]
        }
    )
    columns = [SESSION_ROW[name] for name in BRIEF_SESSION_COLUMNS]
    _same(session_from_brief_columns(columns), validated)
    # SQLite hands JSON back as text, PostgreSQL decoded
    at_metrics = BRIEF_SESSION_COLUMNS.index("metrics")
    as_text = [orjson.dumps(v).decode() if i == at_metrics else v for i, v in enumerate(columns)]
    _same(session_from_brief_columns(tuple(as_text)), validated)


@pytest.mark.parametrize("last", [1_735_689_800_000_000, SESSION_ROW["updated_at"]])
def test_a_listing_row_without_metrics_maps_to_the_validated_session(last: int) -> None:
    row = {**SESSION_ROW, "metrics": None, "last_message_at": last}
    validated = Session.model_validate(
        {
            **row,
            "metrics": {},
            "created_at": from_micros(SESSION_ROW["created_at"]),  # type: ignore[arg-type]
            "updated_at": from_micros(SESSION_ROW["updated_at"]),  # type: ignore[arg-type]
            "last_message_at": from_micros(last),
        }
    )
    _same(session_from_brief_columns([row[name] for name in BRIEF_SESSION_COLUMNS]), validated)


def test_a_message_row_maps_to_the_validated_message() -> None:
    validated = Message.model_validate(
        {
            **MESSAGE_ROW,
            "tool_calls": [],
            "extra": {},
            "from_history": False,
            "created_at": from_micros(MESSAGE_ROW["created_at"]),
        }
    )
    columns = [MESSAGE_ROW[name] for name in MESSAGE_COLUMNS]
    # JSON as text from SQLite, decoded from PostgreSQL (fresh each time: mapping may change it)
    as_text = [orjson.dumps(v).decode() if isinstance(v, list | dict) else v for v in columns]
    for row in (as_text, copy.deepcopy(columns)):
        built = message_from_columns(row)
        _same(built, validated)
        assert isinstance(built.refs[0].items[0].start, float)
        assert isinstance(built.refs[0].source.duration, float)


def test_a_message_row_of_our_own_json_maps_to_the_validated_message() -> None:
    """Nested values whose JSON names every field (as stored by us) take the direct path."""
    message = Message.model_validate(
        {
            **MESSAGE_ROW,
            "tool_calls": [{"name": "search"}],
            "extra": {"k": 1},
            "from_history": True,
            "created_at": from_micros(MESSAGE_ROW["created_at"]),
        }
    )
    row = message_to_row("t", message)
    row["from_history"] = 1  # as SQLite gives a boolean back
    columns = [
        orjson.dumps(row[name]).decode() if isinstance(row[name], list | dict) else row[name]
        for name in MESSAGE_COLUMNS
    ]
    _same(message_from_columns(columns), message)


def test_a_run_row_maps_to_the_validated_run() -> None:
    validated = Run.model_validate(
        {
            **{k: v for k, v in RUN_ROW.items() if k != "run_index"},
            "index": 0,
            "metrics": {},
            "extra": {},
            "created_at": from_micros(RUN_ROW["created_at"]),  # type: ignore[arg-type]
            "updated_at": from_micros(RUN_ROW["updated_at"]),  # type: ignore[arg-type]
        }
    )
    as_text = [
        orjson.dumps(RUN_ROW[name]).decode()
        if name in ("content", "metrics", "extra") and RUN_ROW[name] is not None
        else RUN_ROW[name]
        for name in RUN_COLUMNS
    ]
    _same(run_from_columns(as_text), validated)


@pytest.mark.parametrize("content", ["At 0:42.", 42, [1, "a"], None])
def test_a_runs_content_may_be_any_json_value(content: object) -> None:
    text = None if content is None else orjson.dumps(content).decode()
    row = {**RUN_ROW, "content": text}
    assert run_from_columns([row[n] for n in RUN_COLUMNS]).content == content


def test_trusted_values_get_their_own_default_containers() -> None:
    first = trusted(Session, {"id": "a", "user_id": "u", "type": "agent"})
    second = trusted(Session, {"id": "b", "user_id": "u", "type": "agent"})
    first.metrics["x"] = 1
    assert second.metrics == {}


@given(st.integers(min_value=-62_135_596_800_000_000 + 86_400_000_000, max_value=2**62))
def test_from_micros_is_exact_everywhere(micros: int) -> None:
    if micros > to_micros(datetime(9999, 12, 31, tzinfo=UTC)):
        return
    assert from_micros(micros) == _EPOCH + timedelta(microseconds=micros)
    assert to_micros(from_micros(micros)) == micros


def test_a_full_session_row_maps_to_the_validated_session() -> None:
    row = {
        **SESSION_ROW,
        "summary": {"text": "a cat", "topics": ["cats"], "covers_through_seq": 2},
        "state": {"step": 3},
        "metadata": None,
        "component_data": {"name": "Agent"},
        "extra": None,
    }
    validated = Session.model_validate(
        {
            **row,
            "created_at": from_micros(SESSION_ROW["created_at"]),  # type: ignore[arg-type]
            "updated_at": from_micros(SESSION_ROW["updated_at"]),  # type: ignore[arg-type]
        }
    )
    _same(session_from_row(row), validated)
    # the driver's own row: JSON as text from SQLite, decoded from PostgreSQL
    columns = [row[name] for name in SESSION_COLUMNS]
    _same(session_from_columns(columns), validated)
    as_text = [orjson.dumps(v).decode() if isinstance(v, dict) else v for v in columns]
    _same(session_from_columns(tuple(as_text)), validated)


def test_json_nulls_in_a_message_row_read_as_empty() -> None:
    """The ORM writes a JSON `null` where a column is given None; raw NULL reads the same."""
    for empty in ("null", None):
        row = {**MESSAGE_ROW, "thinkings": empty, "refs": empty, "metrics": empty}
        row.update(tool_calls=empty, extra=empty, from_history=0)
        built = message_from_columns([row[name] for name in MESSAGE_COLUMNS])
        assert (built.thinkings, built.refs, built.tool_calls) == ([], [], [])
        assert (built.metrics, built.extra) == ({}, {})


def test_values_assembled_from_rows_report_every_field_as_set() -> None:
    columns = [SESSION_ROW[name] for name in BRIEF_SESSION_COLUMNS]
    first, second = session_from_brief_columns(columns), session_from_brief_columns(columns)
    first.title = "renamed"
    copied = second.model_copy(update={"title": "copied"})
    for value in (first, second, copied):
        assert value.model_fields_set == set(Session.model_fields)
    assert second.title == SESSION_ROW["title"]
