"""Golden JSON per endpoint, from the reference session page of the AgentOS documentation.

The reference example predates Agno 3: it shows the system prompt in `chat_history` and messages
without ids. Agno 3.1.10 (the version this surface follows) leaves system and tool messages out
of `chat_history` and leads each message with its `id`; the golden file records exactly that
difference and nothing else.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.compat.agno.conftest import REFERENCE_ID, golden


def test_get_session_matches_the_reference(client: TestClient, reference_session: str) -> None:
    response = client.get(f"/sessions/{reference_session}")
    assert response.status_code == 200
    body = response.json()
    expected = golden("get_session.json")
    assert body == expected
    assert list(body) == list(expected)  # same keys, same order
    assert all(isinstance(m["created_at"], int) for m in body["chat_history"])


def test_list_item_matches_the_reference(client: TestClient, reference_session: str) -> None:
    body = client.get("/sessions").json()
    assert body["data"] == [golden("list_item.json")]
    assert body["meta"] == {
        "page": 1,
        "limit": 20,
        "total_pages": 1,
        "total_count": 1,
        "search_time_ms": 0.0,
    }


def test_runs_list_leaves_nulls_out_and_keeps_the_system_prompt(
    client: TestClient, reference_session: str
) -> None:
    runs = client.get(f"/sessions/{REFERENCE_ID}/runs").json()
    assert len(runs) == 1
    run = runs[0]
    assert None not in run.values()
    assert run["run_id"] == "run-1"
    assert run["agent_id"] == "basic-agent"
    assert run["parent_run_id"] == ""
    assert run["run_input"] == "What tools do you have?"
    assert run["run_response_format"] == "text"
    assert run["metrics"] == {
        "input_tokens": 134,
        "output_tokens": 26,
        "total_tokens": 160,
        "duration": 1.2,
        "time_to_first_token": 0.4,
    }
    assert [m["role"] for m in run["messages"]] == ["system", "user", "assistant"]
    assert run["created_at"] == "2025-09-05T16:02:09Z"
    assert run["input_media"] == {"images": [], "videos": [], "audios": [], "files": []}
    assert "tools" not in run and "metadata" not in run


def test_single_run_sends_every_key_with_nulls(client: TestClient, reference_session: str) -> None:
    run = client.get(f"/sessions/{REFERENCE_ID}/runs/run-1").json()
    for key in ("cancellation_stage", "metadata", "tools", "events", "citations", "followups"):
        assert key in run and run[key] is None
    assert run["reasoning_content"] == "" and run["references"] == []


def test_run_previews(client: TestClient, reference_session: str) -> None:
    previews = client.get(f"/sessions/{REFERENCE_ID}/run-previews").json()
    assert previews == [
        {
            "run_id": "run-1",
            "parent_run_id": "",  # AgentOS previews the runs list's item, "" included
            "agent_id": "basic-agent",
            "user_id": "123",
            "status": "COMPLETED",
            "run_input": "What tools do you have?",
            "content_preview": previews[0]["content_preview"],
            "created_at": "2025-09-05T16:02:09Z",
        }
    ]
    assert len(previews[0]["content_preview"]) == 280
