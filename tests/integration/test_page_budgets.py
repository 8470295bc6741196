"""What one request can make the server hold is bounded (`CONVOSTORE_MAX_PAGE_BYTES`).

Cursor-paged lists end early once a page holds the budget (fewer items than `limit`, with
`has_more` and a cursor that continues right after); answers documented as whole (a run with its
messages, a session's runs, memories.ai's session detail) are read and sent a page at a time and
still hold every item, in order. Run on every backend through the HTTP surfaces.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from convostore.config import Settings
from convostore.server.app import create_app
from convostore.storage import SqlStore

BUDGET = 3_000  # each item below holds ~1,000 bytes of text: three make a page
TEXT = "x" * 990


@pytest.fixture
def budgeted(database_url: str, store: SqlStore) -> Iterator[TestClient]:
    settings = Settings(database_url=database_url, max_page_bytes=BUDGET, max_batch=5)
    with TestClient(create_app(settings, store=store)) as client:
        yield client


def _append(client: TestClient, session_id: str, messages: list[dict[str, Any]]) -> None:
    body = {"messages": messages, "create_if_missing": True}
    response = client.post(f"/v1/sessions/{session_id}/messages", json=body)
    assert response.status_code == 201, response.text


def _walk(client: TestClient, path: str, **params: Any) -> tuple[list[dict[str, Any]], int]:
    """Every item of a cursor-paged list, and how many pages it took."""
    items: list[dict[str, Any]] = []
    pages = 0
    after = None
    while True:
        query = {**params, **({"after": after} if after is not None else {})}
        page = client.get(path, params=query).json()
        pages += 1
        items += page["data"]
        if not page["has_more"]:
            assert page["next_cursor"] is None
            return items, pages
        assert page["data"] and page["next_cursor"]
        after = page["next_cursor"]


def test_message_pages_end_at_the_byte_budget(budgeted: TestClient) -> None:
    for first in (0, 4):
        _append(
            budgeted, "s", [{"role": "user", "content": f"{first + n} {TEXT}"} for n in range(4)]
        )
    page = budgeted.get("/v1/sessions/s/messages", params={"limit": 1000}).json()
    assert [m["seq"] for m in page["data"]] == [1, 2, 3]
    assert page["has_more"] and page["next_cursor"] == "3"
    items, pages = _walk(budgeted, "/v1/sessions/s/messages", limit=1000)
    assert [m["seq"] for m in items] == list(range(1, 9)) and pages == 3
    backwards = budgeted.get("/v1/sessions/s/messages", params={"order": "desc"}).json()
    assert [m["seq"] for m in backwards["data"]] == [8, 7, 6]
    detail = budgeted.get("/v1/sessions/s", params={"include_messages": 1000}).json()
    assert [m["seq"] for m in detail["messages"]["data"]] == [1, 2, 3]
    assert detail["messages"]["has_more"] and detail["messages"]["next_cursor"] == "3"


def test_whole_answers_are_streamed_with_every_item(budgeted: TestClient) -> None:
    run = {"id": "r0", "input": "q", "messages": [{"role": "user", "content": TEXT}] * 5}
    response = budgeted.post("/v1/sessions/s/runs", json={**run, "create_if_missing": True})
    assert response.status_code == 201, response.text
    # more messages of the same run than one append (or one page) holds
    _append(budgeted, "s", [{"role": "assistant", "content": TEXT, "run_id": "r0"}] * 5)
    for n in range(1, 8):
        response = budgeted.post("/v1/sessions/s/runs", json={"id": f"r{n}", "input": TEXT})
        assert response.status_code == 201, response.text

    detail = budgeted.get("/v1/sessions/s/runs/r0")
    assert detail.status_code == 200 and "content-length" not in detail.headers  # streamed
    body = orjson.loads(detail.content)
    assert body["id"] == "r0" and [m["seq"] for m in body["messages"]] == list(range(1, 11))
    messages, _ = _walk(budgeted, "/v1/sessions/s/messages")
    assert body["messages"] == messages

    runs = budgeted.get("/v1/sessions/s/runs")
    assert runs.status_code == 200 and "content-length" not in runs.headers
    listed = orjson.loads(runs.content)
    assert [r["id"] for r in listed["data"]] == [f"r{n}" for n in range(8)]
    assert listed["data"][0] == {k: v for k, v in body.items() if k != "messages"}
    assert budgeted.get("/v1/sessions/s/runs", params={"status": "nope"}).json()["data"] == []

    shown = budgeted.get("/serve/api/v1/get_session_detail", params={"sessionId": "s"})
    assert shown.status_code == 200 and "content-length" not in shown.headers
    envelope = orjson.loads(shown.content)
    assert envelope["code"] == "0000" and envelope["data"]["session_id"] == "s"
    assert envelope["data"]["messages"] == [
        {"role": m["role"], "content": m["content"]} for m in messages
    ]
    # a small answer is not streamed
    small = budgeted.get("/v1/sessions/s/runs/r1")
    assert small.json()["messages"] == [] and small.headers["content-length"]


def test_memory_and_evidence_pages_end_at_the_byte_budget(budgeted: TestClient) -> None:
    for n in range(7):
        body = {"id": f"m{n}", "memory": "fact", "topics": ["t"], "extra": {"note": TEXT}}
        assert budgeted.post("/v1/memories", json=body).status_code == 201
    page = budgeted.get("/v1/memories", params={"limit": 200, "order": "asc"}).json()
    assert len(page["data"]) == 3 and page["has_more"]
    memories, pages = _walk(budgeted, "/v1/memories", limit=200, order="asc")
    assert [m["id"] for m in memories] == [f"m{n}" for n in range(7)] and pages == 3

    ref = {"source": {"id": "v1"}, "items": [{"kind": "visual_ts", "start": 1, "text": TEXT}]}
    _append(budgeted, "e", [{"role": "assistant", "content": "a", "refs": [ref]}] * 5)
    _append(budgeted, "e", [{"role": "assistant", "content": "b", "refs": [ref, ref]}])
    page = budgeted.get("/v1/evidence", params={"source_id": "v1", "limit": 200}).json()
    assert len(page["data"]) == 3 and page["has_more"]
    hits, _ = _walk(budgeted, "/v1/evidence", source_id="v1", limit=200)
    assert [(h["seq"], h["ref_index"]) for h in hits] == [(n, 0) for n in range(1, 6)] + [
        (6, 0),
        (6, 1),
    ]
    assert all(h["ref"]["items"][0]["text"] == TEXT for h in hits)
