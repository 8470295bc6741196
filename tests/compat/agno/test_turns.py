"""Sessions written without runs open as chats on the Agno surface, and tool calls show.

Agno's Agent UI draws a chat only from `GET /sessions/{id}/runs`: each run is a question
(`run_input`) and an answer (`content`, `tools`, `extra_data.reasoning_steps`). Messages appended
outside any run (the native and memories.ai APIs, the demo's video chats) are presented as one run
per user turn; tool calls recorded only as messages are listed in the run's `tools`.
"""

from __future__ import annotations

from typing import Any

from agno.models.response import ToolExecution
from agno.os.schema import RunSchema
from fastapi.testclient import TestClient

from convostore.demo import load_demo
from convostore.storage import SqlStore

CALL = {
    "id": "call_1",
    "type": "function",
    "function": {"name": "run_sql_query", "arguments": '{"sql": "select 1"}'},
}


def _top_level_chat(runs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """What `chat_history` must hold: the user and assistant messages of top-level runs."""
    return [
        (m["role"], m["content"])
        for run in runs
        if not run.get("parent_run_id")
        for m in run.get("messages") or []
        if m["role"] in ("user", "assistant") and not m["from_history"]
    ]


def test_every_demo_session_opens_as_a_chat(client: TestClient, store: SqlStore) -> None:
    """The way Agent UI browses: components from /agents and /teams, their sessions, each
    session's runs; every one has runs that agree with the session's chat_history."""
    load_demo(store, "default")
    seen = {"video": 0, "reasoning": 0, "tools": 0}
    for kind in ("agent", "team"):
        for component in client.get(f"/{kind}s").json():
            query = {"type": kind, "component_id": component["id"], "db_id": component["db_id"]}
            sessions = client.get("/sessions", params=query).json()["data"]
            assert sessions, component
            for item in sessions:
                sid = item["session_id"]
                runs = client.get(f"/sessions/{sid}/runs", params={"type": kind}).json()
                assert runs, f"{sid} opens as an empty chat"
                detail = client.get(f"/sessions/{sid}").json()
                chat = [(m["role"], m["content"]) for m in detail["chat_history"]]
                assert _top_level_chat(runs) == chat
                for run in runs:
                    assert run["run_input"] and (run["content"] or run.get("tools")), run
                    RunSchema.model_validate(run)
                    alone = client.get(f"/sessions/{sid}/runs/{run['run_id']}").json()
                    assert {k: v for k, v in alone.items() if v is not None} == run
                previews = client.get(f"/sessions/{sid}/run-previews").json()
                assert [p["run_id"] for p in previews] == [r["run_id"] for r in runs]
                if component["id"] == "video-chat":
                    seen["video"] += 1
                    assert all(r["metrics"]["total_tokens"] > 0 for r in runs)
                seen["reasoning"] += sum(bool(r.get("extra_data")) for r in runs)
                seen["tools"] += sum(bool(r.get("tools")) for r in runs)
    assert seen["video"] == 20 and seen["reasoning"] > 20 and seen["tools"] > 0


def test_a_plain_append_is_one_run_per_user_turn(client: TestClient) -> None:
    first = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "q1"},
        {
            "role": "assistant",
            "content": "a1",
            "thinkings": [
                {"title": "Look", "content": "keyframes"},
                {"title": "Answer", "content": "say a1"},
            ],
            "metrics": {"input_tokens": 10, "output_tokens": 2, "total_tokens": 12},
        },
        {"role": "user", "content": "q2"},
        {"role": "assistant", "content": "", "tool_calls": [CALL]},
        {"role": "tool", "content": "1", "extra": {"tool_call_id": "call_1"}},
        {"role": "assistant", "content": "a2"},
    ]
    body = {
        "create_if_missing": True,
        "session": {"component_id": "helper"},
        "messages": first,
    }
    added = client.post("/v1/sessions/s1/messages", json=body).json()["data"]
    ids = [m["id"] for m in added]
    recorded = {
        "id": "run-rec",
        "input": "q3",
        "content": "a3",
        "status": "ERROR",
        "messages": [{"role": "user", "content": "q3"}, {"role": "assistant", "content": "a3"}],
    }
    assert client.post("/v1/sessions/s1/runs", json=recorded).status_code == 201
    later = [{"role": "user", "content": "q4"}, {"role": "assistant", "content": "a4"}]
    last = client.post("/v1/sessions/s1/messages", json={"messages": later}).json()["data"]

    runs = client.get("/sessions/s1/runs").json()
    assert [r["run_id"] for r in runs] == [ids[0], ids[3], "run-rec", last[0]["id"]]
    assert [(r["run_input"], r["content"]) for r in runs] == [
        ("q1", "a1"),
        ("q2", "a2"),
        ("q3", "a3"),
        ("q4", "a4"),
    ]
    one, two = runs[0], runs[1]
    assert [m["role"] for m in one["messages"]] == ["system", "user", "assistant"]
    assert (one["agent_id"], one["user_id"], one["status"]) == ("helper", "default", "COMPLETED")
    assert one["metrics"] == {"input_tokens": 10, "output_tokens": 2, "total_tokens": 12}
    assert one["reasoning_content"] == "keyframes\n\nsay a1"
    steps = [(s["title"], s["reasoning"]) for s in one["reasoning_steps"]]
    assert steps == [("Look", "keyframes"), ("Answer", "say a1")]
    assert one["extra_data"] == {"reasoning_steps": one["reasoning_steps"]}
    assert [t["tool_name"] for t in two["tools"]] == ["run_sql_query"]
    assert "tools" not in one and "extra_data" not in two

    # the single run, the previews and the filters agree with the list
    alone = client.get(f"/sessions/s1/runs/{ids[3]}").json()
    assert {k: v for k, v in alone.items() if v is not None} == two
    previews = client.get("/sessions/s1/run-previews").json()
    assert [p["run_input"] for p in previews] == ["q1", "q2", "q3", "q4"]
    errors = client.get("/sessions/s1/runs?status=error").json()
    assert [r["run_id"] for r in errors] == ["run-rec"]
    completed = client.get("/sessions/s1/run-previews?status=COMPLETED").json()
    assert [p["run_id"] for p in completed] == [ids[0], ids[3], last[0]["id"]]
    assert client.get("/sessions/s1/runs/nope").status_code == 404
    assert client.get(f"/sessions/s1/runs/{ids[1]}").status_code == 404  # not a turn's first


def test_tool_calls_recorded_as_messages_show_in_agentos_shape(client: TestClient) -> None:
    run = {
        "id": "run-sql",
        "input": "How many orders?",
        "content": "Twelve.",
        "messages": [
            {"role": "user", "content": "How many orders?"},
            {"role": "assistant", "content": "", "tool_calls": [CALL]},
            {
                "role": "tool",
                "content": "12",
                "extra": {"tool_call_id": "call_1", "tool_name": "run_sql_query"},
            },
            {"role": "assistant", "content": "Twelve."},
        ],
    }
    body = {"create_if_missing": True, **run}
    assert client.post("/v1/sessions/s2/runs", json=body).status_code == 201
    listed = client.get("/sessions/s2/runs").json()[0]
    (tool,) = listed["tools"]
    expected = ToolExecution(
        tool_call_id="call_1",
        tool_name="run_sql_query",
        tool_args={"sql": "select 1"},
        tool_call_error=False,
        result="12",
        created_at=tool["created_at"],
    ).to_dict()
    assert tool == expected
    assert list(tool) == list(expected)
    assert ToolExecution.from_dict(tool).result == "12"
    assert client.get("/sessions/s2/runs/run-sql").json()["tools"] == [tool]
