"""Long Agno answers are sent as they are read, and say exactly what a short answer would.

AgentOS sets no upper bound on `GET /sessions?limit=`, and a session's `chat_history`, runs and
run previews hold all of it. Past a first page (a page's size and byte budget of sessions, of
messages or of runs) those answers are streamed, a page at a time. Here the budget is made tiny,
so every answer is cut into many chunks, and each streamed answer is compared with the same
answer from an app whose budget holds it whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from convostore.config import Settings
from convostore.server import create_app
from convostore.storage import SqlStore
from tests.conftest import LOCAL_URL

TINY = 2_000  # bytes a page of sessions, messages or runs may hold before it ends
PAD = "x" * 300


@pytest.fixture
def apps(database_url: str, store: SqlStore) -> Iterator[tuple[TestClient, TestClient]]:
    """(whole, streamed): the same store behind the default budget and behind TINY."""
    whole = create_app(Settings(database_url=database_url), store=store)
    tiny = create_app(Settings(database_url=database_url, max_page_bytes=TINY), store=store)
    with TestClient(whole, base_url=LOCAL_URL) as a, TestClient(tiny, base_url=LOCAL_URL) as b:
        yield a, b


def _streamed(response: Any) -> bool:
    return "content-length" not in response.headers


def _same(apps: tuple[TestClient, TestClient], path: str, *, streams: bool | None = True) -> Any:
    """The same answer from both apps; `streams`: whether the tiny one streamed it (None: either
    way, where the backends' measures of a row's size decide it)."""
    whole, tiny = apps
    expected, got = whole.get(path), tiny.get(path)
    assert got.status_code == expected.status_code == 200, (path, got.text[:300])
    assert got.json() == expected.json(), path
    assert streams is None or _streamed(got) is streams, path
    return got.json()


def test_a_long_list_of_sessions(apps: tuple[TestClient, TestClient]) -> None:
    whole, _ = apps
    for i in range(65):
        body = {
            "session_id": f"s{i:03d}",
            "agent_id": "a" if i % 3 else "b",
            "session_name": f"chat {i % 7} {PAD}",
            "session_state": {"pad": PAD, "i": i},
        }
        assert whole.post("/sessions", json=body).status_code == 201
    listed = _same(apps, "/sessions?limit=1000")
    assert len(listed["data"]) == 65 and listed["meta"]["total_count"] == 65
    ids = [s["session_id"] for s in listed["data"]]
    assert ids == sorted(ids, reverse=True)  # created one after another: newest first
    # every window of the streamed list is the same window of 20-session pages
    pages = [whole.get(f"/sessions?limit=20&page={n}").json()["data"] for n in (1, 2, 3, 4)]
    assert listed["data"] == [s for page in pages for s in page]
    for path in (
        "/sessions?limit=30&page=2",
        "/sessions?limit=25&page=1&sort_by=session_name&sort_order=asc",
        "/sessions?limit=40&component_id=a&sort_by=updated_at",
        "/sessions?limit=50&session_name=CHAT",
    ):
        _same(apps, path)
    _same(apps, "/sessions?limit=50&session_name=chat%203")  # 9, still over the tiny budget
    _same(apps, "/sessions?limit=100&page=4", streams=False)  # past the end: nothing to stream
    for path in ("/sessions?limit=20", "/sessions?limit=200&session_name=chat%203"):
        assert not _streamed(whole.get(path))  # the default budget holds these whole


def _seed_session(whole: TestClient) -> list[str]:
    """A session of plain turns, then a team run whose member's messages sit inside its own,
    then more plain turns; returns the ids of the first plain messages appended."""
    turns = []
    for i in range(12):
        turns += [
            {"role": "user", "content": f"question {i} {PAD}"},
            {"role": "assistant", "content": f"answer {i} {PAD}", "metrics": {"total_tokens": i}},
        ]
    created = whole.post(
        "/v1/sessions/long/messages",
        json={"create_if_missing": True, "session": {"component_id": "a"}, "messages": turns},
    )
    assert created.status_code == 201
    for run in (
        {"id": "lead", "component_id": "t", "input": "lead it", "messages": [
            {"role": "user", "content": "lead it"}, {"role": "assistant", "content": "done"}]},
        {"id": "member", "parent_run_id": "lead", "component_id": "m", "messages": [
            {"role": "user", "content": "sub task"}, {"role": "assistant", "content": PAD}]},
    ):  # fmt: skip
        assert whole.post("/v1/sessions/long/runs", json=run).status_code == 201
    whole.post("/v1/sessions/long/messages", json={"messages": turns[:8]})
    return [m["id"] for m in created.json()["data"]]


def test_a_long_session_reads_the_same_streamed(apps: tuple[TestClient, TestClient]) -> None:
    ids = _seed_session(apps[0])
    detail = _same(apps, "/sessions/long")
    assert len(detail["chat_history"]) == 24 + 2 + 8  # plain turns, the leader's two, the rest
    runs = _same(apps, "/sessions/long/runs")
    assert [r["run_id"] for r in runs[:2]] == [ids[0], ids[2]]
    assert [r["run_id"] for r in runs if not r["run_id"].isdigit()] == ["lead", "member"]
    assert len(runs) == 12 + 2 + 4
    previews = _same(apps, "/sessions/long/run-previews")
    assert [p["run_id"] for p in previews] == [r["run_id"] for r in runs]
    _same(apps, "/sessions/long/runs?type=team")
    _same(apps, "/sessions/long/runs?status=completed")
    for run in (runs[0], runs[12], runs[-1]):
        alone = _same(apps, f"/sessions/long/runs/{run['run_id']}", streams=False)
        assert {k: v for k, v in alone.items() if v is not None} == run
    tiny = apps[1]
    renamed = tiny.post("/sessions/long/rename", json={"session_name": "Long"})
    assert renamed.status_code == 200 and _streamed(renamed)
    assert renamed.json()["chat_history"] == detail["chat_history"]


def test_a_turn_longer_than_a_page_goes_on_in_a_new_run(
    apps: tuple[TestClient, TestClient],
) -> None:
    """An implied run holds at most a page of messages: the byte budget cuts a long turn."""
    whole, tiny = apps
    replies = [{"role": "assistant", "content": f"{i} {PAD}"} for i in range(20)]
    body = {
        "create_if_missing": True,
        "messages": [{"role": "user", "content": "go on"}, *replies],
    }
    ids = [m["id"] for m in whole.post("/v1/sessions/chatty/messages", json=body).json()["data"]]
    assert len(whole.get("/sessions/chatty/runs").json()) == 1
    cut = tiny.get("/sessions/chatty/runs").json()
    assert len(cut) > 1 and cut[0]["run_id"] == ids[0] and cut[0]["run_input"] == "go on"
    assert [m["id"] for r in cut for m in r["messages"]] == ids
    assert all(sum(len(m["content"]) for m in r["messages"]) < 2 * TINY for r in cut)
    assert tiny.get(f"/sessions/chatty/runs/{cut[1]['run_id']}").status_code == 200


def test_a_run_longer_than_a_page_is_sent_as_it_is_read(
    apps: tuple[TestClient, TestClient],
) -> None:
    """A recorded run whose messages outgrow a page: its messages and the tools they show are
    streamed, and its `run_input` is read from its last user message, as a short run's is."""
    whole = apps[0]
    call = {"id": "c0", "type": "function", "function": {"name": "look", "arguments": "{}"}}
    first = [{"role": "user", "content": "first ask"}, {"role": "assistant", "tool_calls": [call]}]
    run = {"id": "big", "messages": first, "create_if_missing": True}
    assert whole.post("/v1/sessions/bigrun/runs", json=run).status_code == 201
    more = []
    for i in range(1, 12):
        more += [
            {
                "role": "tool",
                "content": f"seen {i - 1} {PAD}",
                "extra": {"tool_call_id": f"c{i - 1}"},
            },
            {"role": "assistant", "content": PAD, "tool_calls": [{**call, "id": f"c{i}"}]},
        ]
    more.append({"role": "user", "content": "last ask"})
    appended = whole.post(
        "/v1/sessions/bigrun/messages",
        json={"messages": [{**m, "run_id": "big"} for m in more]},
    )
    assert appended.status_code == 201, appended.text
    runs = _same(apps, "/sessions/bigrun/runs")
    (listed,) = runs
    assert listed["run_input"] == "last ask"
    assert [t["tool_call_id"] for t in listed["tools"]] == [f"c{i}" for i in range(12)]
    assert (
        listed["tools"][0]["result"].startswith("seen 0") and listed["tools"][-1]["result"] is None
    )
    assert len(listed["messages"]) == 2 + len(more)
    alone = _same(apps, "/sessions/bigrun/runs/big")
    assert {k: v for k, v in alone.items() if v is not None} == listed
    previews = _same(apps, "/sessions/bigrun/run-previews", streams=None)
    assert previews[0]["run_input"] == "last ask"
