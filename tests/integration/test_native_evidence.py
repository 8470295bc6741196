"""`GET /v1/evidence`: citations of a source by time range, paged, confined to the caller."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from convostore import AsyncClient, Client
from convostore.auth import KeyService
from convostore.config import Settings
from convostore.server import create_app
from convostore.storage import SqlStore
from tests.conftest import LOCAL_URL, bearer

VIDEO = "video-cooking"


def keyframe(start: float, text: str = "") -> dict[str, Any]:
    return {"kind": "keyframe", "start": start, "text": text or None}


def segment(start: float, end: float) -> dict[str, Any]:
    return {"kind": "visual_ts", "start": start, "end": end}


def cite(source_id: str, *items: dict[str, Any], name: str | None = None) -> dict[str, Any]:
    return {"source": {"kind": "video", "id": source_id, "name": name}, "items": list(items)}


def append(
    client: TestClient,
    session_id: str,
    refs: list[dict[str, Any]],
    headers: dict[str, str] | None = None,
    user_id: str = "bob",
) -> None:
    body = {
        "messages": [{"role": "assistant", "content": "see", "refs": refs}],
        "create_if_missing": True,
        "session": {"user_id": user_id},
    }
    response = client.post(f"/v1/sessions/{session_id}/messages", json=body, headers=headers)
    assert response.status_code == 201, response.text


def hits(client: TestClient, headers: dict[str, str] | None = None, **params: Any) -> list[Any]:
    response = client.get("/v1/evidence", params={"source_id": VIDEO, **params}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "list"
    return [(h["session_id"], h["seq"], h["ref_index"]) for h in body["data"]]


@pytest.fixture
def cited(client: TestClient) -> TestClient:
    """s1#1: a keyframe at 30 s; s1#2: segments 100-120 and 140-160 plus another source;
    s2#1: a segment 10-20 and, as its second ref, a keyframe at 500 s."""
    append(client, "s1", [cite(VIDEO, keyframe(30, "the pan heats"), name="Cooking")])
    append(client, "s1", [cite("other-video", keyframe(5)), cite(VIDEO, segment(100, 120))])
    append(client, "s1", [cite(VIDEO, segment(140, 160))])
    append(client, "s2", [cite(VIDEO, segment(10, 20)), cite(VIDEO, keyframe(500))])
    return client


def test_hits_come_in_conversation_order_with_the_cited_ref(cited: TestClient) -> None:
    response = cited.get("/v1/evidence", params={"source_id": VIDEO})
    body = response.json()
    assert [(h["session_id"], h["seq"], h["ref_index"]) for h in body["data"]] == [
        ("s1", 1, 0),
        ("s1", 2, 1),
        ("s1", 3, 0),
        ("s2", 1, 0),
        ("s2", 1, 1),
    ]
    assert body["has_more"] is False and body["next_cursor"] is None
    first = body["data"][0]
    assert first["object"] == "evidence" and first["source_kind"] == "video"
    assert first["start"] == 30 and first["end"] == 30 and first["message_id"]
    assert first["ref"]["source"]["name"] == "Cooking"
    assert first["ref"]["items"][0]["text"] == "the pan heats"
    assert body["data"][1]["ref"]["source"]["id"] == VIDEO  # the cited ref, not the message's first


def test_time_range_overlap(cited: TestClient) -> None:
    # a keyframe (start only) matches a range that contains it, bounds included
    assert hits(cited, start=25, end=35) == [("s1", 1, 0)]
    assert hits(cited, start=30, end=30) == [("s1", 1, 0)]
    assert hits(cited, start=31, end=99) == []
    # a segment matches any range it overlaps, even partly
    assert hits(cited, start=115, end=145) == [("s1", 2, 1), ("s1", 3, 0)]
    assert hits(cited, start=0, end=10) == [("s2", 1, 0)]
    # open-ended ranges
    assert hits(cited, start=150) == [("s1", 3, 0), ("s2", 1, 1)]
    assert hits(cited, end=15) == [("s2", 1, 0)]
    # within one session
    assert hits(cited, session_id="s2") == [("s2", 1, 0), ("s2", 1, 1)]
    assert hits(cited, session_id="s2", start=100) == [("s2", 1, 1)]
    assert hits(cited, source_id="other-video") == [("s1", 2, 0)]
    assert hits(cited, source_id="never-cited") == []


def test_paging_walks_every_hit_once(client: TestClient) -> None:
    for session_id in ("a", "b", "c"):
        for n in range(4):
            append(client, session_id, [cite(VIDEO, keyframe(n)), cite(VIDEO, segment(n, n + 1))])
    seen: list[Any] = []
    after = None
    pages = 0
    while True:
        params: dict[str, Any] = {"source_id": VIDEO, "limit": 5}
        if after:
            params["after"] = after
        body = client.get("/v1/evidence", params=params).json()
        pages += 1
        seen.extend((h["session_id"], h["seq"], h["ref_index"]) for h in body["data"])
        if not body["has_more"]:
            assert body["next_cursor"] is None
            break
        after = body["next_cursor"]
    assert pages == 5
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 24


def test_sdk_iterates_every_hit(cited: TestClient) -> None:
    with Client(http_client=cited) as sdk:
        page = sdk.find_evidence(VIDEO, start=100, limit=1)
        assert [(h.session_id, h.seq) for h in page.data] == [("s1", 2)] and page.has_more
        assert page.data[0].ref is not None and page.data[0].ref.items[0].end == 120
        everything = list(sdk.iter_evidence(VIDEO, limit=2))
        assert [(h.session_id, h.seq, h.ref_index) for h in everything] == [
            ("s1", 1, 0),
            ("s1", 2, 1),
            ("s1", 3, 0),
            ("s2", 1, 0),
            ("s2", 1, 1),
        ]


def test_async_sdk_iterates_every_hit(cited: TestClient) -> None:
    async def main() -> list[Any]:
        transport = httpx.ASGITransport(app=cited.app)
        async with AsyncClient(LOCAL_URL, transport=transport) as sdk:
            page = await sdk.find_evidence(VIDEO, session_id="s2", start=400)
            assert [(h.seq, h.ref_index, h.start) for h in page.data] == [(1, 1, 500.0)]
            return [(h.session_id, h.seq) async for h in sdk.iter_evidence(VIDEO, limit=1)]

    assert asyncio.run(main()) == [("s1", 1), ("s1", 2), ("s1", 3), ("s2", 1), ("s2", 1)]


@pytest.fixture
def keyed(settings: Settings, store: SqlStore, keys: KeyService) -> Iterator[Any]:
    made = {
        "admin": keys.create("acme", "admin").key,
        "read": keys.create("acme", "read").key,
        "alice": keys.create("acme", "write", user_id="alice").key,
        "globex": keys.create("globex", "admin").key,
    }
    with TestClient(create_app(settings, store=store), base_url=LOCAL_URL) as api:
        yield api, {name: bearer(key) for name, key in made.items()}


def test_other_tenants_and_users_see_nothing(keyed: Any) -> None:
    api, headers = keyed
    append(api, "bobs", [cite(VIDEO, keyframe(1))], headers["admin"], user_id="bob")
    append(api, "alices", [cite(VIDEO, keyframe(2))], headers["alice"], user_id="alice")
    assert hits(api, headers["admin"]) == [("alices", 1, 0), ("bobs", 1, 0)]
    assert hits(api, headers["read"]) == [("alices", 1, 0), ("bobs", 1, 0)]
    assert hits(api, headers["alice"]) == [("alices", 1, 0)]
    assert hits(api, headers["alice"], session_id="bobs") == []
    assert hits(api, headers["globex"]) == []
    assert api.get("/v1/evidence", params={"source_id": VIDEO}).status_code == 401


@pytest.mark.parametrize(
    ("params", "status", "param"),
    [
        ({}, 422, None),
        ({"source_id": ""}, 422, None),
        ({"source_id": VIDEO, "limit": 0}, 422, None),
        ({"source_id": VIDEO, "limit": 201}, 422, None),
        ({"source_id": VIDEO, "start": "soon"}, 422, None),
        ({"source_id": VIDEO, "start": "nan"}, 400, "start"),
        ({"source_id": VIDEO, "end": "inf"}, 400, "end"),
        ({"source_id": VIDEO, "start": 10, "end": 5}, 400, "start"),
        ({"source_id": VIDEO, "after": "not-a-cursor"}, 400, "after"),
        ({"source_id": VIDEO, "after": "WyJldmlkZW5jZSIsInMiLCJ4IiwwXQ"}, 400, "after"),
        ({"source_id": "a\x00b"}, 400, "source_id"),
    ],
)
def test_bad_parameters_are_4xx_in_the_native_shape(
    client: TestClient, params: dict[str, Any], status: int, param: str | None
) -> None:
    response = client.get("/v1/evidence", params=params)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["type"] and error["message"]
    if param is not None:
        assert error["param"] == param
