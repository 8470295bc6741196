"""The asyncio SDK driven against the in-process app, on every database backend.

`httpx.ASGITransport` does not run the app's lifespan, so each test borrows the `client` fixture,
whose `TestClient` has already run it (the app's context is in `app.state`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from convostore import (
    AsyncClient,
    AuthenticationError,
    ConflictError,
    ConvostoreConnectionError,
    NotFoundError,
    PermissionDeniedError,
    UnprocessableEntityError,
)
from convostore.auth import DEFAULT_TENANT, KeyService
from convostore.models import NewMessage
from tests.conftest import LOCAL_URL

Scenario = Callable[[AsyncClient], Coroutine[Any, Any, None]]


def run_with(client: TestClient, scenario: Scenario, api_key: str | None = None) -> None:
    async def main() -> None:
        transport = httpx.ASGITransport(app=client.app)
        async with AsyncClient(LOCAL_URL, api_key, transport=transport) as sdk:
            await scenario(sdk)

    asyncio.run(main())


def test_sessions_and_pages(client: TestClient) -> None:
    async def scenario(sdk: AsyncClient) -> None:
        assert (await sdk.health()).status == "ok"
        t0 = datetime(2025, 1, 1, tzinfo=UTC)
        for i in range(45):
            await sdk.create_session(id=f"s{i:02}", created_at=t0 + timedelta(minutes=i))
        seen = [s.id async for s in sdk.iter_sessions(limit=10, sort="created_at")]
        assert seen == [f"s{i:02}" for i in range(44, -1, -1)]
        page = await sdk.list_sessions(limit=10, include_total=True)
        assert (len(page.data), page.has_more, page.total_count) == (10, True, 45)

        changed = await sdk.update_session("s00", title="First", metadata={"k": "v"})
        assert (changed.title, changed.metadata) == ("First", {"k": "v"})
        assert (await sdk.get_session("s00")).created_at == t0
        assert (await sdk.delete_session("s00")).deleted
        with pytest.raises(NotFoundError):
            await sdk.get_session("s00")
        with pytest.raises(ConflictError):
            await sdk.create_session(id="s01")
        with pytest.raises(UnprocessableEntityError):
            await sdk.list_sessions(limit=1000)

    run_with(client, scenario)


def test_messages_runs_and_erasure(client: TestClient) -> None:
    async def scenario(sdk: AsyncClient) -> None:
        batch: list[NewMessage | dict[str, Any]] = [
            NewMessage(role="user", content=f"m{i}") for i in range(1, 8)
        ]
        first = await sdk.append_messages(
            "chat", batch, idempotency_key="k", session={"user_id": "alice"}
        )
        again = await sdk.append_messages(
            "chat", batch, idempotency_key="k", session={"user_id": "alice"}
        )
        assert again.replayed and again.messages == first.messages
        assert [m.seq async for m in sdk.iter_messages("chat", limit=3)] == list(range(1, 8))
        tail = await sdk.list_messages("chat", limit=2, order="desc")
        assert [m.seq for m in tail.data] == [7, 6]

        run = await sdk.record_run(
            "chat", {"id": "r1", "messages": [{"role": "assistant", "content": "done"}]}
        )
        assert run.messages is not None and run.messages[0].seq == 8
        assert [r.id for r in await sdk.list_runs("chat", status="completed")] == ["r1"]
        assert (await sdk.get_run("chat", "r1")).index == 0

        imported = await sdk.import_memories_ai(
            [{"session_id": "606120397242167296", "messages": [{"role": "user", "content": "x"}]}],
            unique_id="alice",
            on_conflict="replace",
        )
        assert (imported.imported, imported.messages) == (1, 1)

        erased = await sdk.delete_user("alice")
        assert (erased.deleted.sessions, erased.deleted.messages) == (2, 9)
        with pytest.raises(NotFoundError):
            await sdk.list_messages("chat")

    run_with(client, scenario)


def test_memories(client: TestClient) -> None:
    async def scenario(sdk: AsyncClient) -> None:
        for i in range(12):
            await sdk.create_memory(f"fact {i}", id=f"m{i:02}", user_id="u", topics=["t"])
        assert len({m.id async for m in sdk.iter_memories(limit=5)}) == 12
        assert len((await sdk.list_memories(topic="t", limit=3)).data) == 3
        replaced = await sdk.replace_memory("m00", "changed", team_id="team-1")
        assert (replaced.memory, replaced.team_id, replaced.topics) == ("changed", "team-1", [])
        assert (await sdk.get_memory("m00")).memory == "changed"
        assert (await sdk.delete_memory("m00")).deleted
        with pytest.raises(NotFoundError):
            await sdk.delete_memory("m00")

    run_with(client, scenario)


def test_keys_and_auth(client: TestClient, keys: KeyService) -> None:
    admin = keys.create(DEFAULT_TENANT, "admin").key
    reader = keys.create(DEFAULT_TENANT, "read").key

    async def as_admin(sdk: AsyncClient) -> None:
        created = await sdk.create_key("read", name="ci")
        assert created.key is not None
        assert created.id in {k.id for k in await sdk.list_keys()}
        assert (await sdk.revoke_key(created.id)).revoked_at is not None

    async def as_reader(sdk: AsyncClient) -> None:
        assert (await sdk.list_sessions()).data == []
        with pytest.raises(PermissionDeniedError):
            await sdk.append_messages("x", [{"role": "user"}], create_if_missing=True)

    async def anonymous(sdk: AsyncClient) -> None:
        with pytest.raises(AuthenticationError):
            await sdk.list_sessions()

    run_with(client, as_admin, admin)
    run_with(client, as_reader, reader)
    run_with(client, anonymous)


def test_connection_errors_and_retries(client: TestClient) -> None:
    class LosesFirstAnswer(httpx.AsyncBaseTransport):
        def __init__(self) -> None:
            self.app = httpx.ASGITransport(app=client.app)
            self.sent = 0

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            self.sent += 1
            answer = await self.app.handle_async_request(request)
            if self.sent == 1:
                raise httpx.RemoteProtocolError("peer closed", request=request)
            return answer

    async def main() -> None:
        flaky = LosesFirstAnswer()
        async with AsyncClient(LOCAL_URL, transport=flaky, max_retries=1) as sdk:
            kept = await sdk.append_messages(
                "chat", [{"role": "user", "content": "hi"}], idempotency_key="k", session={}
            )
            assert kept.replayed and flaky.sent == 2
            flaky.sent = 0
            with pytest.raises(ConvostoreConnectionError):
                await sdk.create_session(id="once")
            assert flaky.sent == 1
        async with AsyncClient("http://127.0.0.1:9", timeout=2) as unreachable:
            with pytest.raises(ConvostoreConnectionError):
                await unreachable.health()

    asyncio.run(main())
