"""Auth, user isolation and `db_id` selection with AgentOS's exact texts (the error matrix)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from agno.os.routers.agents.schema import AgentResponse
from agno.os.routers.teams.schema import TeamResponse
from agno.os.routers.workflows.schema import WorkflowResponse
from fastapi.testclient import TestClient

from convostore.auth import KeyService
from convostore.config import Settings
from convostore.server import create_app
from convostore.storage import SqlStore
from tests.conftest import LOCAL_URL, bearer


def test_auth_texts_and_open_health(client: TestClient, keys: KeyService) -> None:
    key = keys.create("default", "admin").key
    keys.forget_open_mode()
    assert client.get("/sessions").json() == {"detail": "Authorization header required"}
    assert client.get("/sessions").status_code == 401
    wrong = client.get("/sessions", headers=bearer("csk_nope_nope"))
    assert (wrong.status_code, wrong.json()) == (401, {"detail": "Invalid authentication token"})
    assert client.get("/sessions", headers=bearer(key)).status_code == 200
    assert client.get("/sessions", headers={"Authorization": key}).status_code == 200  # raw key
    assert client.get("/memories").status_code == 401
    assert client.get("/agents").status_code == 401
    health = client.get("/health")
    assert health.status_code == 200
    assert health.json()["status"] == "ok" and health.json()["instantiated_at"].endswith("Z")


def test_read_only_key_cannot_write(client: TestClient, keys: KeyService) -> None:
    key = keys.create("default", "read").key
    response = client.post("/sessions", json={}, headers=bearer(key))
    assert response.status_code == 403 and isinstance(response.json()["detail"], str)
    assert client.get("/sessions", headers=bearer(key)).status_code == 200


def test_user_scoped_keys_are_isolated(client: TestClient, keys: KeyService) -> None:
    admin = bearer(keys.create("default", "admin").key)
    alice = bearer(keys.create("default", "write", user_id="alice").key)
    bob = bearer(keys.create("default", "write", user_id="bob").key)
    client.post("/sessions", json={"session_id": "a1", "user_id": "mallory"}, headers=alice)
    client.post("/sessions", json={"session_id": "b1"}, headers=bob)
    assert client.get("/sessions/a1", headers=alice).json()["user_id"] == "alice"  # forced
    spoofed = client.get("/sessions?user_id=bob", headers=alice).json()["data"]
    assert [d["session_id"] for d in spoofed] == ["a1"]
    assert client.get("/sessions/b1", headers=alice).status_code == 404
    assert client.get("/sessions/b1/runs", headers=alice).status_code == 404
    assert client.delete("/sessions/b1", headers=alice).status_code == 204
    assert client.get("/sessions/b1", headers=bob).status_code == 200  # not deleted
    clash = client.post("/sessions", json={"session_id": "b1"}, headers=alice)
    assert clash.status_code == 409 and "b1" not in clash.json()["detail"]
    assert len(client.get("/sessions", headers=admin).json()["data"]) == 2
    client.post("/memories", json={"memory": "alice fact"}, headers=alice)
    client.post("/memories", json={"memory": "bob fact"}, headers=bob)
    mine = client.get("/memories", headers=alice).json()["data"]
    assert [m["memory"] for m in mine] == ["alice fact"]
    bobs = client.get("/memories", headers=bob).json()["data"][0]["memory_id"]
    assert client.get(f"/memories/{bobs}", headers=alice).status_code == 404
    stolen = client.patch(f"/memories/{bobs}", json={"memory": "x"}, headers=alice)
    assert (stolen.status_code, stolen.json()) == (404, {"detail": "Memory not found"})


@pytest.fixture
def two_db_client(settings: Settings, store: SqlStore, tmp_path: Path) -> Iterator[TestClient]:
    other = f"sqlite:///{tmp_path / 'other.db'}"
    multi = settings.model_copy(update={"databases": {"archive": other}})
    with TestClient(create_app(multi, store=store), base_url=LOCAL_URL) as test_client:
        yield test_client


def test_db_id_selection(two_db_client: TestClient) -> None:
    client = two_db_client
    several = client.get("/sessions")
    assert (several.status_code, several.json()) == (
        400,
        {"detail": "The db_id query parameter is required when using multiple databases"},
    )
    assert client.get("/sessions?db_id=nope").json() == {
        "detail": "No database found with id 'nope'"
    }
    assert client.get("/sessions?db_id=nope").status_code == 404
    assert client.get("/sessions?table=sessions").json() == {
        "detail": "The db_id query parameter is required when passing a table"
    }
    assert client.get("/sessions?db_id=archive&table=bogus").json() == {
        "detail": "No database with id 'archive' has table 'bogus'"
    }
    created = client.post("/sessions?db_id=archive", json={"session_id": "x", "agent_id": "a"})
    assert created.status_code == 201
    assert client.get("/sessions/x?db_id=archive").status_code == 200
    assert client.get("/sessions/x?db_id=default").status_code == 404
    assert (
        client.get("/sessions?db_id=archive&table=agno_sessions").json()["meta"]["total_count"] == 1
    )
    # names and values escaped in the query string are read as they decode
    assert client.get("/sessions/x?db%5Fid=archive").status_code == 200
    assert client.get("/sessions/x?%64b_id=%61rchive").status_code == 200
    assert client.get("/sessions?t%61ble=sessions").status_code == 400
    agents = client.get("/agents").json()
    assert [(a["id"], a["db_id"]) for a in agents] == [("a", "archive")]
    assert client.get("/agents/a").json()["db_id"] == "archive"
    config = client.get("/config").json()
    assert config["databases"] == ["default", "archive"]
    assert [d["db_id"] for d in config["session"]["dbs"]] == ["default", "archive"]
    assert [d["db_id"] for d in config["memory"]["dbs"]] == ["default", "archive"]


def test_agents_and_teams_list_stored_components(
    client: TestClient, reference_session: str
) -> None:
    """`/agents` and `/teams` in AgentOS's `AgentResponse`/`TeamResponse` shape (nulls left out;
    the model as `{name, model, provider}`, where Agent UI reads `model.model`), `/config` in its
    summary shape (the model as `{id, provider}`)."""
    client.post("/sessions?type=team", json={"team_id": "squad"})
    agent = {
        "id": "basic-agent",
        "name": "Basic Agent",
        "db_id": "default",
        "filesystem": False,
        "is_factory": False,
        "model": {"name": "OpenAIChat", "model": "gpt-4o", "provider": "OpenAI"},
        "sessions": {"session_table": "sessions"},
        "is_component": False,
        "sandboxed": False,
    }
    assert client.get("/agents").json() == [agent]
    assert AgentResponse.model_validate(agent).model_dump(exclude_none=True) == agent
    assert client.get("/agents/basic-agent").json() == agent
    team = {
        "id": "squad",
        "db_id": "default",
        "sessions": {"session_table": "sessions"},
        "is_factory": False,
        "is_component": False,
        "sandboxed": False,
    }
    assert client.get("/teams").json() == [team]
    assert TeamResponse.model_validate(team).model_dump(exclude_none=True) == team
    assert client.get("/teams/squad").json() == team
    for path, text in (
        ("/agents/squad", "Agent not found"),
        ("/teams/basic-agent", "Team not found"),
        ("/workflows/x", "Workflow not found"),
    ):
        assert client.get(path).status_code == 404 and client.get(path).json() == {"detail": text}
    assert client.get("/workflows").json() == []
    config = client.get("/config").json()
    assert config["available_models"] == [{"id": "gpt-4o", "provider": "OpenAI"}]
    assert config["agents"] == [
        {
            "id": "basic-agent",
            "name": "Basic Agent",
            "db_id": "default",
            "model": {"id": "gpt-4o", "provider": "OpenAI"},
            "sandboxed": False,
        }
    ]
    assert config["teams"] == [{"id": "squad", "db_id": "default", "sandboxed": False}]


def test_workflows_list_stored_workflows(client: TestClient) -> None:
    data = {"name": "Pipeline", "workflow_id": "pipe", "steps": [{"name": "fetch"}]}
    body = {"id": "w1", "type": "workflow", "component_id": "pipe", "component_data": data}
    assert client.post("/v1/sessions", json=body).status_code == 201
    summary = {
        "id": "pipe",
        "name": "Pipeline",
        "db_id": "default",
        "is_factory": False,
        "is_component": False,
        "sandboxed": False,
    }
    assert client.get("/workflows").json() == [summary]
    assert client.get("/config").json()["workflows"] == [summary]
    detail = client.get("/workflows/pipe").json()
    assert detail == {
        "id": "pipe",
        "name": "Pipeline",
        "db_id": "default",
        "steps": [{"name": "fetch"}],
        "workflow_agent": False,
        "is_factory": False,
        "is_component": False,
        "sandboxed": False,
    }
    assert WorkflowResponse.model_validate(detail).model_dump(exclude_none=True) == detail


def test_running_an_agent_answers_not_found(client: TestClient, reference_session: str) -> None:
    """convostore runs nothing: Agent UI's run request gets AgentOS's 404 shape and a reason."""
    form = {"message": "hi", "stream": "true", "session_id": ""}
    for path in ("/agents/basic-agent/runs", "/teams/squad/runs"):
        answer = client.post(path, data=form)
        assert answer.status_code == 404
        assert "runs no agents" in answer.json()["detail"]


def test_validation_errors_use_fastapis_list(client: TestClient) -> None:
    body = client.get("/sessions?type=bogus").json()
    assert body["detail"][0]["loc"] == ["query", "type"]
    assert {"type", "loc", "msg", "input"} <= set(body["detail"][0])
    unknown = client.get("/sessions/a/b/c")
    assert unknown.status_code == 404 and isinstance(unknown.json()["detail"], str)
