"""Wire shapes of the native API: request bodies, documented responses, and the pure functions
that turn domain values into response JSON (no pydantic on the hot read path).

Timestamps are left as `datetime` values: the response renderer writes them as RFC 3339 in UTC
with a `Z` (`2026-11-21T01:42:20.123456Z`), in C, which is much cheaper than formatting them here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from convostore.models import (
    MAX_BATCH_CEILING,
    ApiKey,
    EvidenceRef,
    KeyRole,
    Memory,
    MemorySource,
    Message,
    Metrics,
    NewMessage,
    NewRun,
    NewSession,
    Run,
    Session,
    SessionType,
    Summary,
    Thinking,
    UserErasure,
)

# --- requests ---------------------------------------------------------------------------------


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateSessionBody(NewSession):
    """`POST /v1/sessions`. Every field is optional; the id is generated when absent."""


class AppendMessagesBody(Body):
    messages: list[NewMessage] = Field(
        min_length=1,
        max_length=MAX_BATCH_CEILING,
        description="1 to 1,000 messages (CONVOSTORE_MAX_BATCH), in order",
    )
    create_if_missing: bool = Field(
        False, description="create the session (with `session` values) if it does not exist"
    )
    session: NewSession | None = Field(
        None, description="values for a session created by `create_if_missing`"
    )


class RecordRunBody(NewRun):
    """`POST /v1/sessions/{id}/runs`: a run and the messages it produced."""

    create_if_missing: bool = False
    session: NewSession | None = None


class CreateKeyBody(Body):
    role: KeyRole
    user_id: str | None = Field(None, description="confine the key to one end user")
    name: str | None = None
    tenant: str | None = Field(None, description="defaults to the caller's tenant")


class MemoryBody(Body):
    id: str | None = None
    user_id: str | None = None
    memory: str
    topics: list[str] = Field(default_factory=list)
    agent_id: str | None = None
    team_id: str | None = None
    source: MemorySource | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


# --- documented responses ---------------------------------------------------------------------


class SessionItemOut(BaseModel):
    object: Literal["session"] = "session"
    id: str
    user_id: str
    type: SessionType
    component_id: str | None
    title: str
    message_count: int
    run_count: int
    metrics: Metrics
    created_at: str
    updated_at: str
    last_message_at: str | None


class SessionOut(SessionItemOut):
    summary: Summary | None
    state: dict[str, Any] | None
    metadata: dict[str, Any] | None
    component_data: dict[str, Any] | None
    extra: dict[str, Any] | None


class SessionListOut(BaseModel):
    object: Literal["list"] = "list"
    data: list[SessionItemOut]
    first_id: str | None
    last_id: str | None
    has_more: bool
    next_cursor: str | None
    total_count: int | None = Field(None, description="only with include_total=true")


class MessageOut(BaseModel):
    object: Literal["message"] = "message"
    session_id: str
    seq: int
    id: str
    run_id: str | None
    role: str
    content: str
    thinkings: list[Thinking]
    refs: list[EvidenceRef]
    tool_calls: list[dict[str, Any]]
    metrics: Metrics
    from_history: bool
    extra: dict[str, Any]
    created_at: str


class MessageListOut(BaseModel):
    object: Literal["list"] = "list"
    data: list[MessageOut]
    first_id: str | None
    last_id: str | None
    has_more: bool
    next_cursor: str | None


class SessionDetailOut(SessionOut):
    messages: MessageListOut | None = Field(None, description="with include_messages=N")


class RunOut(BaseModel):
    object: Literal["run"] = "run"
    session_id: str
    id: str
    index: int
    parent_run_id: str | None
    component_id: str | None
    user_id: str
    status: str
    input: str | None
    content: Any
    metrics: Metrics
    extra: dict[str, Any]
    created_at: str
    updated_at: str
    messages: list[MessageOut] | None = None


class RunListOut(BaseModel):
    object: Literal["list"] = "list"
    data: list[RunOut]


class DeletedOut(BaseModel):
    object: str
    id: str
    deleted: bool


class ErasureOut(BaseModel):
    object: Literal["user.erasure"] = "user.erasure"
    user_id: str
    deleted: dict[str, int]


class KeyOut(BaseModel):
    object: Literal["api_key"] = "api_key"
    id: str
    tenant: str
    role: KeyRole
    user_id: str | None
    name: str | None
    created_at: str
    revoked_at: str | None
    key: str | None = Field(None, description="the secret; present only in the create response")


class MemoryOut(BaseModel):
    object: Literal["memory"] = "memory"
    id: str
    user_id: str
    memory: str
    topics: list[str]
    agent_id: str | None
    team_id: str | None
    source: MemorySource | None
    extra: dict[str, Any]
    created_at: str
    updated_at: str


class ErrorBody(BaseModel):
    type: str
    message: str
    param: str | None = None


class ErrorOut(BaseModel):
    error: ErrorBody


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut} for status in (400, 401, 403, 404, 409, 413, 422)
}

# --- domain -> JSON ---------------------------------------------------------------------------


def session_item_json(s: Session) -> dict[str, Any]:
    return {
        "object": "session",
        "id": s.id,
        "user_id": s.user_id,
        "type": s.type,
        "component_id": s.component_id,
        "title": s.title,
        "message_count": s.message_count,
        "run_count": s.run_count,
        "metrics": s.metrics,
        "created_at": s.created_at,
        "updated_at": s.updated_at,
        "last_message_at": s.last_message_at,
    }


def session_json(s: Session) -> dict[str, Any]:
    out = session_item_json(s)
    out["summary"] = s.summary.model_dump(mode="json") if s.summary else None
    out["state"] = s.state
    out["metadata"] = s.metadata
    out["component_data"] = s.component_data
    out["extra"] = s.extra
    return out


def message_json(m: Message) -> dict[str, Any]:
    return {
        "object": "message",
        "session_id": m.session_id,
        "seq": m.seq,
        "id": m.id,
        "run_id": m.run_id,
        "role": m.role,
        "content": m.content,
        "thinkings": m.thinkings,  # domain values, written as their fields (json_wire)
        "refs": m.refs,
        "tool_calls": m.tool_calls,
        "metrics": m.metrics,
        "from_history": m.from_history,
        "extra": m.extra,
        "created_at": m.created_at,
    }


def list_json(
    items: list[dict[str, Any]], has_more: bool, next_cursor: str | None
) -> dict[str, Any]:
    return {
        "object": "list",
        "data": items,
        "first_id": str(items[0]["id"]) if items else None,
        "last_id": str(items[-1]["id"]) if items else None,
        "has_more": has_more,
        "next_cursor": next_cursor,
    }


def run_json(r: Run, messages: list[Message] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "object": "run",
        "session_id": r.session_id,
        "id": r.id,
        "index": r.index,
        "parent_run_id": r.parent_run_id,
        "component_id": r.component_id,
        "user_id": r.user_id,
        "status": r.status,
        "input": r.input,
        "content": r.content,
        "metrics": r.metrics,
        "extra": r.extra,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
    }
    if messages is not None:
        out["messages"] = [message_json(m) for m in messages]
    return out


def erasure_json(e: UserErasure) -> dict[str, Any]:
    return {
        "object": "user.erasure",
        "user_id": e.user_id,
        "deleted": {
            "sessions": e.sessions,
            "runs": e.runs,
            "messages": e.messages,
            "memories": e.memories,
        },
    }


def key_json(k: ApiKey, secret: str | None = None) -> dict[str, Any]:
    out = {
        "object": "api_key",
        "id": k.id,
        "tenant": k.tenant_id,
        "role": k.role,
        "user_id": k.user_id,
        "name": k.name,
        "created_at": k.created_at,
        "revoked_at": k.revoked_at,
    }
    if secret is not None:
        out["key"] = secret
    return out


def memory_json(m: Memory) -> dict[str, Any]:
    return {
        "object": "memory",
        "id": m.id,
        "user_id": m.user_id,
        "memory": m.memory,
        "topics": m.topics,
        "agent_id": m.agent_id,
        "team_id": m.team_id,
        "source": m.source.model_dump() if m.source else None,
        "extra": m.extra,
        "created_at": m.created_at,
        "updated_at": m.updated_at,
    }
