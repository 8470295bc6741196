"""agno's own remote clients against a real convostore server process, unchanged.

The server holds the demo (video chats written without runs, agent, team and workflow runs) and a
database Agno wrote with its own classes, imported. Then, over HTTP only:

* `AgentOSClient` finds every agent, team and workflow, and through `RemoteDb` (built from
  `GET /config` and `GET /agents/{id}`, as agno builds it) lists and reads every session of each,
  with runs that agree with the session's `chat_history`;
* `RemoteAgent(base_url, agent_id).db` is such a `RemoteDb`;
* an AgentOS gateway (`AgentOS(agents=[RemoteAgent(...)], teams=[RemoteTeam(...)])`, in-process)
  lists and reads convostore's sessions through them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from agno.agent import RemoteAgent
from agno.client.os import AgentOSClient
from agno.db.base import SessionType
from agno.db.sqlite import SqliteDb
from agno.os import AgentOS
from agno.os.schema import ConfigResponse
from agno.remote.base import RemoteDb
from agno.team import RemoteTeam
from agno.utils.http import aclose_default_clients, close_sync_client
from fastapi.testclient import TestClient

from bench.server import start_server
from convostore.demo import load_demo
from convostore.importers.agno import import_agno, open_source
from convostore.storage import open_store
from tests.compat.agno.agno_source import fill_agno_db, fill_varied


@pytest.fixture
def base_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A real server process over the demo and an imported Agno database."""
    agno_path = tmp_path / "agno.db"
    agno_db = SqliteDb(db_file=str(agno_path))
    fill_agno_db(agno_db)
    fill_varied(agno_db)
    store = open_store(database_url)
    try:
        load_demo(store, "default")
        import_agno(open_source(f"sqlite:///{agno_path}"), store, "default")
    finally:
        store.close()
    process = start_server(database_url, log_dir=tmp_path)
    try:
        yield process.base_url
    finally:
        process.kill()
        close_sync_client()


def _chat(runs: list[Any]) -> list[tuple[str, Any]]:
    """The user and assistant messages of the top-level runs, as `chat_history` shows them."""
    return [
        (m["role"], m.get("content"))
        for run in runs
        if not run.parent_run_id
        for m in run.messages or []
        if m["role"] in ("user", "assistant") and not m["from_history"]
    ]


async def _browse(client: AgentOSClient, config: ConfigResponse) -> dict[str, int]:
    """Every session of every agent and team, through the `RemoteDb` agno builds for it."""
    seen = {"sessions": 0, "runs": 0}
    kinds = (
        (SessionType.AGENT, await client.list_agents(), client.aget_agent),
        (SessionType.TEAM, await client.list_teams(), client.aget_team),
    )
    for kind, components, describe in kinds:
        for summary in components:
            component = await describe(summary.id)
            assert component.id == summary.id and component.db_id is not None
            db = RemoteDb.from_config(component.db_id, client, config)
            assert db is not None and db.session_table_name == "sessions"
            page = await db.get_sessions(session_type=kind, component_id=component.id, limit=100)
            assert page.data, component.id
            for item in page.data:
                session = await db.get_session(item.session_id, session_type=kind)
                runs = await db.get_session_runs(item.session_id, session_type=kind)
                chat = [(m["role"], m.get("content")) for m in session.chat_history or []]
                assert _chat(runs) == chat, item.session_id
                seen["sessions"] += 1
                if not chat:  # only the Agno session created empty
                    continue
                assert runs, f"{item.session_id} opens as an empty chat"
                one = await db.get_session_run(item.session_id, runs[-1].run_id)
                assert one.run_id == runs[-1].run_id
                seen["runs"] += len(runs)
    workflows = await client.list_workflows()
    assert {w.id for w in workflows} >= {"pipeline"}
    for workflow in workflows:
        assert (await client.aget_workflow(workflow.id)).db_id == "default"
    return seen


@pytest.mark.slow
def test_agentos_client_and_remote_db_read_every_session(base_url: str) -> None:
    client = AgentOSClient(base_url)
    config = client.get_config()

    async def run() -> dict[str, int]:
        try:
            return await _browse(client, config)
        finally:
            await aclose_default_clients()

    seen = asyncio.run(run())
    # the demo's 32 sessions of agents and teams, and the 6 Agno wrote
    assert seen["sessions"] == 32 + 6 and seen["runs"] > seen["sessions"]


@pytest.mark.slow
def test_remote_agent_db_and_an_agentos_gateway(base_url: str) -> None:
    agent = RemoteAgent(base_url, "video-chat")
    team = RemoteTeam(base_url, "claims-team")
    db = agent.db
    assert isinstance(db, RemoteDb) and db.id == "default"
    assert isinstance(team.db, RemoteDb)
    assert agent.name == "Video Chat"

    gateway = AgentOS(agents=[agent], teams=[team])
    with TestClient(gateway.get_app()) as os_client:
        assert [a["id"] for a in os_client.get("/agents").json()] == ["video-chat"]
        assert [t["id"] for t in os_client.get("/teams").json()] == ["claims-team"]
        query = {"db_id": "default", "type": "agent", "component_id": "video-chat"}
        listed = os_client.get("/sessions", params=query).json()
        assert listed["meta"]["total_count"] == 20
        session_id = listed["data"][0]["session_id"]
        runs = os_client.get(f"/sessions/{session_id}/runs", params={"db_id": "default"})
        assert runs.status_code == 200 and runs.json()[0]["agent_id"] == "video-chat"
        detail = os_client.get(f"/sessions/{session_id}", params={"db_id": "default"}).json()
        assert detail["agent_id"] == "video-chat" and detail["chat_history"]
        team_query = {"db_id": "default", "type": "team", "component_id": "claims-team"}
        (team_session,) = os_client.get("/sessions", params=team_query).json()["data"]
        assert team_session["session_name"] == "Claim check"
        team_runs = os_client.get("/sessions/tm-1/runs", params={"db_id": "default"}).json()
        assert [r["run_id"] for r in team_runs] == ["run-leader", "run-member"]
