"""`AsyncClient`: the asyncio SDK, the same calls as `Client` sent over `httpx.AsyncClient`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Literal, TypeVar, Unpack

import httpx

from convostore.client import _core as core
from convostore.client.types import (
    ApiKey,
    AppendedMessages,
    Deleted,
    EvidenceFilters,
    EvidenceHit,
    Health,
    ImportResult,
    Memory,
    MemoryChanges,
    MemoryFields,
    MemoryFilters,
    Message,
    MessageFilters,
    Page,
    Run,
    SearchFilters,
    SearchResult,
    Session,
    SessionChanges,
    SessionFields,
    SessionFilters,
    SessionItem,
    UserErasure,
)
from convostore.models import KeyRole, NewMessage, NewRun, NewSession

T = TypeVar("T")


class AsyncClient:
    """A convostore server's native API, over `httpx.AsyncClient`; use it with `async with`.

    `api_key` defaults to `CONVOSTORE_API_KEY` and `base_url` to `CONVOSTORE_BASE_URL`, then to
    the `http_client`'s own base URL, then to `http://127.0.0.1:8080`. Pass `transport` to route
    requests elsewhere (a mock, or an ASGI app), or a ready `http_client` (its own timeout and
    transport then apply, and closing this client leaves it open).

    Nothing is retried unless `max_retries` is set; then reads, and appends or runs that carry
    an `idempotency_key`, are resent after a connection error or timeout, never other writes.
    """

    def __init__(
        self,
        base_url: str | httpx.URL | None = None,
        api_key: str | None = None,
        *,
        timeout: float | httpx.Timeout | None = core.DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        headers: Mapping[str, str] | None = None,
        max_retries: int = 0,
    ) -> None:
        if http_client is not None and transport is not None:
            raise ValueError("pass either transport or http_client, not both")
        own_base = str(http_client.base_url) if http_client is not None else ""
        self._config = core.Config.resolve(base_url, api_key, headers, max_retries, own_base)
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=timeout, transport=transport)

    @property
    def base_url(self) -> str:
        return self._config.base_url

    async def aclose(self) -> None:
        """Close the connection pool (not an `http_client` passed in). Safe to call twice."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _send(self, call: core.Call[T]) -> T:
        request = self._http.build_request(
            call.method,
            self._config.url(call.path),
            params=call.params,
            json=call.json,
            headers={**self._config.headers, **call.headers},
        )
        attempt = 0
        while True:
            try:
                response = await self._http.send(request)
            except httpx.RequestError as error:
                if not call.retryable or attempt >= self._config.max_retries:
                    raise core.connection_error(error) from error
                await asyncio.sleep(core.retry_delay(attempt))
                attempt += 1
                continue
            return core.result(call, response)

    # --- health and sessions ------------------------------------------------------------------

    async def health(self) -> Health:
        """Liveness; a server that cannot reach its database answers `status="degraded"`."""
        return await self._send(core.health())

    async def create_session(self, **fields: Unpack[SessionFields]) -> Session:
        return await self._send(core.create_session(fields))

    async def get_session(self, session_id: str, *, include_messages: int = 0) -> Session:
        """A session; with `include_messages=N`, also its first N messages in `messages`."""
        return await self._send(core.get_session(session_id, include_messages))

    async def update_session(self, session_id: str, **changes: Unpack[SessionChanges]) -> Session:
        """Change only the fields given (PATCH)."""
        return await self._send(core.update_session(session_id, changes))

    async def delete_session(self, session_id: str) -> Deleted:
        return await self._send(core.delete_session(session_id))

    async def list_sessions(self, **filters: Unpack[SessionFilters]) -> Page[SessionItem]:
        return await self._send(core.list_sessions(filters))

    async def iter_sessions(self, **filters: Unpack[SessionFilters]) -> AsyncIterator[SessionItem]:
        """Every matching session, fetching page after page (`limit` sets the page size)."""
        params: Mapping[str, Any] | None = filters
        while params is not None:
            page = await self._send(core.list_sessions(params))
            for item in page.data:
                yield item
            params = core.next_cursor_filters(params, page)

    # --- messages and runs --------------------------------------------------------------------

    async def append_messages(
        self,
        session_id: str,
        messages: Sequence[NewMessage | Mapping[str, Any]],
        *,
        idempotency_key: str | None = None,
        create_if_missing: bool | None = None,
        session: NewSession | SessionFields | None = None,
    ) -> AppendedMessages:
        """Append messages in order. A retry with the same `idempotency_key` stores nothing
        again and returns the first answer. `session=` values create a missing session."""
        return await self._send(
            core.append_messages(
                session_id,
                messages,
                idempotency_key=idempotency_key,
                create_if_missing=create_if_missing,
                session=session,
            )
        )

    async def list_messages(
        self, session_id: str, **filters: Unpack[MessageFilters]
    ) -> Page[Message]:
        return await self._send(core.list_messages(session_id, filters))

    async def iter_messages(
        self, session_id: str, **filters: Unpack[MessageFilters]
    ) -> AsyncIterator[Message]:
        """Every message in `seq` order (or reversed with `order="desc"`), page after page."""
        params: Mapping[str, Any] | None = filters
        while params is not None:
            page = await self._send(core.list_messages(session_id, params))
            for item in page.data:
                yield item
            params = core.next_message_filters(params, page)

    async def record_run(
        self,
        session_id: str,
        run: NewRun | Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
        create_if_missing: bool | None = None,
        session: NewSession | SessionFields | None = None,
    ) -> Run:
        """Record a run with the messages it produced, as one write."""
        return await self._send(
            core.record_run(
                session_id,
                run,
                idempotency_key=idempotency_key,
                create_if_missing=create_if_missing,
                session=session,
            )
        )

    async def list_runs(
        self,
        session_id: str,
        *,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        status: str | Sequence[str] | None = None,
    ) -> list[Run]:
        return await self._send(core.list_runs(session_id, created_after, created_before, status))

    async def get_run(self, session_id: str, run_id: str) -> Run:
        """A run with its messages."""
        return await self._send(core.get_run(session_id, run_id))

    async def delete_user(self, user_id: str) -> UserErasure:
        """Erase every session, run, message and memory of one end user."""
        return await self._send(core.delete_user(user_id))

    # --- memories -----------------------------------------------------------------------------

    async def create_memory(self, memory: str, **fields: Unpack[MemoryFields]) -> Memory:
        return await self._send(core.create_memory(memory, fields))

    async def get_memory(self, memory_id: str) -> Memory:
        return await self._send(core.get_memory(memory_id))

    async def replace_memory(
        self, memory_id: str, memory: str, **fields: Unpack[MemoryChanges]
    ) -> Memory:
        """Replace a memory whole: fields left out take their defaults."""
        return await self._send(core.replace_memory(memory_id, memory, fields))

    async def delete_memory(self, memory_id: str) -> Deleted:
        return await self._send(core.delete_memory(memory_id))

    async def list_memories(self, **filters: Unpack[MemoryFilters]) -> Page[Memory]:
        return await self._send(core.list_memories(filters))

    async def iter_memories(self, **filters: Unpack[MemoryFilters]) -> AsyncIterator[Memory]:
        params: Mapping[str, Any] | None = filters
        while params is not None:
            page = await self._send(core.list_memories(params))
            for item in page.data:
                yield item
            params = core.next_cursor_filters(params, page)

    # --- evidence -----------------------------------------------------------------------------

    async def find_evidence(
        self, source_id: str, **filters: Unpack[EvidenceFilters]
    ) -> Page[EvidenceHit]:
        """Messages that cited `source_id`, whose cited span overlaps `[start, end]` seconds."""
        return await self._send(core.find_evidence(source_id, filters))

    async def iter_evidence(
        self, source_id: str, **filters: Unpack[EvidenceFilters]
    ) -> AsyncIterator[EvidenceHit]:
        params: Mapping[str, Any] | None = filters
        while params is not None:
            page = await self._send(core.find_evidence(source_id, params))
            for hit in page.data:
                yield hit
            params = core.next_cursor_filters(params, page)

    # --- search -------------------------------------------------------------------------------

    async def search(self, q: str, **filters: Unpack[SearchFilters]) -> Page[SearchResult]:
        """Full-text search of titles, summaries, memories, messages, reasoning and cited text,
        best first. A page may hold fewer than `limit` results while `has_more` is true."""
        return await self._send(core.search(q, filters))

    async def iter_search(
        self, q: str, **filters: Unpack[SearchFilters]
    ) -> AsyncIterator[SearchResult]:
        """Every result of `search`, following `next_cursor` for as long as `has_more` holds."""
        params: Mapping[str, Any] | None = filters
        while params is not None:
            page = await self._send(core.search(q, params))
            for result in page.data:
                yield result
            params = core.next_cursor_filters(params, page)

    # --- import ---------------------------------------------------------------------------------

    async def import_memories_ai(
        self,
        sessions: Sequence[Any],
        *,
        unique_id: str | None = None,
        on_conflict: Literal["skip", "replace"] = "skip",
    ) -> ImportResult:
        """Store saved memories.ai `get_session_detail` answers (or their `data`) for one
        `unique_id`. Importing the same documents again writes nothing new."""
        return await self._send(core.import_memories_ai(sessions, unique_id, on_conflict))

    # --- API keys (admin) ---------------------------------------------------------------------

    async def create_key(
        self,
        role: KeyRole,
        *,
        user_id: str | None = None,
        name: str | None = None,
        tenant: str | None = None,
    ) -> ApiKey:
        """A new key; its secret is in `.key`, shown this once."""
        return await self._send(core.create_key(role, user_id, name, tenant))

    async def list_keys(self) -> list[ApiKey]:
        return await self._send(core.list_keys())

    async def revoke_key(self, key_id: str) -> ApiKey:
        return await self._send(core.revoke_key(key_id))
