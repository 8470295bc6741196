"""Mapping between table rows and domain values. Pure functions, no queries."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

from convostore.ids import from_micros, to_micros
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

Row = Mapping[Any, Any]
V = TypeVar("V", bound=BaseModel)
_MISSING: Any = object()
# per model: every field in order (a default, or _MISSING), and the fields with default factories
_TEMPLATES: dict[type[BaseModel], tuple[dict[str, Any], dict[str, Callable[[], Any]]]] = {}


def trusted(cls: type[V], values: dict[str, Any]) -> V:
    """A value built from our own rows without validating it again.

    Everything in the database was validated on its way in, and validating it again on the way
    out cost list pages more than their query (pydantic's `model_construct` is slower still). The
    result is the instance validation would give, fields in the same order;
    `tests/unit/test_rows.py` holds them equal.
    """
    template = _TEMPLATES.get(cls)
    if template is None:
        template = _TEMPLATES[cls] = _template_of(cls)
    defaults, factories = template
    full = dict(defaults)
    full.update(values)  # keys already present keep their (field) order
    for name, factory in factories.items():
        if full[name] is _MISSING:
            full[name] = factory()
    value = cls.__new__(cls)
    object.__setattr__(value, "__dict__", full)
    object.__setattr__(value, "__pydantic_fields_set__", set(values))
    object.__setattr__(value, "__pydantic_extra__", None)
    object.__setattr__(value, "__pydantic_private__", None)
    return value


def _template_of(cls: type[BaseModel]) -> tuple[dict[str, Any], dict[str, Callable[[], Any]]]:
    defaults: dict[str, Any] = {}
    factories: dict[str, Callable[[], Any]] = {}
    for name, field in cls.model_fields.items():
        defaults[name] = _MISSING if field.is_required() else field.default
        if field.default_factory is not None:
            defaults[name] = _MISSING
            factories[name] = field.default_factory  # type: ignore[assignment]
    return defaults, factories


def _or_none(value: Any) -> Any:
    """Empty JSON values are stored as NULL."""
    return value if value else None


def session_from_row(row: Row) -> Session:
    summary = row["summary"]
    return session_from_brief_row(row).model_copy(
        update={
            "summary": Summary.model_validate(summary) if summary else None,
            "state": row["state"],
            "metadata": row["metadata"],
            "component_data": row["component_data"],
            "extra": row["extra"],
        }
    )


def session_from_brief_row(row: Row) -> Session:
    """A session from the listing columns only; the JSON blobs it leaves out read as None."""
    last_message_at = row["last_message_at"]
    return trusted(
        Session,
        {
            "id": row["id"],
            "user_id": row["user_id"],
            "type": row["type"],
            "component_id": row["component_id"],
            "title": row["title"],
            "metrics": row["metrics"] or {},
            "message_count": row["message_count"],
            "run_count": row["run_count"],
            "created_at": from_micros(row["created_at"]),
            "updated_at": from_micros(row["updated_at"]),
            "last_message_at": from_micros(last_message_at) if last_message_at else None,
        },
    )


def summary_to_json(summary: Summary | None) -> dict[str, Any] | None:
    return summary.model_dump(mode="json") if summary is not None else None


def message_from_row(row: Row) -> Message:
    return trusted(
        Message,
        {
            "session_id": row["session_id"],
            "seq": row["seq"],
            "id": row["id"],
            "run_id": row["run_id"],
            "role": row["role"],
            "content": row["content"],
            "thinkings": [trusted(Thinking, t) for t in row["thinkings"] or ()],
            "refs": [_ref(r) for r in row["refs"] or ()],
            "tool_calls": row["tool_calls"] or [],
            "metrics": row["metrics"] or {},
            "from_history": bool(row["from_history"]),
            "extra": row["extra"] or {},
            "created_at": from_micros(row["created_at"]),
        },
    )


def _ref(data: dict[str, Any]) -> EvidenceRef:
    """A stored evidence reference; JSON may hold a whole number where the model has a float."""
    source = dict(data["source"])
    if source.get("duration") is not None:
        source["duration"] = float(source["duration"])
    items = []
    for item in data.get("items") or ():
        values = dict(item, start=float(item["start"]))
        if values.get("end") is not None:
            values["end"] = float(values["end"])
        items.append(trusted(EvidenceItem, values))
    return trusted(EvidenceRef, {"source": trusted(EvidenceSource, source), "items": items})


def message_to_row(tenant_id: str, message: Message) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "session_id": message.session_id,
        "seq": message.seq,
        "id": message.id,
        "run_id": message.run_id,
        "role": message.role,
        "content": message.content,
        "thinkings": _or_none([t.model_dump(mode="json") for t in message.thinkings]),
        "refs": _or_none([r.model_dump(mode="json") for r in message.refs]),
        "tool_calls": _or_none(message.tool_calls),
        "metrics": _or_none(message.metrics),
        "from_history": message.from_history,
        "extra": _or_none(message.extra),
        "created_at": to_micros(message.created_at),
    }


def evidence_rows(tenant_id: str, message: Message) -> list[dict[str, Any]]:
    rows = []
    for index, ref in enumerate(message.refs):
        starts = [item.start for item in ref.items]
        ends = [item.end if item.end is not None else item.start for item in ref.items]
        rows.append(
            {
                "tenant_id": tenant_id,
                "source_id": ref.source.id,
                "session_id": message.session_id,
                "seq": message.seq,
                "ref_index": index,
                "source_kind": ref.source.kind,
                "start_min": min(starts) if starts else None,
                "end_max": max(ends) if ends else None,
            }
        )
    return rows


def run_from_row(row: Row) -> Run:
    return trusted(
        Run,
        {
            "session_id": row["session_id"],
            "id": row["id"],
            "index": row["run_index"],
            "parent_run_id": row["parent_run_id"],
            "component_id": row["component_id"],
            "user_id": row["user_id"],
            "status": row["status"],
            "input": row["input"],
            "content": row["content"],
            "metrics": row["metrics"] or {},
            "extra": row["extra"] or {},
            "created_at": from_micros(row["created_at"]),
            "updated_at": from_micros(row["updated_at"]),
        },
    )


def run_to_row(tenant_id: str, run: Run) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "session_id": run.session_id,
        "id": run.id,
        "run_index": run.index,
        "parent_run_id": run.parent_run_id,
        "component_id": run.component_id,
        "user_id": run.user_id,
        "status": run.status,
        "input": run.input,
        "content": run.content,
        "metrics": _or_none(run.metrics),
        "extra": _or_none(run.extra),
        "created_at": to_micros(run.created_at),
        "updated_at": to_micros(run.updated_at),
    }


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


def memory_to_row(tenant_id: str, memory: Memory) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "id": memory.id,
        "user_id": memory.user_id,
        "memory": memory.memory,
        "topics": _or_none(memory.topics),
        "agent_id": memory.agent_id,
        "team_id": memory.team_id,
        "source": memory.source.model_dump(mode="json") if memory.source else None,
        "extra": _or_none(memory.extra),
        "created_at": to_micros(memory.created_at),
        "updated_at": to_micros(memory.updated_at),
    }


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
