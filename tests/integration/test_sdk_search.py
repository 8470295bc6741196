"""`search` and `iter_search` of both SDK clients against the in-process app, on every backend."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient

from convostore import AsyncClient, BadRequestError, Client
from convostore.auth import DEFAULT_TENANT, KeyService
from convostore.client.types import SearchEvidence, SearchResult
from tests.conftest import LOCAL_URL

T0 = datetime(2025, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def sdk(client: TestClient) -> Client:
    return Client(http_client=client)


def seed(sdk: Client) -> str:
    """Two sessions (alice's agent, bob's team) in 2025 and one of alice's memories, stored
    now, all saying "invoice"; returns the memory's id."""
    sdk.create_session(
        id="inv-1",
        user_id="alice",
        component_id="billing-agent",
        title="Invoice review",
        summary={"text": "Alice asked about an invoice."},
        created_at=T0,
    )
    sdk.append_messages(
        "inv-1",
        [
            {"role": "user", "content": "Where is the March invoice?", "created_at": T0 + HOUR},
            {
                "role": "assistant",
                "content": "The invoice was revised & resent <today>.",
                "thinkings": [{"title": "Lookup", "content": "compare the invoice totals"}],
                "refs": [
                    {
                        "source": {"kind": "video", "id": "VID-1", "name": "desk.mp4"},
                        "items": [
                            {
                                "kind": "audio_ts",
                                "start": 30,
                                "end": 36,
                                "text": "the invoice is on the desk",
                            }
                        ],
                    }
                ],
                "created_at": T0 + 2 * HOUR,
            },
        ],
    )
    sdk.append_messages(
        "inv-2",
        [{"role": "user", "content": "Send bob the invoice please", "created_at": T0 + 25 * HOUR}],
        session={
            "user_id": "bob",
            "type": "team",
            "component_id": "finance-team",
            "title": "Quarterly numbers",
            "created_at": T0 + 24 * HOUR,
        },
    )
    memory = sdk.create_memory(
        "Alice wants every invoice by email", user_id="alice", agent_id="billing-agent"
    )
    return memory.id


def where(results: list[SearchResult]) -> set[tuple[str, str | None, int | None]]:
    return {(r.kind, r.session_id, r.seq) for r in results}


def seed_pages(sdk: Client, sessions: int) -> None:
    for i in range(sessions):
        sdk.append_messages(
            f"z{i:02}",
            [{"role": "user", "content": f"a zebra, number {i}"}],
            session={"user_id": "zoe"},
        )


def test_search_finds_every_kind_best_first(sdk: Client) -> None:
    memory_id = seed(sdk)
    page = sdk.search("invoice")
    assert (page.has_more, page.next_cursor) == (False, None)
    assert where(page.data) == {
        ("title", "inv-1", None),
        ("summary", "inv-1", None),
        ("memory", None, None),
        ("content", "inv-1", 1),
        ("content", "inv-1", 2),
        ("content", "inv-2", 1),
        ("thinking", "inv-1", 2),
        ("evidence", "inv-1", 2),
    }
    scores = [r.score for r in page.data]
    assert scores == sorted(scores, reverse=True)
    assert (page.data[0].kind, page.data[0].score) == ("title", 1.0)

    by_place = {(r.kind, r.session_id, r.seq): r for r in page.data}
    answer = by_place[("content", "inv-1", 2)]
    assert (answer.role, answer.user_id, answer.session_title) == (
        "assistant",
        "alice",
        "Invoice review",
    )
    assert answer.message_id is not None and answer.memory_id is None
    assert answer.created_at == T0 + 2 * HOUR and answer.evidence is None
    assert "The <mark>invoice</mark> was revised &amp; resent &lt;today&gt;." in answer.snippet

    cited = by_place[("evidence", "inv-1", 2)]
    assert cited.evidence == SearchEvidence(
        source_id="VID-1", source_kind="video", item_kind="audio_ts", start=30, end=36
    )
    assert "the <mark>invoice</mark> is on the desk" in cited.snippet
    assert cited.message_id == answer.message_id

    memory = by_place[("memory", None, None)]
    assert (memory.memory_id, memory.user_id, memory.session_title) == (
        memory_id,
        "alice",
        None,
    )
    assert memory.created_at > T0 + 25 * HOUR

    # the query language travels intact: a quoted phrase, a prefix
    assert where(sdk.search('"invoice totals"').data) == {("thinking", "inv-1", 2)}
    assert where(sdk.search("quarter*").data) == {("title", "inv-2", None)}


def test_search_filters_reach_the_server(sdk: Client) -> None:
    seed(sdk)
    kinds = sdk.search("invoice", kind=["thinking", "evidence"]).data
    assert where(kinds) == {("thinking", "inv-1", 2), ("evidence", "inv-1", 2)}
    assert {r.kind for r in sdk.search("invoice", kind="memory").data} == {"memory"}

    assert where(sdk.search("invoice", user_id="bob").data) == {("content", "inv-2", 1)}
    assert where(sdk.search("invoice", type="team").data) == {("content", "inv-2", 1)}
    billing = sdk.search("invoice", component_id="billing-agent").data
    assert {r.session_id for r in billing} == {"inv-1", None}  # None: the memory
    assert "memory" in {r.kind for r in billing}

    window = sdk.search(
        "invoice", created_after=T0 + 1.5 * HOUR, created_before=T0 + 2.5 * HOUR
    ).data
    assert where(window) == {
        ("content", "inv-1", 2),
        ("thinking", "inv-1", 2),
        ("evidence", "inv-1", 2),
    }
    naive = sdk.search(  # taken as UTC
        "invoice", created_after=datetime(2025, 1, 1, 20), created_before=datetime(2025, 1, 2, 12)
    ).data
    assert where(naive) == {("content", "inv-2", 1)}

    cites = sdk.search("invoice", source_id="VID-1").data
    assert {(r.session_id, r.seq) for r in cites} == {("inv-1", 2)}
    touching = sdk.search("invoice", source_id="VID-1", start=36, end=40, kind="evidence")
    assert where(touching.data) == {("evidence", "inv-1", 2)}
    assert sdk.search("invoice", source_id="VID-1", start=37, end=40).data == []
    assert sdk.search("invoice", source_id="VID-2").data == []

    first = sdk.search("invoice", limit=1)
    assert len(first.data) == 1 and first.has_more and first.next_cursor is not None
    second = sdk.search("invoice", limit=1, after=first.next_cursor)
    assert where(second.data).isdisjoint(where(first.data))


def test_iter_search_follows_the_cursor_to_the_end(sdk: Client) -> None:
    seed_pages(sdk, 12)
    hits = list(sdk.iter_search("zebra", limit=5))
    # each session is found by its title (taken from the first message) and by the message
    assert sorted(where(hits)) == sorted(
        {("title", f"z{i:02}", None) for i in range(12)}
        | {("content", f"z{i:02}", 1) for i in range(12)}
    )
    assert len(hits) == 24

    paged: list[SearchResult] = []
    page = sdk.search("zebra", limit=5)
    while True:
        assert len(page.data) <= 5
        paged.extend(page.data)
        if not page.has_more:
            break
        assert page.next_cursor is not None
        page = sdk.search("zebra", limit=5, after=page.next_cursor)
    assert [(r.kind, r.session_id) for r in paged] == [(r.kind, r.session_id) for r in hits]

    contents = list(sdk.iter_search("zebra", kind="content", limit=5, user_id="zoe"))
    assert {r.kind for r in contents} == {"content"} and len(contents) == 12
    assert list(sdk.iter_search("giraffe", limit=5)) == []


def test_search_errors_are_typed(sdk: Client) -> None:
    with pytest.raises(BadRequestError) as raised:
        sdk.search("!!!")
    error = raised.value
    assert (error.status_code, error.type, error.param) == (400, "invalid_request", "q")
    with pytest.raises(BadRequestError) as words:
        sdk.search(" ".join(f"w{i}" for i in range(33)))
    assert words.value.param == "q"
    with pytest.raises(BadRequestError) as cursor:
        sdk.search("invoice", after="not-a-cursor")
    assert cursor.value.param == "after"


def test_a_user_scoped_key_finds_only_its_user(client: TestClient, keys: KeyService) -> None:
    admin = Client(http_client=client, api_key=keys.create(DEFAULT_TENANT, "admin").key)
    seed(admin)
    bob = Client(http_client=client, api_key=keys.create(DEFAULT_TENANT, "read", user_id="bob").key)
    assert where(list(bob.iter_search("invoice"))) == {("content", "inv-2", 1)}


def test_async_client_search_and_iter_search(client: TestClient) -> None:
    seed(Client(http_client=client))
    seed_pages(Client(http_client=client), 7)

    async def main() -> None:
        transport = httpx.ASGITransport(app=client.app)
        async with AsyncClient(LOCAL_URL, transport=transport) as sdk:
            page = await sdk.search("invoice", kind=["thinking", "evidence"], user_id="alice")
            assert where(page.data) == {("thinking", "inv-1", 2), ("evidence", "inv-1", 2)}
            cited = next(r for r in page.data if r.kind == "evidence")
            assert cited.evidence is not None and cited.evidence.start == 30

            window = await sdk.search(
                "invoice", source_id="VID-1", start=36, end=40, created_after=T0 + HOUR
            )
            assert {(r.session_id, r.seq) for r in window.data} == {("inv-1", 2)}

            hits = [r async for r in sdk.iter_search("zebra", limit=3)]
            assert len(hits) == 14 and len(where(hits)) == 14

            with pytest.raises(BadRequestError) as raised:
                await sdk.search("!!!")
            assert (raised.value.status_code, raised.value.param) == (400, "q")

    asyncio.run(main())
