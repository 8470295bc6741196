"""The storage contract every backend fulfils.

Every method takes the tenant first and touches only that tenant's rows. `user_id` arguments named
`scope_user` restrict an operation to one end user's sessions (a user-scoped key); a session of
another user behaves exactly as a missing one. Each method is one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from convostore.models import (
    ApiKey,
    Component,
    EvidenceHit,
    EvidenceQuery,
    Memory,
    MemoryQuery,
    Message,
    MessageQuery,
    NewMessage,
    NewRun,
    NewSession,
    Page,
    Run,
    RunQuery,
    SearchHit,
    SearchQuery,
    Session,
    SessionQuery,
    SessionType,
    UserErasure,
    UserMemoryStats,
)


@dataclass(frozen=True)
class IdempotencyClaim:
    """An `Idempotency-Key` and what it was sent with (`scope`: the kind of write and its
    session). A key is its session's: a reuse there with other content is a conflict."""

    key: str
    scope: str
    request_hash: str


@dataclass(frozen=True)
class AppendRequest:
    """Messages to add to one session, optionally as one run, in one transaction."""

    session_id: str
    messages: list[NewMessage]
    run: NewRun | None = None
    scope_user: str | None = None
    create: NewSession | None = None
    # whether the session `create` makes may describe its component to the tenant (components.py)
    create_trusted: bool = True
    idempotency: IdempotencyClaim | None = None
    max_title_chars: int = 1_000


@dataclass
class Appended:
    """What an append stored; `replayed` when an idempotent retry got the first answer back."""

    session_id: str
    messages: list[Message]
    run: Run | None = None
    replayed: bool = False


@dataclass
class SessionBundle:
    """A complete session as it is imported: ids, seqs and timestamps are kept as given."""

    session: Session
    runs: list[Run] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)


class Store(Protocol):
    """Synchronous calls, each one transaction. Where a call runs (event loop, thread) is the
    caller's business: a backend may describe its reads with `storage.placement`."""

    # lifecycle
    def migrate(self, progress: Callable[[int, int], None] | None = None) -> str: ...
    def ping(self) -> bool: ...
    def close(self) -> None: ...

    # tenants and keys
    def ensure_tenant(self, tenant_id: str) -> None: ...
    def create_key(self, record: ApiKey, secret_hash: str) -> None: ...
    def find_key(self, key_id: str) -> tuple[ApiKey, str] | None: ...
    def list_keys(self, tenant_id: str) -> list[ApiKey]: ...
    def revoke_key(self, tenant_id: str, key_id: str) -> ApiKey | None: ...
    def has_keys(self) -> bool: ...
    def erase_keys(self) -> int: ...

    # sessions
    # `trusted`: whether the session may describe its component to the tenant (components.py)
    def create_session(
        self, tenant_id: str, new: NewSession, *, session_id: str, trusted: bool = True
    ) -> Session: ...
    def get_session(
        self, tenant_id: str, session_id: str, *, scope_user: str | None = None
    ) -> Session | None: ...
    def update_session(
        self,
        tenant_id: str,
        session_id: str,
        fields: dict[str, object],
        *,
        scope_user: str | None = None,
    ) -> Session | None: ...
    def delete_sessions(
        self, tenant_id: str, session_ids: list[str], *, scope_user: str | None = None
    ) -> int: ...
    # `max_bytes` cuts a page of whole sessions (no total) as it cuts a page of messages
    def list_sessions(
        self, tenant_id: str, query: SessionQuery, *, max_bytes: int | None = None
    ) -> Page[Session]: ...
    def count_sessions(self, tenant_id: str, query: SessionQuery) -> int: ...
    def delete_user(self, tenant_id: str, user_id: str) -> UserErasure: ...
    def import_sessions(
        self,
        tenant_id: str,
        bundles: list[SessionBundle],
        *,
        on_conflict: Literal["skip", "replace"] = "skip",
    ) -> list[SessionBundle]: ...  # the bundles written

    # messages and runs
    def append(self, tenant_id: str, request: AppendRequest) -> Appended: ...
    # `list_messages`, `list_runs` and `run_page` answer None for a session that is not there
    # (in scope); `session_read=True` says the caller has just read it in scope, so that is not
    # asked again. A page given `max_bytes` ends early once its text and JSON reach that many
    # bytes (after one item at least; `page_budget`), with `has_more` true.
    def list_messages(
        self,
        tenant_id: str,
        session_id: str,
        query: MessageQuery,
        *,
        scope_user: str | None = None,
        session_read: bool = False,
        max_bytes: int | None = None,
    ) -> Page[Message] | None: ...
    def list_runs(
        self,
        tenant_id: str,
        session_id: str,
        query: RunQuery,
        *,
        scope_user: str | None = None,
        session_read: bool = False,
    ) -> list[Run] | None: ...
    def run_page(
        self,
        tenant_id: str,
        session_id: str,
        query: RunQuery,
        *,
        after: Run | None = None,
        limit: int,
        max_bytes: int | None = None,
        scope_user: str | None = None,
        session_read: bool = False,
    ) -> Page[Run] | None: ...
    def get_run(
        self,
        tenant_id: str,
        session_id: str,
        run_id: str,
        *,
        scope_user: str | None = None,
    ) -> Run | None: ...

    # evidence
    def find_evidence(
        self,
        tenant_id: str,
        query: EvidenceQuery,
        *,
        scope_user: str | None = None,
        max_bytes: int | None = None,
    ) -> Page[EvidenceHit]: ...

    # memories
    # search
    def search(self, tenant_id: str, query: SearchQuery) -> Page[SearchHit]: ...

    def create_memory(self, tenant_id: str, memory: Memory) -> Memory: ...
    def get_memory(
        self, tenant_id: str, memory_id: str, *, scope_user: str | None = None
    ) -> Memory | None: ...
    def replace_memory(
        self, tenant_id: str, memory: Memory, *, scope_user: str | None = None
    ) -> Memory | None: ...
    def delete_memories(
        self, tenant_id: str, memory_ids: list[str], *, scope_user: str | None = None
    ) -> int: ...
    # `max_bytes` cuts a keyset page (no offset, no total) as it cuts a page of messages
    def list_memories(
        self, tenant_id: str, query: MemoryQuery, *, max_bytes: int | None = None
    ) -> Page[Memory]: ...
    def memory_topics(self, tenant_id: str, *, user_id: str | None = None) -> list[str]: ...
    def user_memory_stats(
        self, tenant_id: str, *, user_id: str | None, limit: int, offset: int
    ) -> tuple[list[UserMemoryStats], int]: ...

    # components named by sessions
    def list_components(
        self,
        tenant_id: str,
        component_type: SessionType,
        *,
        user_id: str | None = None,
        component_id: str | None = None,
        limit: int = 500,
    ) -> list[Component]: ...
