"""Wire shapes of the native API: request bodies, response models, and the functions that turn
domain values into response JSON, compiled from those models (no validation on the hot read path).

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
    SearchHit,
    Session,
    SessionType,
    Summary,
    Thinking,
    UserErasure,
)
from convostore.server.response_encoder import response_encoder

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
# Compiled from the response models above (`response_encoder`): they are the one description of
# each shape, for the OpenAPI document and for the bodies alike.


def _summary_json(summary: Summary | None) -> dict[str, Any] | None:
    return summary.model_dump(mode="json") if summary else None


def _source_json(source: MemorySource | None) -> dict[str, Any] | None:
    return source.model_dump() if source else None


session_item_json = response_encoder(SessionItemOut, Session)
session_json = response_encoder(SessionOut, Session, converted={"summary": _summary_json})
message_json = response_encoder(MessageOut, Message)
memory_json = response_encoder(MemoryOut, Memory, converted={"source": _source_json})
_run_fields = response_encoder(RunOut, Run, left_out=("messages",))
_key_fields = response_encoder(KeyOut, ApiKey, renamed={"tenant": "tenant_id"}, left_out=("key",))


def run_json(r: Run, messages: list[Message] | None = None) -> dict[str, Any]:
    out = _run_fields(r)
    if messages is not None:
        out["messages"] = [message_json(m) for m in messages]
    return out


def key_json(k: ApiKey, secret: str | None = None) -> dict[str, Any]:
    out = _key_fields(k)
    if secret is not None:
        out["key"] = secret
    return out


def erasure_json(e: UserErasure) -> dict[str, Any]:
    deleted = {"sessions": e.sessions, "runs": e.runs, "messages": e.messages}
    deleted["memories"] = e.memories
    return ErasureOut(user_id=e.user_id, deleted=deleted).model_dump()


def list_json(
    items: list[dict[str, Any]], has_more: bool, next_cursor: str | None
) -> dict[str, Any]:
    """The envelope of the `*ListOut` models with cursors (`SessionListOut`, `MessageListOut`)."""
    return {
        "object": "list",
        "data": items,
        "first_id": str(items[0]["id"]) if items else None,
        "last_id": str(items[-1]["id"]) if items else None,
        "has_more": has_more,
        "next_cursor": next_cursor,
    }


def search_result_json(hit: SearchHit) -> dict[str, Any]:
    """A search hit as `GET /v1/search` and `convostore search --json` write it."""
    return {
        "object": "search_result",
        "kind": hit.kind,
        "session_id": hit.session_id,
        "session_title": hit.session_title,
        "seq": hit.seq,
        "message_id": hit.message_id,
        "role": hit.role,
        "memory_id": hit.memory_id,
        "user_id": hit.user_id,
        "created_at": hit.created_at,
        "snippet": hit.snippet,
        "score": hit.score,
        "evidence": hit.evidence.model_dump() if hit.evidence is not None else None,
    }
