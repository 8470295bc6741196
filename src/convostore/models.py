"""Domain values: what a conversation is, independent of HTTP and SQL.

These are plain pydantic models. Storage assigns ids, sequence numbers and timestamps; the service
applies the rules; every HTTP surface maps these values to and from its own wire shapes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["system", "user", "assistant", "tool"]
SessionType = Literal["agent", "team", "workflow"]
KeyRole = Literal["admin", "write", "read"]
SortField = Literal["updated_at", "created_at", "title"]
SortOrder = Literal["asc", "desc"]

JSONObject = dict[str, Any]
Metrics = dict[str, int | float]
# The signed 64-bit range: metric values lie within it, and session totals stop at its edges.
MIN_INT64 = -(2**63)
MAX_INT64 = 2**63 - 1

ROLES: tuple[str, ...] = ("system", "user", "assistant", "tool")
SESSION_TYPES: tuple[str, ...] = ("agent", "team", "workflow")
KEY_ROLES: tuple[str, ...] = ("admin", "write", "read")
# The most messages one request may carry whatever the configured batch limit: a body with more is
# refused while it is validated, before the rest of its messages are (the service then applies the
# configured limit, 1,000 by default).
MAX_BATCH_CEILING = 10_000


class Value(BaseModel):
    """Base for domain values: strict about unknown fields so typos surface as errors, and
    about numbers: NaN and ±Infinity (which lenient JSON parsers accept, and which no JSON
    column can hold) are refused in every typed number field."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


# --- evidence ---------------------------------------------------------------------------------


class EvidenceSource(Value):
    """What was cited: a video, an audio track, an image or a document."""

    kind: str = "video"
    id: str
    name: str | None = None
    duration: float | None = None
    extra: JSONObject = Field(default_factory=dict)


class EvidenceItem(Value):
    """One timed piece of a source: a keyframe, a visual or audio segment, a transcript line."""

    kind: str
    start: float
    end: float | None = None
    text: str | None = None
    extra: JSONObject = Field(default_factory=dict)


class EvidenceRef(Value):
    """The evidence one message cited from one source (memories.ai `refs[]`, generalised)."""

    source: EvidenceSource
    items: list[EvidenceItem] = Field(default_factory=list)


class EvidenceQuery(Value):
    """Evidence cited from one source, optionally within one session and a time range.

    A citation matches when its span `[start, end]` overlaps the requested one; either bound
    may be left open. Hits come in conversation order, `(session_id, seq, ref_index)`. Bounds
    that are not finite are let through here and refused by the service, with its own message.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=True)

    source_id: str
    session_id: str | None = None
    start: float | None = None
    end: float | None = None
    limit: int = 50
    after: str | None = None


class EvidenceHit(Value):
    """One message's citation of a source, with the cited `ref` itself (names, items, text)."""

    session_id: str
    seq: int
    message_id: str | None = None
    ref_index: int
    source_kind: str
    source_id: str
    start: float | None = None
    end: float | None = None
    ref: EvidenceRef | None = None


class Thinking(Value):
    """One reasoning step of an assistant message."""

    title: str = ""
    content: str = ""
    extra: JSONObject = Field(default_factory=dict)


# --- messages and runs ------------------------------------------------------------------------


class NewMessage(Value):
    """A message as a client sends it; storage adds `seq`, and `id`/`created_at` when absent."""

    id: str | None = None
    run_id: str | None = None
    role: Role
    content: str = ""
    thinkings: list[Thinking] = Field(default_factory=list)
    refs: list[EvidenceRef] = Field(default_factory=list)
    tool_calls: list[JSONObject] = Field(default_factory=list)
    metrics: Metrics = Field(default_factory=dict)
    from_history: bool = False
    extra: JSONObject = Field(default_factory=dict)
    created_at: datetime | None = None


class Message(Value):
    """A stored message. `seq` is dense per session and is the order of the conversation."""

    session_id: str
    seq: int
    id: str
    run_id: str | None = None
    role: Role
    content: str
    thinkings: list[Thinking] = Field(default_factory=list)
    refs: list[EvidenceRef] = Field(default_factory=list)
    tool_calls: list[JSONObject] = Field(default_factory=list)
    metrics: Metrics = Field(default_factory=dict)
    from_history: bool = False
    extra: JSONObject = Field(default_factory=dict)
    created_at: datetime


class NewRun(Value):
    """One turn of an agent as a client records it, with the messages it produced."""

    id: str | None = None
    parent_run_id: str | None = None
    component_id: str | None = None
    status: str = "COMPLETED"
    input: str | None = None
    content: Any = None
    metrics: Metrics | None = None
    extra: JSONObject = Field(default_factory=dict)
    created_at: datetime | None = None
    messages: list[NewMessage] = Field(default_factory=list, max_length=MAX_BATCH_CEILING)


class Run(Value):
    """A stored run. `index` orders the runs of one session."""

    session_id: str
    id: str
    index: int
    parent_run_id: str | None = None
    component_id: str | None = None
    user_id: str
    status: str
    input: str | None = None
    content: Any = None
    metrics: Metrics = Field(default_factory=dict)
    extra: JSONObject = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime


# --- sessions ---------------------------------------------------------------------------------


class Summary(Value):
    """A condensed account of a session, and how far into it the summary reaches."""

    text: str
    topics: list[str] = Field(default_factory=list)
    updated_at: datetime | None = None
    covers_through_seq: int | None = None
    extra: JSONObject = Field(default_factory=dict)


class NewSession(Value):
    """A session as a client creates it; everything is optional."""

    id: str | None = None
    user_id: str | None = None
    type: SessionType = "agent"
    component_id: str | None = None
    title: str | None = None
    summary: Summary | None = None
    state: JSONObject | None = None
    metadata: JSONObject | None = None
    component_data: JSONObject | None = None
    extra: JSONObject | None = None
    created_at: datetime | None = None


class SessionPatch(Value):
    """A partial update; only the fields a client set (model_fields_set) are written."""

    title: str | None = None
    summary: Summary | None = None
    state: JSONObject | None = None
    metadata: JSONObject | None = None
    component_data: JSONObject | None = None
    component_id: str | None = None
    extra: JSONObject | None = None


class Session(Value):
    """A stored session with its derived fields (title, counts, metrics roll-up)."""

    id: str
    user_id: str
    type: SessionType
    component_id: str | None = None
    title: str = ""
    summary: Summary | None = None
    state: JSONObject | None = None
    metadata: JSONObject | None = None
    component_data: JSONObject | None = None
    extra: JSONObject | None = None
    metrics: Metrics = Field(default_factory=dict)
    message_count: int = 0
    run_count: int = 0
    created_at: datetime
    updated_at: datetime
    last_message_at: datetime | None = None


class SessionQuery(Value):
    """How to list sessions: filters, one sort, and either a keyset cursor or an offset."""

    user_id: str | None = None
    type: SessionType | None = None
    component_id: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    q: str | None = None
    sort: SortField = "updated_at"
    order: SortOrder = "desc"
    limit: int = 20
    after: str | None = None
    offset: int | None = None
    include_total: bool = False
    # brief items leave out summary, state, metadata, component data and extra (they read as None)
    brief: bool = False


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list; `next_cursor` continues it, `total` is set only when asked for."""

    items: list[T]
    has_more: bool
    next_cursor: str | None = None
    total: int | None = None


class MessageQuery(Value):
    """A window of a session's messages by `seq` (exclusive bounds)."""

    after: int | None = None
    before: int | None = None
    limit: int = 100
    run_ids: list[str] | None = None
    order: SortOrder = "asc"
    # False: leave the evidence refs out (read as []), for surfaces that never show them
    with_refs: bool = True


class RunQuery(Value):
    """Filters for a session's runs."""

    created_after: datetime | None = None
    created_before: datetime | None = None
    statuses: list[str] | None = None
    # True: only runs made inside another run (a team's members); False: only top-level runs
    with_parent: bool | None = None


# --- memories ---------------------------------------------------------------------------------


class MemorySource(Value):
    """Where a memory was learned: a session and the messages in it."""

    session_id: str | None = None
    seqs: list[int] = Field(default_factory=list)


class NewMemory(Value):
    id: str | None = None
    user_id: str | None = None
    memory: str
    topics: list[str] = Field(default_factory=list)
    agent_id: str | None = None
    team_id: str | None = None
    source: MemorySource | None = None
    extra: JSONObject = Field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None


class Memory(Value):
    """A fact about an end user that an agent keeps between sessions."""

    id: str
    user_id: str
    memory: str
    topics: list[str] = Field(default_factory=list)
    agent_id: str | None = None
    team_id: str | None = None
    source: MemorySource | None = None
    extra: JSONObject = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime


class MemoryQuery(Value):
    user_id: str | None = None
    agent_id: str | None = None
    team_id: str | None = None
    topics: list[str] | None = None
    search: str | None = None
    sort: Literal["updated_at", "created_at"] = "updated_at"
    order: SortOrder = "desc"
    limit: int = 20
    after: str | None = None
    offset: int | None = None
    include_total: bool = False


class UserMemoryStats(Value):
    user_id: str
    total_memories: int
    last_memory_updated_at: datetime | None = None


# --- tenants and keys -------------------------------------------------------------------------


class ApiKey(Value):
    """An API key's public record; the secret is never stored, only its hash."""

    id: str
    tenant_id: str
    role: KeyRole
    user_id: str | None = None
    name: str | None = None
    created_at: datetime
    revoked_at: datetime | None = None


class NewApiKey(Value):
    """A freshly created key: the only moment the secret exists in clear."""

    key: str
    record: ApiKey


class Principal(Value):
    """Who is calling: a tenant, a role, and optionally one end user the caller is confined to."""

    tenant_id: str
    role: KeyRole
    user_id: str | None = None
    key_id: str | None = None

    def can_write(self) -> bool:
        return self.role in ("admin", "write")


class Component(Value):
    """An agent, team or workflow that stored sessions name, as the most recently updated
    session that may describe it describes it (see `components`)."""

    id: str
    type: SessionType
    data: JSONObject | None = None
    session_count: int = 0


class UserErasure(Value):
    """What `delete_user` removed."""

    user_id: str
    sessions: int
    runs: int
    messages: int
    memories: int


# --- search -----------------------------------------------------------------------------------

SearchKind = Literal["title", "summary", "memory", "content", "thinking", "evidence"]
# Best first: where the words were found ranks a hit (see docs/search.md).
SEARCH_KINDS: tuple[SearchKind, ...] = (
    "title",
    "summary",
    "memory",
    "content",
    "thinking",
    "evidence",
)


class SearchQuery(Value):
    """Full-text search: `q` in the texts of `kinds`, narrowed by the filters.

    `source_id` keeps message hits whose message cites that source; with `start`/`end`, only
    those whose citation of it overlaps `[start, end]` (closed: touching counts). Bounds that are
    not finite are let through here and refused by the service, with its own message.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=True)

    q: str
    kinds: list[SearchKind] | None = None
    user_id: str | None = None
    component_id: str | None = None
    type: SessionType | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    source_id: str | None = None
    start: float | None = None
    end: float | None = None
    limit: int = 20
    after: str | None = None


class SearchEvidence(Value):
    """The cited item an evidence hit's words were found in: where to jump in the video."""

    source_id: str
    source_kind: str
    item_kind: str
    start: float
    end: float | None = None


class SearchHit(Value):
    """One text that matched: a message's content, reasoning or evidence, a session's title or
    summary, or a memory. `snippet` is HTML-escaped with the matched words in `<mark>`."""

    kind: SearchKind
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
