"""The same Agno-written data through a real AgentOS (agno 3.1.10, in-process) and through
convostore (imported), request for request: the answers are equal, value for value.

Agno writes the data with its own classes: an agent run with a tool call and reasoning steps, a
summary whose time carries a UTC offset, a team run with a member run, a workflow run whose input
is a dict and a session nobody named. Then both servers answer the same reads and the same
writes. The only differences allowed are convostore's documented ones (`DEVIATIONS`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from agno.db.sqlite import SqliteDb
from agno.os import AgentOS
from fastapi.testclient import TestClient

from convostore.importers.agno import import_agno, open_source
from convostore.storage import SqlStore
from tests.compat.agno.agno_source import SUMMARY_WITH_OFFSET, fill_varied

READS = [
    "/sessions",
    "/sessions?type=workflow",
    "/sessions?type=team&component_id=claims-team",
    "/sessions/ag-tools",
    "/sessions/tm-1",
    "/sessions/wf-1",
    "/sessions/ag-empty",
    "/sessions/tm-1?type=agent",
    "/sessions/ag-tools?type=team",
    "/sessions/ag-tools?type=workflow",
    "/sessions/wf-1?type=agent",
    *(
        f"/sessions/{sid}/{what}"
        for sid in ("ag-tools", "tm-1", "wf-1")
        for what in ("runs", "run-previews")
    ),
    "/sessions/tm-1/runs?type=agent",
    "/sessions/wf-1/runs?type=agent",
    "/sessions/ag-tools/runs?type=team",
    "/sessions/ag-tools/runs/run-tools",
    "/sessions/tm-1/runs/run-leader",
    "/sessions/tm-1/runs/run-member",
    "/sessions/wf-1/runs/run-flow",
    "/sessions/nope",
    "/sessions/nope/runs",
    "/sessions/ag-empty/runs/x",
    "/sessions/ag-tools/runs/x",
]
WRITES: list[tuple[str, str, Any]] = [
    (
        "PATCH",
        "/sessions/ag-tools",
        {"summary": {"summary": "s", "updated_at": "2025-01-01T10:00:00+05:30"}},
    ),
    ("GET", "/sessions/ag-tools", None),
    ("PATCH", "/sessions/wf-1", {"session_state": {"x": 1}, "metadata": {"m": 1}}),
    ("POST", "/sessions/tm-1/rename", {"session_name": "Renamed"}),
    (
        "POST",
        "/sessions?type=workflow",
        {"session_id": "wf-new", "workflow_id": "pipeline", "user_id": "u3"},
    ),
    ("GET", "/sessions/wf-new", None),
    ("POST", "/sessions?type=team", {"session_id": "tm-new", "team_id": "t", "user_id": "u3"}),
    ("GET", "/sessions?user_id=u3&sort_order=asc", None),
    ("GET", "/sessions/tm-new/runs", None),
]
# Keys set to the time of the request by both servers.
CLOCK = {"created_at", "updated_at"}


@pytest.fixture
def twins(tmp_path: Path, store: SqlStore, client: TestClient) -> Iterator[tuple[Any, Any]]:
    """(AgentOS, convostore) over the same Agno database; convostore's copy is imported."""
    path = tmp_path / "agno.db"
    db = SqliteDb(db_file=str(path), id="default")  # the db_id convostore serves by default
    fill_varied(db)
    import_agno(open_source(f"sqlite:///{path}"), store, "default")
    with TestClient(AgentOS(db=db, agents=[]).get_app()) as agentos:
        yield agentos, client


def _without_deviations(body: Any) -> Any:
    """convostore's answer less what it adds on purpose: `extra_data.reasoning_steps`, the copy
    of a run's `reasoning_steps` that Agent UI reads (checked to be exactly that copy)."""
    if isinstance(body, list):
        return [_without_deviations(item) for item in body]
    if isinstance(body, dict) and "extra_data" in body:
        assert body["extra_data"] == {"reasoning_steps": body["reasoning_steps"]}
        return {k: v for k, v in body.items() if k != "extra_data"}
    return body


def _unclocked(body: Any, clocked: bool) -> Any:
    if isinstance(body, list):
        return [_unclocked(item, clocked) for item in body]
    if isinstance(body, dict):
        return {k: _unclocked(v, clocked) for k, v in body.items() if not (clocked and k in CLOCK)}
    return body


def _same(
    agentos: Any, convostore: Any, method: str, path: str, body: Any = None, *, clocked: bool
) -> None:
    """Both answer alike; `clocked`: but for the times each server took from its own clock."""
    expected = agentos.request(method, path, json=body)
    got = convostore.request(method, path, json=body)
    assert got.status_code == expected.status_code, (path, got.text)
    want = _unclocked(expected.json(), clocked)
    have = _unclocked(_without_deviations(got.json()), clocked)
    assert have == want, path
    if isinstance(want, dict) and "session_data" not in want:  # an order Agno's writes decide
        assert list(have) == list(want), path


def test_reads_answer_as_agentos_does(twins: tuple[Any, Any]) -> None:
    for path in READS:
        _same(*twins, "GET", path, clocked=False)


def test_writes_answer_as_agentos_does(twins: tuple[Any, Any]) -> None:
    for method, path, body in WRITES:
        _same(*twins, method, path, body, clocked=True)


def test_values_come_back_as_agno_wrote_them(twins: tuple[Any, Any]) -> None:
    """The three values the parity above caught changed on the way back, spelled out."""
    _, convostore = twins
    summary = convostore.get("/sessions/ag-tools").json()["session_summary"]
    assert summary["updated_at"] == SUMMARY_WITH_OFFSET
    workflow = convostore.get("/sessions/wf-1").json()
    assert "workflow_name" not in workflow and "session_name" not in workflow["session_data"]
    assert workflow["session_name"] == '{"topic": "tides"}'  # derived, as AgentOS derives it
    previews = convostore.get("/sessions/ag-tools/run-previews").json()
    assert previews[0]["parent_run_id"] == ""
