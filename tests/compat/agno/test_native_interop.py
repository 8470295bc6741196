"""Sessions and runs written through the native API appear here, and the other way round."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_native_runs_render_as_agno_runs(client: TestClient) -> None:
    client.post(
        "/v1/sessions",
        json={"id": "n1", "component_id": "helper", "component_data": {"name": "Helper"}},
    )
    client.post(
        "/v1/sessions/n1/runs",
        json={
            "id": "run-a",
            "status": "ERROR",
            "metrics": {"input_tokens": 5, "output_tokens": 7, "total_tokens": 12},
            "messages": [
                {"role": "user", "content": "hello"},
                {
                    "role": "assistant",
                    "content": "hi",
                    "thinkings": [{"title": "plan", "content": "greet back"}],
                },
            ],
        },
    )
    detail = client.get("/sessions/n1").json()
    assert detail["session_name"] == "hello" and detail["agent_id"] == "helper"
    assert detail["metrics"]["total_tokens"] == 12 and detail["total_tokens"] == 12
    assert detail["chat_history"][1]["reasoning_content"] == "greet back"
    run = client.get("/sessions/n1/runs/run-a").json()
    assert (run["status"], run["run_input"], run["agent_id"]) == ("ERROR", "hello", "helper")
    assert client.get("/sessions/n1/runs?status=error").json()[0]["run_id"] == "run-a"


def test_plain_messages_without_runs(client: TestClient) -> None:
    client.post(
        "/v1/sessions/plain/messages",
        json={
            "create_if_missing": True,
            "messages": [
                {"role": "system", "content": "sys"},
                {"role": "user", "content": "q"},
                {"role": "assistant", "content": "a"},
            ],
        },
    )
    detail = client.get("/sessions/plain").json()
    assert [m["content"] for m in detail["chat_history"]] == ["q", "a"]
    runs = client.get("/sessions/plain/runs").json()  # one turn, shown as a run (test_turns)
    assert [(r["run_input"], r["content"]) for r in runs] == [("q", "a")]


def test_agno_sessions_appear_in_the_native_api(client: TestClient) -> None:
    client.post(
        "/sessions?type=team",
        json={"session_id": "t1", "team_id": "squad", "session_name": "Team chat"},
    )
    native = client.get("/v1/sessions/t1").json()
    assert (native["type"], native["component_id"], native["title"]) == (
        "team",
        "squad",
        "Team chat",
    )
