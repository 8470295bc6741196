"""The same write sent many times at once: retries with one Idempotency-Key, identical imports.

Every copy is answered in its surface's convention (no 5xx), and the database ends up holding
the write exactly once — counted row by row afterwards, on every backend. The copies are sent
together from threads through the app (its writes run in worker threads, each on its own
connection), released at once by a barrier.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from convostore.storage import SqlStore
from convostore.storage.tables import evidence, idempotency_keys, messages, runs, sessions

COPIES = 16


def _all_at_once(send: Callable[[], httpx.Response], copies: int = COPIES) -> list[httpx.Response]:
    start = threading.Barrier(copies)

    def one() -> httpx.Response:
        start.wait()
        return send()

    with ThreadPoolExecutor(copies) as pool:
        return list(pool.map(lambda _: one(), range(copies)))


def _rows(store: SqlStore, session_ids: list[str]) -> dict[str, int]:
    counts = {}
    with store.engine.connect() as conn:
        for table in (sessions, runs, messages, evidence, idempotency_keys):
            column = table.c.id if table is sessions else table.c.session_id
            counts[table.name] = conn.execute(
                sa.select(sa.func.count()).select_from(table).where(column.in_(session_ids))
            ).scalar_one()
    return counts


def _one_write_and_replays(answers: list[httpx.Response]) -> Any:
    """Every answer is a 201 with the same body; exactly one of them is not a replay."""
    problems = [a.text for a in answers if a.status_code != 201]
    assert not problems, problems
    assert len({a.text for a in answers}) == 1
    fresh = [a for a in answers if a.headers.get("Idempotent-Replayed") != "true"]
    assert len(fresh) == 1
    return answers[0].json()


@pytest.mark.parametrize("create_if_missing", [False, True])
def test_concurrent_retries_of_one_append(
    client: TestClient, store: SqlStore, create_if_missing: bool
) -> None:
    session_id = f"retried-{create_if_missing}"
    if not create_if_missing:
        assert client.post("/v1/sessions", json={"id": session_id}).status_code == 201
    body = {
        "messages": [{"role": "user", "content": "once"}, {"role": "assistant", "content": "only"}],
        "create_if_missing": create_if_missing,
    }
    answers = _all_at_once(
        lambda: client.post(
            f"/v1/sessions/{session_id}/messages", json=body, headers={"Idempotency-Key": "k1"}
        )
    )
    written = _one_write_and_replays(answers)
    assert [m["seq"] for m in written["data"]] == [1, 2]
    assert _rows(store, [session_id]) == {
        "sessions": 1, "runs": 0, "messages": 2, "evidence": 0, "idempotency_keys": 1,
    }  # fmt: skip
    assert client.get(f"/v1/sessions/{session_id}").json()["message_count"] == 2


def test_concurrent_retries_of_one_run(client: TestClient, store: SqlStore) -> None:
    body = {
        "input": "question",
        "messages": [{"role": "assistant", "content": "answer"}],
        "create_if_missing": True,
    }
    answers = _all_at_once(
        lambda: client.post("/v1/sessions/run-s/runs", json=body, headers={"Idempotency-Key": "r"})
    )
    written = _one_write_and_replays(answers)
    assert written["input"] == "question"
    assert _rows(store, ["run-s"]) == {
        "sessions": 1, "runs": 1, "messages": 1, "evidence": 0, "idempotency_keys": 1,
    }  # fmt: skip


def _detail(session_id: str, contents: list[str]) -> dict[str, Any]:
    return {
        "session_id": session_id,
        "title": f"imported {session_id}",
        "messages": [{"role": "user", "content": c} for c in contents],
    }


@pytest.mark.parametrize("on_conflict", ["skip", "replace"])
def test_concurrent_identical_imports(
    client: TestClient, store: SqlStore, on_conflict: str
) -> None:
    """Identical memories.ai imports at once: each is answered, and the sessions are stored once
    (skip: one import writes them, the others skip them; replace: each writes them in turn)."""
    ids = ["900000000000000001", "900000000000000002", "900000000000000003"]
    body = {
        "unique_id": "team",
        "sessions": [_detail(sid, [f"{sid} asks", f"{sid} hears"]) for sid in ids],
        "on_conflict": on_conflict,
    }
    answers = _all_at_once(lambda: client.post("/v1/import/memories-ai", json=body), copies=8)
    problems = [a.text for a in answers if a.status_code != 200]
    assert not problems, problems
    results = [a.json() for a in answers]
    for result in results:
        assert result["sessions"] == 3 and result["imported"] + result["skipped"] == 3
        assert result["messages"] == 2 * result["imported"]
    if on_conflict == "skip":
        assert sum(r["imported"] for r in results) == 3
    else:
        assert all(r["imported"] == 3 for r in results)
    assert _rows(store, ids) == {
        "sessions": 3, "runs": 0, "messages": 6, "evidence": 0, "idempotency_keys": 0,
    }  # fmt: skip
    listed = client.get("/serve/api/v1/list_sessions", params={"unique_id": "team"}).json()
    assert listed["data"]["total_count"] == "3"


def test_concurrent_imports_never_take_another_users_session(
    client: TestClient, store: SqlStore
) -> None:
    """Two users import the same session id at once: one owns it, the other is refused with a
    conflict, and the owner's copy is the only one stored."""
    session_id = "900000000000000009"

    def send(user: str) -> httpx.Response:
        body = {
            "unique_id": user,
            "sessions": [_detail(session_id, [f"{user} wrote this"])],
            "on_conflict": "replace",
        }
        return client.post("/v1/import/memories-ai", json=body)

    users = ["ann", "ben"] * 4
    answers = _all_at_once(lambda: send(users.pop()), copies=8)
    assert sorted({a.status_code for a in answers}) in ([200], [200, 409]), [
        a.text for a in answers
    ]
    owners = {a.json()["unique_id"] for a in answers if a.status_code == 200}
    assert len(owners) == 1
    owner = owners.pop()
    for refused in (a for a in answers if a.status_code == 409):
        assert refused.json()["error"]["type"] == "conflict"
    stored = client.get(f"/v1/sessions/{session_id}/messages").json()["data"]
    assert [m["content"] for m in stored] == [f"{owner} wrote this"]
    assert _rows(store, [session_id])["sessions"] == 1
