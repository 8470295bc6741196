"""The rules of convostore, shared by every surface.

`SessionService` scopes every call to its caller (`Principal`): a tenant sees only its rows, a
read key cannot write, and a user-scoped key acts only on its one end user's sessions (another
user's session is "not found", never "forbidden", so ids do not leak). It enforces the limits,
generates ids, and turns idempotency keys into claims the store checks inside the transaction.
It knows nothing of HTTP or SQL.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Hashable
from typing import Any, Literal, ParamSpec, TypeVar

from convostore.config import Limits
from convostore.derived_cache import DerivedCache
from convostore.errors import Conflict, InvalidRequest, NotFound, PermissionDenied
from convostore.ids import new_id, utcnow
from convostore.models import (
    EvidenceHit,
    EvidenceQuery,
    Memory,
    MemoryQuery,
    Message,
    MessageQuery,
    NewMemory,
    NewMessage,
    NewRun,
    NewSession,
    Page,
    Principal,
    Run,
    RunQuery,
    SearchHit,
    SearchQuery,
    Session,
    SessionPatch,
    SessionQuery,
    UserErasure,
    UserMemoryStats,
)
from convostore.rules import describes_components, request_hash
from convostore.storage.base import (
    Appended,
    AppendRequest,
    IdempotencyClaim,
    SessionBundle,
    Store,
)
from convostore.validation import (
    check_batch,
    check_id,
    check_int64,
    check_json,
    check_limit,
    check_messages,
    check_metrics,
    check_ref,
    check_text,
)

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")
MAX_SEARCH_PAGE = 100
_SESSION_JSON_FIELDS = ("state", "metadata", "component_data", "extra")
# What a total does not depend on: everything else in a SessionQuery is a filter.
_PAGING_FIELDS = {"sort", "order", "limit", "after", "offset", "include_total", "brief"}


def _changes_sessions(method: Callable[P, R]) -> Callable[P, R]:
    """Refresh the caller tenant's cached totals once the wrapped write is done (or failed)."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        finally:
            service = args[0]
            principal = args[1] if len(args) > 1 else kwargs["principal"]
            assert isinstance(service, SessionService) and isinstance(principal, Principal)
            service.derived_values.changed(principal.tenant_id)

    return wrapper


def require_write(principal: Principal) -> None:
    if not principal.can_write():
        raise PermissionDenied("this API key is read-only")


def _require_in_scope(principal: Principal, session: Session) -> None:
    """A user-scoped caller handing over another user's session (which it cannot have read)."""
    if principal.user_id is not None and session.user_id != principal.user_id:
        raise NotFound(f"session {session.id!r} not found", param="session_id")


def require_admin(principal: Principal) -> None:
    if principal.role != "admin":
        raise PermissionDenied("this operation needs an admin key")


class SessionService:
    def __init__(
        self,
        store: Store,
        limits: Limits | None = None,
        *,
        derived_values: DerivedCache | None = None,
    ) -> None:
        self.store = store
        self.limits = limits or Limits()
        # totals and component lists; every write to a tenant's sessions here refreshes them
        self.derived_values = derived_values if derived_values is not None else DerivedCache()

    def _total(self, tenant_id: str, query: SessionQuery) -> int:
        filters = query.model_dump_json(exclude=_PAGING_FIELDS)
        return self.derived(
            tenant_id, ("total", filters), lambda: self.store.count_sessions(tenant_id, query)
        )

    def derived(self, tenant_id: str, key: Hashable, compute: Callable[[], T]) -> T:
        """A value computed over many of the tenant's sessions, cached briefly (`derived_cache`)."""
        return self.derived_values.get(tenant_id, key, compute)

    # --- scoping helpers ----------------------------------------------------------------------

    def _owner(self, principal: Principal, requested: str | None) -> str:
        """The end user a write is for: the key's own user, or the requested one, or "default"."""
        if principal.user_id is not None:
            if requested is not None and requested != principal.user_id:
                raise PermissionDenied(
                    f"this API key may act only for user {principal.user_id!r}", param="user_id"
                )
            return principal.user_id
        if requested is not None:
            check_id(requested, self.limits, "user_id")
        return requested or "default"

    def _filter_user(self, principal: Principal, requested: str | None) -> str | None:
        """The user a read is confined to: a scoped key's user overrides any requested one."""
        if principal.user_id is not None:
            return principal.user_id
        check_ref(requested, "user_id")
        return requested

    # --- sessions -----------------------------------------------------------------------------

    def _check_session_fields(self, values: NewSession | SessionPatch) -> None:
        check_text(values.title, self.limits.max_title_chars, "title")
        if values.component_id is not None:
            check_id(values.component_id, self.limits, "component_id")
        for name in _SESSION_JSON_FIELDS:
            check_json(getattr(values, name), self.limits, name)
        check_json(values.summary, self.limits, "summary")

    def _prepare_new(self, principal: Principal, new: NewSession) -> NewSession:
        self._check_session_fields(new)
        if new.id is not None:
            check_id(new.id, self.limits, "id")
        return new.model_copy(update={"user_id": self._owner(principal, new.user_id)})

    @_changes_sessions
    def create_session(self, principal: Principal, new: NewSession) -> Session:
        require_write(principal)
        new = self._prepare_new(principal, new)
        trusted = describes_components(principal)
        if new.id is not None:
            return self.store.create_session(
                principal.tenant_id, new, session_id=new.id, trusted=trusted
            )
        for _ in range(3):  # a generated id can only collide across processes, and rarely
            try:
                return self.store.create_session(
                    principal.tenant_id, new, session_id=new_id(), trusted=trusted
                )
            except Conflict:
                continue
        raise Conflict("could not allocate a session id; retry the request")

    def get_session(self, principal: Principal, session_id: str) -> Session:
        check_ref(session_id, "session_id")
        session = self.store.get_session(
            principal.tenant_id, session_id, scope_user=principal.user_id
        )
        if session is None:
            raise NotFound(f"session {session_id!r} not found", param="session_id")
        return session

    @_changes_sessions
    def update_session(self, principal: Principal, session_id: str, patch: SessionPatch) -> Session:
        require_write(principal)
        check_ref(session_id, "session_id")
        self._check_session_fields(patch)
        fields: dict[str, Any] = {name: getattr(patch, name) for name in patch.model_fields_set}
        if "title" in fields and fields["title"] is None:
            fields["title"] = ""
        if not fields:
            return self.get_session(principal, session_id)
        if "component_id" in fields or "component_data" in fields:
            fields["component_trusted"] = describes_components(principal)
        session = self.store.update_session(
            principal.tenant_id, session_id, fields, scope_user=principal.user_id
        )
        if session is None:
            raise NotFound(f"session {session_id!r} not found", param="session_id")
        return session

    @_changes_sessions
    def delete_sessions(self, principal: Principal, session_ids: list[str]) -> int:
        """Delete sessions with their runs and messages; returns how many existed."""
        require_write(principal)
        check_batch(len(session_ids), self.limits, "session_ids")
        check_ref(session_ids, "session_ids")
        return self.store.delete_sessions(
            principal.tenant_id, session_ids, scope_user=principal.user_id
        )

    def list_sessions(
        self, principal: Principal, query: SessionQuery, *, budgeted: bool = False
    ) -> Page[Session]:
        """A page of sessions; `budgeted`: a page of whole sessions that may end early once it
        holds the page byte budget (`has_more` stays true), for lists sent a page at a time."""
        check_limit(query.limit, self.limits.max_page_size)
        check_text(query.q, self.limits.max_query_chars, "q")
        if query.offset is not None and query.offset < 0:
            raise InvalidRequest("offset must not be negative", param="offset")
        check_int64(query.offset, "offset")
        check_ref(query.component_id, "component_id")
        user_id = self._filter_user(principal, query.user_id)
        scoped = query
        if user_id != query.user_id or query.include_total:
            scoped = query.model_copy(update={"user_id": user_id, "include_total": False})
        max_bytes = self.limits.max_page_bytes if budgeted else None
        page = self.store.list_sessions(principal.tenant_id, scoped, max_bytes=max_bytes)
        if query.include_total:
            page.total = self._total(principal.tenant_id, scoped)
        return page

    @_changes_sessions
    def delete_user(self, principal: Principal, user_id: str) -> UserErasure:
        """Erase every session, run, message and memory of one end user, atomically."""
        require_write(principal)
        if principal.user_id is not None and principal.user_id != user_id:
            raise NotFound(f"user {user_id!r} not found", param="user_id")
        check_id(user_id, self.limits, "user_id")
        return self.store.delete_user(principal.tenant_id, user_id)

    @_changes_sessions
    def import_sessions(
        self,
        principal: Principal,
        owner: str,
        bundles: list[SessionBundle],
        *,
        on_conflict: Literal["skip", "replace"] = "skip",
    ) -> list[SessionBundle]:
        """Store complete sessions of one end user (`owner`) as another system kept them (ids,
        seqs and timestamps as given); the bundles written. A session id already used by
        another user of the tenant is a conflict: an import never skips into, or replaces,
        someone else's session."""
        require_write(principal)
        if principal.user_id is not None and principal.user_id != owner:
            raise PermissionDenied("a user-scoped key imports only its own user's sessions")
        tenant_id = principal.tenant_id
        for bundle in bundles:  # the store refuses these too; here they get a clear message
            current = self.store.get_session(tenant_id, bundle.session.id)
            if current is not None and current.user_id != owner:
                raise Conflict(
                    f"session {bundle.session.id!r} already exists for another user",
                    param="session_id",
                )
        self.store.ensure_tenant(tenant_id)
        return self.store.import_sessions(tenant_id, bundles, on_conflict=on_conflict)

    # --- messages and runs --------------------------------------------------------------------

    def _claim(
        self, key: str | None, scope: str, payload: Callable[[], Any]
    ) -> IdempotencyClaim | None:
        """The claim for an Idempotency-Key; the request is dumped and hashed only if one came."""
        if key is None:
            return None
        if not key or len(key) > 255 or not key.isprintable():
            raise InvalidRequest(
                "Idempotency-Key must be 1 to 255 printable characters", param="Idempotency-Key"
            )
        return IdempotencyClaim(key=key, scope=scope, request_hash=request_hash(payload()))

    @_changes_sessions
    def append_messages(
        self,
        principal: Principal,
        session_id: str,
        messages: list[NewMessage],
        *,
        idempotency_key: str | None = None,
        create_if_missing: NewSession | None = None,
    ) -> Appended:
        require_write(principal)
        check_id(session_id, self.limits, "session_id")
        if not messages:
            raise InvalidRequest("messages must hold at least one message", param="messages")
        check_batch(len(messages), self.limits)
        check_messages(messages, self.limits)
        create = self._prepare_new(principal, create_if_missing) if create_if_missing else None

        def payload() -> dict[str, Any]:
            return {
                "messages": [m.model_dump(mode="json") for m in messages],
                "create": create.model_dump(mode="json") if create else None,
            }

        request = AppendRequest(
            session_id=session_id,
            messages=messages,
            scope_user=principal.user_id,
            create=create,
            create_trusted=describes_components(principal),
            idempotency=self._claim(idempotency_key, f"messages:{session_id}", payload),
            max_title_chars=self.limits.max_title_chars,
        )
        return self.store.append(principal.tenant_id, request)

    @_changes_sessions
    def record_run(
        self,
        principal: Principal,
        session_id: str,
        run: NewRun,
        *,
        idempotency_key: str | None = None,
        create_if_missing: NewSession | None = None,
    ) -> Appended:
        require_write(principal)
        check_id(session_id, self.limits, "session_id")
        for name in ("id", "parent_run_id", "component_id"):
            value = getattr(run, name)
            if value is not None:
                check_id(value, self.limits, name)
        check_text(run.status, 32, "status")
        check_text(run.input, self.limits.max_content_chars, "input")
        check_json(run.content, self.limits, "content")
        check_json(run.extra, self.limits, "extra")
        check_json(run.metrics, self.limits, "metrics")
        if run.metrics:
            check_metrics(run.metrics, "metrics")
        check_batch(len(run.messages), self.limits)
        check_messages(run.messages, self.limits)
        create = self._prepare_new(principal, create_if_missing) if create_if_missing else None

        def payload() -> dict[str, Any]:
            return {
                "run": run.model_dump(mode="json"),
                "create": create.model_dump(mode="json") if create else None,
            }

        request = AppendRequest(
            session_id=session_id,
            messages=run.messages,
            run=run,
            scope_user=principal.user_id,
            create=create,
            create_trusted=describes_components(principal),
            idempotency=self._claim(idempotency_key, f"runs:{session_id}", payload),
            max_title_chars=self.limits.max_title_chars,
        )
        return self.store.append(principal.tenant_id, request)

    def list_messages(
        self, principal: Principal, session_id: str, query: MessageQuery
    ) -> Page[Message]:
        return self._messages(principal, session_id, query, session_read=False)

    def messages_of(
        self, principal: Principal, session: Session, query: MessageQuery
    ) -> Page[Message]:
        """`list_messages` of a session this caller has just read with `get_session`: the store
        is not asked again whether it exists (one query less on every session detail)."""
        _require_in_scope(principal, session)
        return self._messages(principal, session.id, query, session_read=True)

    def all_messages_of(
        self,
        principal: Principal,
        session: Session,
        *,
        with_refs: bool = True,
        run_ids: list[str] | None = None,
    ) -> list[Message]:
        """Every message of a session this caller has just read (or of the runs `run_ids`), in
        `seq` order, read a page at a time so that none is ever left out (`with_refs=False`:
        without evidence refs)."""
        out: list[Message] = []
        after: int | None = 0
        while after is not None:
            chunk, after = self.messages_after(
                principal, session, after, with_refs=with_refs, run_ids=run_ids
            )
            out.extend(chunk)
        return out

    def messages_after(
        self,
        principal: Principal,
        session: Session,
        after: int,
        *,
        with_refs: bool = True,
        run_ids: list[str] | None = None,
    ) -> tuple[list[Message], int | None]:
        """The next page of `all_messages_of`: the messages after `seq` `after` (a page as large
        as a page's size and byte budget allow), and the `seq` to continue after, None when none
        follow. For answers that stream a whole conversation a page at a time."""
        query = MessageQuery(
            after=after,
            limit=self.limits.max_message_page_size,
            with_refs=with_refs,
            run_ids=run_ids,
        )
        page = self.messages_of(principal, session, query)
        if not page.has_more or not page.items:
            return page.items, None
        return page.items, page.items[-1].seq

    def _messages(
        self, principal: Principal, session_id: str, query: MessageQuery, *, session_read: bool
    ) -> Page[Message]:
        check_limit(query.limit, self.limits.max_message_page_size)
        check_ref(session_id, "session_id")
        check_int64(query.after, "after")
        check_int64(query.before, "before")
        check_ref(query.run_ids, "run_id")
        page = self.store.list_messages(
            principal.tenant_id,
            session_id,
            query,
            scope_user=principal.user_id,
            session_read=session_read,
            max_bytes=self.limits.max_page_bytes,
        )
        if page is None:
            raise NotFound(f"session {session_id!r} not found", param="session_id")
        return page

    def list_runs(self, principal: Principal, session_id: str, query: RunQuery) -> list[Run]:
        return self._runs(principal, session_id, query, session_read=False)

    def runs_of(self, principal: Principal, session: Session, query: RunQuery) -> list[Run]:
        """`list_runs` of a session this caller has just read with `get_session` (see
        `messages_of`)."""
        _require_in_scope(principal, session)
        return self._runs(principal, session.id, query, session_read=True)

    def _runs(
        self, principal: Principal, session_id: str, query: RunQuery, *, session_read: bool
    ) -> list[Run]:
        check_ref(session_id, "session_id")
        check_ref(query.statuses, "status")
        found = self.store.list_runs(
            principal.tenant_id,
            session_id,
            query,
            scope_user=principal.user_id,
            session_read=session_read,
        )
        if found is None:
            raise NotFound(f"session {session_id!r} not found", param="session_id")
        return found

    def run_page(
        self,
        principal: Principal,
        session_id: str,
        query: RunQuery,
        *,
        after: Run | None = None,
        session: Session | None = None,
    ) -> Page[Run]:
        """The runs of `list_runs` after `after`, a page at a time (up to a page's size and byte
        budget), for answers that stream them. Given the `session` this caller has just read, the
        store is not asked again whether it exists."""
        if session is not None:
            _require_in_scope(principal, session)
        check_ref(session_id, "session_id")
        check_ref(query.statuses, "status")
        page = self.store.run_page(
            principal.tenant_id,
            session_id,
            query,
            after=after,
            limit=self.limits.max_page_size,
            max_bytes=self.limits.max_page_bytes,
            scope_user=principal.user_id,
            session_read=session is not None,
        )
        if page is None:
            raise NotFound(f"session {session_id!r} not found", param="session_id")
        return page

    def get_run(self, principal: Principal, session_id: str, run_id: str) -> Run:
        check_ref(session_id, "session_id")
        check_ref(run_id, "run_id")
        run = self.store.get_run(
            principal.tenant_id, session_id, run_id, scope_user=principal.user_id
        )
        if run is None:
            self.get_session(principal, session_id)  # raises if the session is the missing part
            raise NotFound(f"run {run_id!r} not found in session {session_id!r}", param="run_id")
        return run

    # --- evidence -----------------------------------------------------------------------------

    def find_evidence(self, principal: Principal, query: EvidenceQuery) -> Page[EvidenceHit]:
        """Citations of one source whose span overlaps `[start, end]`, in conversation order."""
        check_limit(query.limit, self.limits.max_page_size)
        if not query.source_id:
            raise InvalidRequest("source_id must not be empty", param="source_id")
        check_ref(query.source_id, "source_id")
        check_ref(query.session_id, "session_id")
        check_ref(query.after, "after")
        for name in ("start", "end"):
            value = getattr(query, name)
            if value is not None and not math.isfinite(value):
                raise InvalidRequest(f"{name} must be a finite number of seconds", param=name)
        if query.start is not None and query.end is not None and query.start > query.end:
            raise InvalidRequest("start must not be after end", param="start")
        return self.store.find_evidence(
            principal.tenant_id,
            query,
            scope_user=principal.user_id,
            max_bytes=self.limits.max_page_bytes,
        )

    # --- search -------------------------------------------------------------------------------

    def search(self, principal: Principal, query: SearchQuery) -> Page[SearchHit]:
        """Texts holding every clause of `q`, best first; a scoped key finds only its user's."""
        check_limit(query.limit, min(MAX_SEARCH_PAGE, self.limits.max_page_size))
        check_text(query.q, self.limits.max_query_chars, "q")
        for name in ("component_id", "source_id", "after"):
            check_ref(getattr(query, name), name)
        for name in ("start", "end"):
            value = getattr(query, name)
            if value is not None and not math.isfinite(value):
                raise InvalidRequest(f"{name} must be a finite number of seconds", param=name)
            if value is not None and query.source_id is None:
                raise InvalidRequest(
                    f"{name} needs source_id (the video it is a time in)", param=name
                )
        if query.start is not None and query.end is not None and query.start > query.end:
            raise InvalidRequest("start must not be after end", param="start")
        user_id = self._filter_user(principal, query.user_id)
        if user_id != query.user_id:
            query = query.model_copy(update={"user_id": user_id})
        return self.store.search(principal.tenant_id, query)

    # --- memories -----------------------------------------------------------------------------

    def _check_memory(self, new: NewMemory) -> None:
        check_text(new.memory, self.limits.max_memory_chars, "memory")
        if not new.memory.strip():
            raise InvalidRequest("memory must not be empty", param="memory")
        check_json(new.topics, self.limits, "topics")
        check_json(new.extra, self.limits, "extra")
        if new.source is not None:
            check_json(new.source.model_dump(mode="json"), self.limits, "source")
        for name in ("agent_id", "team_id"):
            value = getattr(new, name)
            if value is not None:
                check_id(value, self.limits, name)

    def create_memory(self, principal: Principal, new: NewMemory) -> Memory:
        require_write(principal)
        self._check_memory(new)
        if new.id is not None:
            check_id(new.id, self.limits, "id")
        now = utcnow()
        memory = Memory(
            id=new.id or new_id(),
            user_id=self._owner(principal, new.user_id),
            memory=new.memory,
            topics=new.topics,
            agent_id=new.agent_id,
            team_id=new.team_id,
            source=new.source,
            extra=new.extra,
            created_at=new.created_at or now,
            updated_at=new.updated_at or now,
        )
        return self.store.create_memory(principal.tenant_id, memory)

    def get_memory(self, principal: Principal, memory_id: str) -> Memory:
        check_ref(memory_id, "memory_id")
        memory = self.store.get_memory(principal.tenant_id, memory_id, scope_user=principal.user_id)
        if memory is None:
            raise NotFound(f"memory {memory_id!r} not found", param="memory_id")
        return memory

    def replace_memory(self, principal: Principal, memory_id: str, new: NewMemory) -> Memory:
        """A full replace: fields left out take their defaults, as in Agno's PATCH."""
        require_write(principal)
        self._check_memory(new)
        current = self.get_memory(principal, memory_id)
        memory = Memory(
            id=memory_id,
            user_id=self._owner(principal, new.user_id or current.user_id),
            memory=new.memory,
            topics=new.topics,
            agent_id=new.agent_id,
            team_id=new.team_id,
            source=new.source,
            extra=new.extra,
            created_at=current.created_at,
            updated_at=new.updated_at or utcnow(),
        )
        replaced = self.store.replace_memory(
            principal.tenant_id, memory, scope_user=principal.user_id
        )
        if replaced is None:
            raise NotFound(f"memory {memory_id!r} not found", param="memory_id")
        return replaced

    def put_memory(self, principal: Principal, memory_id: str, new: NewMemory) -> Memory:
        """Replace the memory, or create it under `memory_id` when there is none (a full
        replace that creates, as Agno's PATCH does). An id that exists but is not the caller's
        to see is NotFound: it is never created over."""
        try:
            return self.replace_memory(principal, memory_id, new)
        except NotFound:
            if principal.user_id is not None and self.store.get_memory(
                principal.tenant_id, memory_id
            ):
                raise
        return self.create_memory(principal, new.model_copy(update={"id": memory_id}))

    def delete_memories(
        self, principal: Principal, memory_ids: list[str], *, user_id: str | None = None
    ) -> int:
        require_write(principal)
        check_batch(len(memory_ids), self.limits, "memory_ids")
        check_ref(memory_ids, "memory_ids")
        return self.store.delete_memories(
            principal.tenant_id, memory_ids, scope_user=self._filter_user(principal, user_id)
        )

    def list_memories(
        self, principal: Principal, query: MemoryQuery, *, budgeted: bool = False
    ) -> Page[Memory]:
        """A page of memories; `budgeted`: a keyset page that may end early once it holds the
        page byte budget (`has_more` stays true), for lists paged by cursor."""
        check_limit(query.limit, self.limits.max_page_size)
        check_text(query.search, self.limits.max_query_chars, "search")
        check_int64(query.offset, "offset")
        for name in ("agent_id", "team_id", "topics"):
            check_ref(getattr(query, name), name)
        scoped = query.model_copy(update={"user_id": self._filter_user(principal, query.user_id)})
        max_bytes = self.limits.max_page_bytes if budgeted else None
        return self.store.list_memories(principal.tenant_id, scoped, max_bytes=max_bytes)

    def memory_topics(self, principal: Principal, user_id: str | None = None) -> list[str]:
        return self.store.memory_topics(
            principal.tenant_id, user_id=self._filter_user(principal, user_id)
        )

    def user_memory_stats(
        self, principal: Principal, *, user_id: str | None, limit: int, offset: int
    ) -> tuple[list[UserMemoryStats], int]:
        check_limit(limit, self.limits.max_page_size)
        check_int64(offset, "offset")
        return self.store.user_memory_stats(
            principal.tenant_id,
            user_id=self._filter_user(principal, user_id),
            limit=limit,
            offset=offset,
        )
