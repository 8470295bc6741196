"""Domain values from table rows: the column order each mapper takes, and how stored JSON reads.
Pure functions, no queries (what is written is `row_writes`).

The mappers take the driver's own rows, JSON columns as text (SQLite) or decoded (PostgreSQL), and
build values without validating them again (`trusted_values`): this is the read path of every list
and detail page.

Rows are read as they are, whatever older versions stored: JSON text that orjson does not read
(NaN, Infinity, 1e999) reads as null there (`stored_json`), and an evidence time that is not a
finite number (stored as null) reads as 0 for a start and as absent for an end or a duration.
Migration 0004 repairs such rows; until it runs, they are read this way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel

from convostore.ids import from_micros
from convostore.models import (
    ApiKey,
    EvidenceItem,
    EvidenceRef,
    EvidenceSource,
    Memory,
    MemorySource,
    Message,
    Run,
    Session,
    Summary,
    Thinking,
)
from convostore.storage.stored_json import stored_json
from convostore.storage.trusted_values import builder, whole_builder

Row = Mapping[Any, Any]
V = TypeVar("V", bound=BaseModel)


def session_from_row(row: Row) -> Session:
    """A session from its row as a mapping (JSON columns decoded or not)."""
    return session_from_columns([row[name] for name in SESSION_COLUMNS])


def _decoded(value: Any) -> Any:
    """A JSON column's value: SQLite hands back its text, PostgreSQL the decoded value."""
    if value.__class__ is str:
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return stored_json(value)
    return value


# The columns of a listing row, in the order `session_from_brief_columns` takes them.
BRIEF_SESSION_COLUMNS = (
    "id",
    "user_id",
    "type",
    "component_id",
    "title",
    "metrics",
    "message_count",
    "run_count",
    "created_at",
    "updated_at",
    "last_message_at",
)


def session_from_brief_columns(row: Sequence[Any]) -> Session:
    """A session from a listing row: the driver's own row of `BRIEF_SESSION_COLUMNS`, in order.
    The JSON blobs it leaves out read as None.

    The listing's hot path: no dict per row to look columns up by name, and every field given,
    so the value is assembled directly (this halved the cost of mapping a page of sessions).
    `metrics` arrives as JSON text from SQLite and decoded from PostgreSQL.
    """
    (id_, user_id, type_, component_id, title, metrics, messages, runs, created, updated, last) = (
        row
    )
    if metrics.__class__ is str:  # `_decoded`, inline
        try:
            metrics = orjson.loads(metrics)
        except orjson.JSONDecodeError:
            metrics = stored_json(metrics)
    updated_at = from_micros(updated)
    # usually the instant of the last update itself (datetimes are immutable)
    last_at = updated_at if last == updated else from_micros(last) if last else None
    return _session(
        {
            "id": id_,
            "user_id": user_id,
            "type": type_,
            "component_id": component_id,
            "title": title,
            "summary": None,
            "state": None,
            "metadata": None,
            "component_data": None,
            "extra": None,
            "metrics": metrics or {},
            "message_count": messages,
            "run_count": runs,
            "created_at": from_micros(created),
            "updated_at": updated_at,
            "last_message_at": last_at,
        },
    )


# The columns of a whole session row, in the order `session_from_columns` takes them: a
# listing row's, then the JSON blobs a listing leaves out.
SESSION_COLUMNS = (
    *BRIEF_SESSION_COLUMNS,
    "summary",
    "state",
    "metadata",
    "component_data",
    "extra",
)


def session_from_columns(row: Sequence[Any]) -> Session:
    """A session from the driver's own row of `SESSION_COLUMNS`, in order, its JSON columns as
    text (SQLite) or decoded (PostgreSQL): the listing's session, with its blobs filled in."""
    session = session_from_brief_columns(row[:_BRIEF_WIDTH])
    summary, state, metadata, component_data, extra = row[_BRIEF_WIDTH:]
    summary = _decoded(summary)
    session.__dict__.update(  # the value was just built here: its fields, in place
        summary=Summary.model_validate(summary) if summary else None,
        state=_decoded(state),
        metadata=_decoded(metadata),
        component_data=_decoded(component_data),
        extra=_decoded(extra),
    )
    return session


_BRIEF_WIDTH = len(BRIEF_SESSION_COLUMNS)


# The columns of a message row, in the order `message_from_columns` takes them: the fields of
# `Message`, in order.
MESSAGE_COLUMNS = (
    "session_id",
    "seq",
    "id",
    "run_id",
    "role",
    "content",
    "thinkings",
    "refs",
    "tool_calls",
    "metrics",
    "from_history",
    "extra",
    "created_at",
)


def message_from_columns(row: Sequence[Any]) -> Message:
    """A message from the driver's own row of `MESSAGE_COLUMNS`, in order.

    Pages of messages are the detail's hot path, and an assistant message carries half a dozen
    nested values (reasoning steps, evidence references, their sources and items): those are
    assembled directly when their stored JSON names every field, as it does when we wrote it.
    """
    session_id, seq, id_, run_id, role, content, thinkings, refs = row[:8]
    tool_calls, metrics, from_history, extra, created = row[8:13]  # a page's rows: sizes follow
    # JSON columns: text from SQLite, decoded from PostgreSQL; NULL, or a JSON `null` written by
    # the ORM, when empty (`_decoded`, inline: four per message)
    thinkings = _values_of(thinkings, _thinking)
    refs = _values_of(refs, evidence_ref_from_json)
    try:
        if tool_calls.__class__ is str:
            tool_calls = orjson.loads(tool_calls)
        if metrics.__class__ is str:
            metrics = orjson.loads(metrics)
        if extra.__class__ is str:
            extra = orjson.loads(extra)
    except orjson.JSONDecodeError:
        tool_calls, metrics, extra = (_decoded(v) for v in (tool_calls, metrics, extra))
    return _message(
        {
            "session_id": session_id,
            "seq": seq,
            "id": id_,
            "run_id": run_id,
            "role": role,
            "content": content,
            "thinkings": thinkings,
            "refs": refs,
            "tool_calls": tool_calls or [],
            "metrics": metrics or {},
            "from_history": bool(from_history),
            "extra": extra or {},
            "created_at": from_micros(created),
        },
    )


def _values_of(column: Any, build: Callable[[Any], V]) -> list[V]:
    """The values of a JSON array column (text or decoded; NULL or JSON `null` when empty)."""
    if not column:
        return []
    if column.__class__ is str:  # `_decoded`, inline
        try:
            column = orjson.loads(column)
        except orjson.JSONDecodeError:
            column = stored_json(column)
    return [build(item) for item in column] if column else []


_session = whole_builder(Session)
_message = whole_builder(Message)
_run = whole_builder(Run)
_thinking = builder(Thinking)
_source = builder(EvidenceSource)
_item = builder(EvidenceItem)
_evidence_ref = whole_builder(EvidenceRef)


def evidence_ref_from_json(data: dict[str, Any]) -> EvidenceRef:
    """A stored evidence reference; JSON may hold a whole number where the model has a float,
    and a null where an older version stored NaN or Infinity (see the module doc). `data` is
    freshly decoded, so it is changed in place."""
    source = data["source"]
    duration = source.get("duration")
    if duration is not None and duration.__class__ is not float:
        source["duration"] = _time(duration)
    items = data.get("items") or []
    for item in items:
        start, end = item.get("start"), item.get("end")
        if start.__class__ is not float:
            item["start"] = _time(start, 0.0)
        if end is not None and end.__class__ is not float:
            item["end"] = _time(end)
    return _evidence_ref({"source": _source(source), "items": [_item(i) for i in items]})


def _time(value: Any, missing: float | None = None) -> float | None:
    """A stored evidence time as a float; `missing` for one that is not a finite number."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:
            return missing
        if math.isfinite(number):
            return number
    return missing


# The columns of a run row, in the order `run_from_columns` takes them: the fields of `Run`, in
# order (`index` is the column `run_index`).
RUN_COLUMNS = (
    "session_id",
    "id",
    "run_index",
    "parent_run_id",
    "component_id",
    "user_id",
    "status",
    "input",
    "content",
    "metrics",
    "extra",
    "created_at",
    "updated_at",
)


def run_from_columns(row: Sequence[Any]) -> Run:
    """A run from the driver's own row of `RUN_COLUMNS`, in order, its JSON columns read as text
    (`sql_base.as_text`): a run's `content` may be any JSON value, a string included, so unlike
    the other mappers this one cannot tell text from a decoded value by its type."""
    session_id, id_, index, parent, component, user_id, status, input_, content = row[:9]
    metrics, extra, created, updated = row[9:13]
    try:
        content = None if content is None else orjson.loads(content)
        metrics = None if metrics is None else orjson.loads(metrics)
        extra = None if extra is None else orjson.loads(extra)
    except orjson.JSONDecodeError:  # see `stored_json`; a run's content may be a JSON string
        content, metrics, extra = (
            None if text is None else stored_json(text) for text in row[8:11]
        )
    return _run(
        {
            "session_id": session_id,
            "id": id_,
            "index": index,
            "parent_run_id": parent,
            "component_id": component,
            "user_id": user_id,
            "status": status,
            "input": input_,
            "content": content,
            "metrics": metrics or {},
            "extra": extra or {},
            "created_at": from_micros(created),
            "updated_at": from_micros(updated),
        }
    )


def memory_from_row(row: Row) -> Memory:
    source = row["source"]
    return Memory(
        id=row["id"],
        user_id=row["user_id"],
        memory=row["memory"],
        topics=row["topics"] or [],
        agent_id=row["agent_id"],
        team_id=row["team_id"],
        source=MemorySource.model_validate(source) if source else None,
        extra=row["extra"] or {},
        created_at=from_micros(row["created_at"]),
        updated_at=from_micros(row["updated_at"]),
    )


def key_from_row(row: Row) -> ApiKey:
    return ApiKey(
        id=row["id"],
        tenant_id=row["tenant_id"],
        role=row["role"],
        user_id=row["user_id"],
        name=row["name"],
        created_at=from_micros(row["created_at"]),
        revoked_at=from_micros(row["revoked_at"]) if row["revoked_at"] else None,
    )
