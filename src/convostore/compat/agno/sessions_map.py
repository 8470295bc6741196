"""Agno sessions to and from convostore sessions.

The mapping: `session_id` is the id; `session_name` the title (explicit or derived, so it can be
listed and searched without reading runs); `session_state` the state; `metadata` the metadata;
`summary` the Summary; `agent_data`/`team_data`/`workflow_data` the component data;
`agent_id`/`team_id`/`workflow_id` the component id with the session type; `session_metrics` the
metrics (numeric counters in `metrics`, nested parts such as `details` in
`extra["session_metrics"]`); any other `session_data` key stays in `extra`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from convostore.compat.agno.wire import from_epoch, iso_z, split_metrics, without_nulls
from convostore.errors import InvalidRequest
from convostore.models import JSONObject, NewSession, Session, SessionPatch, SessionType, Summary

COMPONENT_KEYS: dict[str, str] = {"agent": "agent_id", "team": "team_id", "workflow": "workflow_id"}
DATA_KEYS: dict[str, str] = {
    "agent": "agent_data",
    "team": "team_data",
    "workflow": "workflow_data",
}
# Keys of `session_data` that map to convostore columns; the rest is kept in `extra`.
_SESSION_DATA_OWN = ("session_name", "session_state", "session_metrics")
_METRICS_REST = "session_metrics"
# The name derived for an imported session that had none (Agno's own rule), kept beside the title
# so that `session_data` shows `session_name` only when one was given, as Agno stores it.
DERIVED_NAME = "derived_session_name"
_NOT_SESSION_DATA = (_METRICS_REST, DERIVED_NAME)


# --- to Agno ----------------------------------------------------------------------------------


def to_agno_summary(summary: Summary | None) -> JSONObject | None:
    """`SessionSummary.to_dict`: `{summary, topics?, updated_at?}`, the time in ISO form as it
    was written (naive, as Agno writes its own, or with the offset it was given)."""
    if summary is None:
        return None
    body: JSONObject = {"summary": summary.text}
    if summary.topics:
        body["topics"] = summary.topics
    if summary.updated_at is not None:
        body["updated_at"] = summary.updated_at.isoformat()
    body.update(summary.extra)
    return body


def session_metrics(session: Session) -> JSONObject | None:
    """`session_data.session_metrics`, or None when the session has no `session_data` at all.

    The session's own `metrics` dict when nothing is added to it (bodies only read it).
    """
    extra = session.extra
    rest = extra.get(_METRICS_REST) if extra else None
    metrics: JSONObject = (
        {**session.metrics, **rest} if isinstance(rest, dict) and rest else session.metrics
    )
    if metrics:
        return metrics
    has_data = bool(_given_name(session)) or session.state is not None or bool(_extra_data(session))
    return {} if has_data else None


def _extra_data(session: Session) -> JSONObject:
    return {k: v for k, v in (session.extra or {}).items() if k not in _NOT_SESSION_DATA}


def _given_name(session: Session) -> str:
    """The title, unless it is the name derived on import (then Agno stored no name)."""
    extra = session.extra
    if extra and extra.get(DERIVED_NAME) == session.title:
        return ""
    return session.title


def session_data(session: Session) -> JSONObject | None:
    """The whole Agno `session_data` dict, as the workflow detail shows it."""
    data: JSONObject = dict(_extra_data(session))
    name = _given_name(session)
    if name:
        data["session_name"] = name
    if session.state is not None:
        data["session_state"] = session.state
    metrics = session_metrics(session)
    if metrics:
        data["session_metrics"] = metrics
    return data or None


def _total_tokens(metrics: JSONObject | None) -> Any:
    return metrics.get("total_tokens") if metrics else None


def _metadata(session: Session) -> Any:
    metadata = session.metadata
    if session.type == "workflow":
        return metadata or {}  # a `WorkflowSession` never holds null metadata
    if session.type != "agent" or not isinstance(session.component_data, dict):
        return metadata
    sdk = session.component_data.get("sdk") or session.component_data.get("framework")
    if isinstance(sdk, str) and sdk:
        return {**(metadata or {}), "sdk": sdk}
    return metadata


def component_id(session: Session, *, fallback: str | None = "") -> str | None:
    """The component id; `""` when unknown, so Agno clients can still tell the session's type."""
    return session.component_id if session.component_id is not None else fallback


def to_session_item(session: Session) -> JSONObject:
    """`SessionSchema` (a list item), nulls left out; it always names its component."""
    body: JSONObject = {"session_id": session.id}
    if session.title is not None:
        body["session_name"] = session.title
    if session.state is not None:
        body["session_state"] = session.state
    body["created_at"] = iso_z(session.created_at)
    body["updated_at"] = iso_z(session.updated_at)
    body["session_type"] = session.type
    body["user_id"] = session.user_id
    body[COMPONENT_KEYS[session.type]] = component_id(session)
    if session.summary is not None:
        body["session_summary"] = to_agno_summary(session.summary)
    metrics = session_metrics(session)
    if metrics:
        body["metrics"] = metrics
        if metrics.get("total_tokens") is not None:
            body["total_tokens"] = metrics["total_tokens"]
    metadata = _metadata(session)
    if metadata is not None:
        body["metadata"] = metadata
    return body


def to_session_detail(
    session: Session,
    chat: list[JSONObject],
    *,
    as_type: str | None = None,
    with_nulls: bool = False,
    fallback_component: str | None = "",
) -> JSONObject:
    """The detail schema of `as_type` (default: the session's type).

    GET and POST leave nulls out; rename and PATCH send every key. Read as another type than
    its own (AgentOS does not check), a session has none of that type's component id or data,
    and no name derived by another type's rule.
    """
    kind = as_type or session.type
    own = kind == session.type
    metrics = session_metrics(session)
    created = iso_z(session.created_at)
    updated = iso_z(session.updated_at) or created
    cid = component_id(session, fallback=fallback_component) if own else None
    data = session.component_data if own else None
    name = session.title if own else _given_name(session)
    body: JSONObject
    if kind == "agent":
        body = {
            "user_id": session.user_id,
            "agent_session_id": session.id,
            "session_id": session.id,
            "session_name": name,
            "session_summary": to_agno_summary(session.summary),
            "session_state": session.state,
            "agent_id": cid,
            "total_tokens": _total_tokens(metrics),
            "agent_data": data,
            "metrics": metrics,
            "metadata": _metadata(session),
            "chat_history": chat,
            "created_at": created,
            "updated_at": updated,
        }
    elif kind == "team":
        body = {
            "session_id": session.id,
            "session_name": name,
            "user_id": session.user_id,
            "team_id": cid,
            "session_summary": to_agno_summary(session.summary),
            "session_state": session.state,
            "metrics": metrics,
            "team_data": data,
            "metadata": session.metadata,
            "chat_history": chat,
            "created_at": created,
            "updated_at": updated,
            "total_tokens": _total_tokens(metrics),
        }
    else:
        # `workflow_name` is not stored by Agno (no column holds it): AgentOS reads it as null
        body = {
            "user_id": session.user_id,
            "workflow_id": cid,
            "workflow_name": None,
            "session_id": session.id,
            "session_name": name,
            # a `WorkflowSession` turns null session_data, workflow_data and metadata into {}
            "session_data": session_data(session) or {},
            "session_state": session.state,
            "workflow_data": data or {},
            "metadata": session.metadata or {},
            "created_at": created,
            "updated_at": updated,
        }
    return body if with_nulls else without_nulls(body)


# --- from Agno --------------------------------------------------------------------------------


def summary_from_agno(raw: Any) -> Summary:
    """An Agno summary dict: `summary` is required, `topics` and `updated_at` (ISO) optional."""
    if not isinstance(raw, dict) or not isinstance(raw.get("summary"), str):
        raise InvalidRequest("summary must be an object with a string 'summary'", param="summary")
    topics = raw.get("topics") or []
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        raise InvalidRequest("summary.topics must be a list of strings", param="summary")
    updated: datetime | None = None
    if raw.get("updated_at") is not None:
        try:
            updated = datetime.fromisoformat(str(raw["updated_at"]).replace("Z", "+00:00"))
        except ValueError:
            raise InvalidRequest(
                "summary.updated_at must be an ISO-8601 time", param="summary"
            ) from None
    extra = {k: v for k, v in raw.items() if k not in ("summary", "topics", "updated_at")}
    return Summary(text=raw["summary"], topics=topics, updated_at=updated, extra=extra)


def new_session_from_create(
    body: JSONObject, session_type: SessionType, *, user_id: str | None
) -> NewSession:
    """`CreateSessionRequest` as a new session of `session_type`."""
    key = COMPONENT_KEYS[session_type]
    cid = body.get(key) or next((body[k] for k in COMPONENT_KEYS.values() if body.get(k)), None)
    return NewSession(
        id=body.get("session_id") or None,
        user_id=user_id,
        type=session_type,
        component_id=cid,
        title=body.get("session_name"),
        state=body.get("session_state"),
        metadata=body.get("metadata"),
    )


def patch_from_update(body: JSONObject) -> SessionPatch:
    """`UpdateSessionRequest`: only the fields sent (and not null) change; state is replaced."""
    fields: dict[str, Any] = {}
    if body.get("session_name") is not None:
        fields["title"] = body["session_name"]
    if body.get("session_state") is not None:
        fields["state"] = body["session_state"]
    if body.get("metadata") is not None:
        fields["metadata"] = body["metadata"]
    if body.get("summary") is not None:
        fields["summary"] = summary_from_agno(body["summary"])
    return SessionPatch(**fields)


def session_from_agno_row(row: JSONObject) -> tuple[NewSession, JSONObject]:
    """An `agno_sessions` row as a new session, plus the raw session_metrics to keep.

    Used by the importer: ids, owner, timestamps and every JSON column are carried over.
    """
    kind = str(row.get("session_type") or "")
    if kind not in COMPONENT_KEYS:
        kind = next((k for k, key in COMPONENT_KEYS.items() if row.get(key)), "agent")
    data = row.get("session_data") or {}
    data = data if isinstance(data, dict) else {}
    extra = {k: v for k, v in data.items() if k not in _SESSION_DATA_OWN}
    _, rest = split_metrics(data.get("session_metrics"))
    if rest:
        extra[_METRICS_REST] = rest
    summary = row.get("summary")
    component_data = row.get(DATA_KEYS[kind])
    new = NewSession(
        id=str(row["session_id"]),
        user_id=row.get("user_id") or None,
        type=kind,
        component_id=row.get(COMPONENT_KEYS[kind]) or None,
        title=data.get("session_name") or None,
        summary=summary_from_agno(summary) if isinstance(summary, dict) else None,
        state=data.get("session_state") if isinstance(data.get("session_state"), dict) else None,
        metadata=row.get("metadata") if isinstance(row.get("metadata"), dict) else None,
        component_data=component_data if isinstance(component_data, dict) else None,
        extra=extra or None,
        created_at=from_epoch(row.get("created_at")),
    )
    metrics = data.get("session_metrics")
    return new, metrics if isinstance(metrics, dict) else {}
