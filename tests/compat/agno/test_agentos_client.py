"""Acceptance: agno's own `AgentOSClient`, pointed at a real convostore server process.

Everything goes over HTTP to `uvicorn` in a subprocess; the client parses every answer with
agno's own schemas, so a shape it cannot read fails the test.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from agno.client.os import AgentOSClient
from agno.db.base import SessionType
from agno.utils.http import aclose_default_clients, close_sync_client

from bench.server import start_server
from convostore.storage import open_store


@pytest.fixture
def base_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A real server process on `database_url`; yields its base URL."""
    open_store(database_url).close()  # migrated before the server starts
    process = start_server(database_url, log_dir=tmp_path)
    try:
        yield process.base_url
    finally:
        process.kill()


async def _session_round_trip(client: AgentOSClient, base_url: str) -> None:
    created = await client.create_session(
        session_id="acc-1",
        user_id="u1",
        session_name="Acceptance",
        session_state={"step": 1},
        metadata={"k": "v"},
        agent_id="basic-agent",
    )
    assert created.session_id == "acc-1" and created.agent_id == "basic-agent"
    await client.create_session(session_type=SessionType.TEAM, session_id="acc-2", team_id="t1")
    httpx.post(
        f"{base_url}/v1/sessions/acc-1/runs",
        json={
            "id": "run-1",
            "input": "What tools do you have?",
            "content": "None at all.",
            "metrics": {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7},
            "messages": [
                {"role": "user", "content": "What tools do you have?"},
                {"role": "assistant", "content": "None at all.", "metrics": {"total_tokens": 7}},
            ],
        },
    ).raise_for_status()

    page = await client.get_sessions()
    assert page.meta.total_count == 2
    assert {s.session_id for s in page.data} == {"acc-1", "acc-2"}
    only_team = await client.get_sessions(session_type=SessionType.TEAM)
    assert [s.session_id for s in only_team.data] == ["acc-2"]

    detail = await client.get_session("acc-1")  # type detected from the response
    assert detail.session_name == "Acceptance" and detail.total_tokens == 7
    assert [m["role"] for m in detail.chat_history or []] == ["user", "assistant"]
    team = await client.get_session("acc-2")
    assert type(team).__name__ == "TeamSessionDetailSchema"

    runs = await client.get_session_runs("acc-1")
    assert [r.run_id for r in runs] == ["run-1"]
    assert runs[0].run_input == "What tools do you have?"
    run = await client.get_session_run("acc-1", "run-1")
    assert run.content == "None at all." and run.metrics == {
        "input_tokens": 3,
        "output_tokens": 4,
        "total_tokens": 7,
    }
    previews = client.get_session_run_previews("acc-1")
    assert previews[0].content_preview == "None at all."

    renamed = await client.rename_session("acc-1", "Renamed")
    assert renamed.session_name == "Renamed"
    updated = await client.update_session(
        "acc-1", session_state={"step": 2}, summary={"summary": "short"}
    )
    assert updated.session_state == {"step": 2}
    assert updated.session_summary == {"summary": "short"}

    await client.delete_session("acc-2")
    await client.delete_sessions(["acc-1"], [SessionType.AGENT])
    assert (await client.get_sessions()).meta.total_count == 0


async def _memory_round_trip(client: AgentOSClient) -> None:
    memory = await client.create_memory("likes tea", user_id="u1", topics=["food"])
    assert memory.memory == "likes tea" and memory.topics == ["food"]
    await client.create_memory("visited Japan", user_id="u1", topics=["travel", "japan"])
    listed = await client.list_memories(user_id="u1", topics=["travel"])
    assert [m.memory for m in listed.data] == ["visited Japan"]
    fetched = await client.get_memory(memory.memory_id)
    assert fetched.user_id == "u1"
    updated = await client.update_memory(memory.memory_id, "likes coffee", user_id="u1")
    assert updated.memory == "likes coffee" and updated.topics == []
    assert sorted(await client.get_memory_topics()) == ["japan", "travel"]
    stats = await client.get_user_memory_stats()
    assert stats.data[0].user_id == "u1" and stats.data[0].total_memories == 2
    await client.delete_memory(memory.memory_id)
    rest = await client.list_memories()
    await client.delete_memories([m.memory_id for m in rest.data])
    assert (await client.list_memories()).meta.total_count == 0


async def _all(client: AgentOSClient, base_url: str) -> None:
    try:
        await _session_round_trip(client, base_url)
        await _memory_round_trip(client)
        await client.create_session(session_id="left", agent_id="basic-agent")
        agents = await client.list_agents()
        assert [(a.id, a.db_id) for a in agents] == [("basic-agent", "default")]
    finally:
        await aclose_default_clients()


@pytest.mark.slow
def test_agentos_client_against_a_real_server(base_url: str) -> None:
    client = AgentOSClient(base_url)
    try:
        config = client.get_config()
        assert config.databases == ["default"]
        assert config.session is not None and config.session.dbs is not None
        asyncio.run(_all(client, base_url))
    finally:
        close_sync_client()
