"""Typed values of the SDK: what the native API returns, and the keyword arguments it takes.

Response models mirror the native JSON (a session item carries `run_count`, a key its `tenant`),
so they are separate from the server's domain models; nested values whose shape is the same on
the wire (`Thinking`, `EvidenceRef`, `Summary`, `MemorySource`) are the domain models themselves.
Fields a newer server adds are ignored rather than rejected, so an older SDK keeps working.
Timestamps arrive as RFC 3339 strings and are exposed as timezone-aware `datetime`s.

Keyword arguments are named exactly like the HTTP API's parameters (`run_id`, `topic`, `status`
are repeatable there, so they take one string or a sequence here).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Generic, TypedDict, TypeVar

from pydantic import BaseModel, ConfigDict

from convostore.models import (
    EvidenceRef,
    KeyRole,
    MemorySource,
    Metrics,
    Role,
    SearchKind,
    SessionType,
    SortField,
    SortOrder,
    Summary,
    Thinking,
)

T = TypeVar("T")


class Model(BaseModel):
    """Base of response models: unknown fields from a newer server are dropped, not errors."""

    model_config = ConfigDict(extra="ignore")


class Health(Model):
    status: str
    database: str
    version: str | None = None


class Page(Model, Generic[T]):
    """One page of a list. Pass `next_cursor` as `after` for the next one, or use `iter_*`."""

    data: list[T]
    first_id: str | None = None
    last_id: str | None = None
    has_more: bool = False
    next_cursor: str | None = None
    total_count: int | None = None


class SessionItem(Model):
    """A session as lists show it: no summary, state or metadata."""

    id: str
    user_id: str
    type: SessionType
    component_id: str | None = None
    title: str = ""
    message_count: int = 0
    run_count: int = 0
    metrics: Metrics = {}
    created_at: datetime
    updated_at: datetime
    last_message_at: datetime | None = None


class Message(Model):
    session_id: str
    seq: int
    id: str
    run_id: str | None = None
    role: Role
    content: str = ""
    thinkings: list[Thinking] = []
    refs: list[EvidenceRef] = []
    tool_calls: list[dict[str, Any]] = []
    metrics: Metrics = {}
    from_history: bool = False
    extra: dict[str, Any] = {}
    created_at: datetime


class Session(SessionItem):
    """A session in full; `messages` holds the first page when `include_messages` asked for it."""

    summary: Summary | None = None
    state: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    component_data: dict[str, Any] | None = None
    extra: dict[str, Any] | None = None
    messages: Page[Message] | None = None


class AppendedMessages(Model):
    """What an append stored; `replayed` is true when an idempotency key matched an earlier one."""

    session_id: str
    messages: list[Message]
    replayed: bool = False


class Run(Model):
    """One turn of an agent; `messages` is present when it was recorded or read by id."""

    session_id: str
    id: str
    index: int
    parent_run_id: str | None = None
    component_id: str | None = None
    user_id: str
    status: str
    input: str | None = None
    content: Any = None
    metrics: Metrics = {}
    extra: dict[str, Any] = {}
    created_at: datetime
    updated_at: datetime
    messages: list[Message] | None = None


class Memory(Model):
    id: str
    user_id: str
    memory: str
    topics: list[str] = []
    agent_id: str | None = None
    team_id: str | None = None
    source: MemorySource | None = None
    extra: dict[str, Any] = {}
    created_at: datetime
    updated_at: datetime


class EvidenceHit(Model):
    """One message's citation of a source, with the cited `ref` (names, items, text)."""

    session_id: str
    seq: int
    message_id: str | None = None
    ref_index: int
    source_kind: str
    source_id: str
    start: float | None = None
    end: float | None = None
    ref: EvidenceRef | None = None


class SearchEvidence(Model):
    """The cited item an `evidence` search result matched: which source, and where in it."""

    source_id: str
    source_kind: str
    item_kind: str
    start: float
    end: float | None = None


class SearchResult(Model):
    """One place the searched words were found. `kind` is a plain string, so that a kind a newer
    server adds does not make a whole page unreadable.

    Message hits (`content`, `thinking`, `evidence`) carry `session_id`, `seq`, `message_id` and
    `role`; `title` and `summary` hits only the session; `memory` hits only `memory_id`.
    `snippet` is HTML: the matched words wrapped in `<mark>`, every other character escaped.
    """

    kind: str
    session_id: str | None = None
    session_title: str | None = None
    seq: int | None = None
    message_id: str | None = None
    role: Role | None = None
    memory_id: str | None = None
    user_id: str
    created_at: datetime
    snippet: str
    score: float
    evidence: SearchEvidence | None = None


class ApiKey(Model):
    """A key's public record. `key`, the secret, is set only in `create_key`'s answer."""

    id: str
    tenant: str
    role: KeyRole
    user_id: str | None = None
    name: str | None = None
    created_at: datetime
    revoked_at: datetime | None = None
    key: str | None = None


class ErasureCounts(Model):
    sessions: int
    runs: int
    messages: int
    memories: int


class UserErasure(Model):
    user_id: str
    deleted: ErasureCounts


class ImportResult(Model):
    """What `import_memories_ai` did: `sessions` read = `imported` + `skipped`."""

    unique_id: str
    sessions: int
    imported: int
    skipped: int
    messages: int
    missing_details: list[str] = []


class Deleted(Model):
    object: str
    id: str
    deleted: bool


# --- keyword arguments ------------------------------------------------------------------------


class SessionChanges(TypedDict, total=False):
    """`update_session`: only the keys given are changed; `None` clears a field."""

    title: str | None
    summary: Summary | Mapping[str, Any] | None
    state: Mapping[str, Any] | None
    metadata: Mapping[str, Any] | None
    component_data: Mapping[str, Any] | None
    component_id: str | None
    extra: Mapping[str, Any] | None


class SessionFields(TypedDict, total=False):
    """`create_session` and `append_messages(session=...)`: every key is optional."""

    id: str
    user_id: str
    type: SessionType
    component_id: str
    title: str
    summary: Summary | Mapping[str, Any]
    state: Mapping[str, Any]
    metadata: Mapping[str, Any]
    component_data: Mapping[str, Any]
    extra: Mapping[str, Any]
    created_at: datetime


class SessionFilters(TypedDict, total=False):
    """`list_sessions` and `iter_sessions`. Naive datetimes are taken as UTC."""

    user_id: str
    type: SessionType
    component_id: str
    created_after: datetime
    created_before: datetime
    updated_after: datetime
    updated_before: datetime
    q: str
    sort: SortField
    order: SortOrder
    limit: int
    after: str
    include_total: bool


class MessageFilters(TypedDict, total=False):
    """`list_messages` and `iter_messages`: a window by `seq` (bounds are exclusive)."""

    after: int
    before: int
    limit: int
    order: SortOrder
    run_id: str | Sequence[str]


class MemoryChanges(TypedDict, total=False):
    """`replace_memory` (a full replace: keys left out take their defaults)."""

    user_id: str
    topics: Sequence[str]
    agent_id: str
    team_id: str
    source: MemorySource | Mapping[str, Any]
    extra: Mapping[str, Any]


class MemoryFields(MemoryChanges, total=False):
    """`create_memory`."""

    id: str


class MemoryFilters(TypedDict, total=False):
    """`list_memories` and `iter_memories`; every `topic` given must match."""

    user_id: str
    agent_id: str
    team_id: str
    topic: str | Sequence[str]
    search: str
    order: SortOrder
    limit: int
    after: str


class EvidenceFilters(TypedDict, total=False):
    """`find_evidence` and `iter_evidence`: citations overlapping `[start, end]` seconds."""

    session_id: str
    start: float
    end: float
    limit: int
    after: str


class SearchFilters(TypedDict, total=False):
    """`search` and `iter_search`. `kind` is one kind or several (sent comma-separated); `start`
    and `end` (seconds) need `source_id`. Naive datetimes are taken as UTC."""

    kind: SearchKind | Sequence[SearchKind]
    user_id: str
    component_id: str
    type: SessionType
    created_after: datetime
    created_before: datetime
    source_id: str
    start: float
    end: float
    limit: int
    after: str


__all__ = [
    "ApiKey",
    "AppendedMessages",
    "Deleted",
    "ErasureCounts",
    "EvidenceFilters",
    "EvidenceHit",
    "Health",
    "ImportResult",
    "Memory",
    "MemoryChanges",
    "MemoryFields",
    "MemoryFilters",
    "Message",
    "MessageFilters",
    "Page",
    "Run",
    "SearchEvidence",
    "SearchFilters",
    "SearchResult",
    "Session",
    "SessionChanges",
    "SessionFields",
    "SessionFilters",
    "SessionItem",
    "UserErasure",
]
