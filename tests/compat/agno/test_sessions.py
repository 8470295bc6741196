"""Agno's own session-endpoint behaviours (section 9 of the notes), through HTTP."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

T = 1_757_088_129


def _create(client: TestClient, session_type: str = "agent", **body: Any) -> dict[str, Any]:
    response = client.post(f"/sessions?type={session_type}", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def _run(client: TestClient, session_id: str, n: int, **extra: Any) -> dict[str, Any]:
    body = {
        "id": f"{session_id}-r{n}",
        "input": f"question {n}",
        "content": f"answer {n}",
        "created_at": T + n * 10,
        "messages": [
            {"role": "user", "content": f"question {n}"},
            {"role": "assistant", "content": f"answer {n}", "metrics": {"total_tokens": 10}},
        ],
        **extra,
    }
    response = client.post(f"/v1/sessions/{session_id}/runs", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


# --- POST /sessions -----------------------------------------------------------------------------


def test_minimal_create(client: TestClient) -> None:
    response = client.post("/sessions")
    assert response.status_code == 201
    body = response.json()
    assert "agent_id" not in body and "session_state" not in body and "metrics" not in body
    assert body["chat_history"] == [] and body["session_name"] == ""
    assert body["agent_session_id"] == body["session_id"]
    assert body["created_at"].endswith("Z")


def test_create_with_all_params_and_types(client: TestClient) -> None:
    body = _create(
        client,
        session_id="s1",
        session_name="First chat",
        session_state={"a": 1},
        metadata={"k": "v"},
        user_id="u1",
        agent_id="basic-agent",
    )
    assert {k: body[k] for k in ("user_id", "session_name", "session_state", "agent_id")} == {
        "user_id": "u1",
        "session_name": "First chat",
        "session_state": {"a": 1},
        "agent_id": "basic-agent",
    }
    assert body["metrics"] == {} and body["metadata"] == {"k": "v"}
    team = _create(client, "team", team_id="t1")
    assert team["team_id"] == "t1" and "agent_session_id" not in team
    workflow = _create(client, "workflow", workflow_id="w1", session_state={"x": 1})
    assert workflow["workflow_id"] == "w1" and "chat_history" not in workflow
    assert workflow["session_data"] == {"session_state": {"x": 1}}


def test_duplicate_create_is_409_and_never_overwrites(client: TestClient) -> None:
    _create(client, session_id="dup", session_name="keep")
    response = client.post("/sessions", json={"session_id": "dup", "session_name": "other"})
    assert response.status_code == 409
    assert response.json() == {
        "detail": "Session with id 'dup' already exists. Use PATCH /sessions/dup to update it."
    }
    assert client.get("/sessions/dup").json()["session_name"] == "keep"


# --- GET /sessions ------------------------------------------------------------------------------


def test_list_filters_types_components_and_names(client: TestClient) -> None:
    _create(client, "agent", session_id="a", agent_id="agent-1", session_name="Agent chat")
    _create(client, "team", session_id="t", team_id="team-1")
    _create(client, "workflow", session_id="w", workflow_id="wf-1")
    data = client.get("/sessions").json()["data"]
    assert {d["session_type"] for d in data} == {"agent", "team", "workflow"}
    for item in data:
        assert {"agent": "agent_id", "team": "team_id", "workflow": "workflow_id"}[
            item["session_type"]
        ] in item
    assert [d["session_id"] for d in client.get("/sessions?type=team").json()["data"]] == ["t"]
    by_component = client.get("/sessions?component_id=wf-1").json()["data"]
    assert [d["session_id"] for d in by_component] == ["w"]
    assert client.get("/sessions?component_id=wf-1&type=agent").json()["data"] == []
    assert [d["session_id"] for d in client.get("/sessions?session_name=agent").json()["data"]] == [
        "a"
    ]
    assert client.get("/sessions?type=bogus").status_code == 422


def test_name_search_finds_derived_names(client: TestClient) -> None:
    _create(client, session_id="derived")
    _run(client, "derived", 1)
    found = client.get("/sessions?session_name=QUESTION 1").json()["data"]
    assert [d["session_id"] for d in found] == ["derived"]
    assert found[0]["session_name"] == "question 1"


def test_pagination_and_sorting(client: TestClient) -> None:
    for i in range(5):
        _create(client, session_id=f"p{i}", session_name=f"name {4 - i}")
    page = client.get("/sessions?limit=2&page=2").json()
    assert [d["session_id"] for d in page["data"]] == ["p2", "p1"]
    assert page["meta"] == {
        "page": 2,
        "limit": 2,
        "total_pages": 3,
        "total_count": 5,
        "search_time_ms": 0.0,
    }
    past = client.get("/sessions?limit=2&page=999").json()
    assert past["data"] == [] and past["meta"]["total_count"] == 5
    asc = client.get("/sessions?sort_order=asc").json()["data"]
    assert [d["session_id"] for d in asc] == [f"p{i}" for i in range(5)]
    by_name = client.get("/sessions?sort_by=session_name&sort_order=asc").json()["data"]
    assert [d["session_name"] for d in by_name] == [f"name {i}" for i in range(5)]
    assert client.get("/sessions?sort_order=sideways").status_code == 422
    assert client.get("/sessions?page=0").status_code == 422
    assert client.get("/sessions?limit=0").status_code == 422
    bad_sort = client.get("/sessions?sort_by=session_data")
    assert bad_sort.status_code == 400 and "sort_by" in bad_sort.json()["detail"]


# --- GET /sessions/{id} -------------------------------------------------------------------------


def test_type_is_detected_and_missing_sessions_are_404(client: TestClient) -> None:
    _create(client, "team", session_id="team-s", team_id="t1")
    _create(client, "workflow", session_id="wf-s", workflow_id="w1")
    assert client.get("/sessions/team-s").json()["team_id"] == "t1"
    assert client.get("/sessions/wf-s").json()["workflow_id"] == "w1"
    rendered = client.get("/sessions/team-s?type=agent").json()
    assert rendered["agent_session_id"] == "team-s"
    assert client.get("/sessions/none").json() == {"detail": "Session with id 'none' not found"}
    assert client.get("/sessions/none?type=team").json() == {
        "detail": "Team Session with id 'none' not found"
    }


def test_a_session_without_component_still_names_one(client: TestClient) -> None:
    created = _create(client)
    body = client.get(f"/sessions/{created['session_id']}").json()
    assert body["agent_id"] == ""


def test_chat_history_rules(client: TestClient) -> None:
    _create(client, "team", session_id="team", team_id="t1")
    _run(client, "team", 1, extra={"run_type": "team"})
    client.post(
        "/v1/sessions/team/runs",
        json={
            "id": "member",
            "parent_run_id": "team-r1",
            "component_id": "member-agent",
            "extra": {"run_type": "agent"},
            "messages": [
                {"role": "system", "content": "member prompt"},
                {"role": "user", "content": "delegated"},
                {"role": "assistant", "content": "member answer"},
            ],
        },
    )
    client.post(
        "/v1/sessions/team/runs",
        json={
            "id": "team-r2",
            "messages": [
                {"role": "system", "content": "sys"},
                {"role": "user", "content": "old", "from_history": True},
                {"role": "user", "content": "new"},
                {"role": "tool", "content": "tool result"},
                {"role": "assistant", "content": "", "tool_calls": [{"id": "c1"}]},
            ],
        },
    )
    chat = client.get("/sessions/team").json()["chat_history"]
    assert [(m["role"], m["content"]) for m in chat if m.get("content")] == [
        ("user", "question 1"),
        ("assistant", "answer 1"),
        ("user", "new"),
    ]
    assert chat[-1]["tool_calls"] == [{"id": "c1"}]
    runs = client.get("/sessions/team/runs").json()
    assert [("team_id" in r, "agent_id" in r) for r in runs] == [
        (True, False),
        (False, True),
        (True, False),
    ]
    assert runs[1]["parent_run_id"] == "team-r1"


# --- runs ---------------------------------------------------------------------------------------


def test_runs_filters(client: TestClient) -> None:
    _create(client, session_id="r", agent_id="a1")
    for n in range(3):
        _run(client, "r", n, status=["COMPLETED", "ERROR", "RUNNING"][n])
    ids = lambda q: [r["run_id"] for r in client.get(f"/sessions/r/runs{q}").json()]  # noqa: E731
    assert ids("") == ["r-r0", "r-r1", "r-r2"]
    assert ids(f"?created_after={T + 10}") == ["r-r1", "r-r2"]
    assert ids(f"?created_before={T + 10}") == ["r-r0", "r-r1"]
    assert ids(f"?created_after={T + 10}&created_before={T + 10}") == ["r-r1"]
    assert ids("?created_after=0") == ["r-r0", "r-r1", "r-r2"]
    assert ids(f"?created_after={T + 1000}") == []
    assert ids("?status=error&status=Running") == ["r-r1", "r-r2"]
    assert client.get("/sessions/r/runs?created_after=not-a-number").status_code == 422
    bogus = client.get("/sessions/r/runs?status=BOGUS")
    assert bogus.status_code == 400
    assert bogus.json()["detail"] == (
        "Invalid status value(s) ['BOGUS']; expected one of ['CANCELLED', 'COMPLETED', 'ERROR',"
        " 'PAUSED', 'PENDING', 'REGENERATED', 'RUNNING']"
    )


def test_run_lookups_and_their_404s(client: TestClient) -> None:
    _create(client, session_id="one", agent_id="a1")
    _create(client, session_id="two", agent_id="a1")
    _create(client, session_id="empty", agent_id="a1")
    _run(client, "one", 1)
    _run(client, "two", 1)
    run = client.get("/sessions/one/runs/one-r1").json()
    assert (run["run_id"], run["agent_id"], run["content"]) == ("one-r1", "a1", "answer 1")
    assert client.get("/sessions/one/runs/two-r1").json() == {
        "detail": "Run with ID two-r1 not found in session one"
    }
    assert client.get("/sessions/empty/runs/x").json() == {
        "detail": "Session with ID empty has no runs"
    }
    assert client.get("/sessions/none/runs/x").json() == {
        "detail": "Session with ID none not found"
    }
    assert client.get("/sessions/none/runs").status_code == 404
    assert client.get("/sessions/empty/runs").json() == []


# --- mutations ----------------------------------------------------------------------------------


def test_rename_and_patch_send_every_key(client: TestClient) -> None:
    _create(client, session_id="m", agent_id="a1", session_state={"a": 1})
    _run(client, "m", 1)
    renamed = client.post("/sessions/m/rename", json={"session_name": "Renamed"})
    assert renamed.status_code == 200
    body = renamed.json()
    assert body["session_name"] == "Renamed" and body["agent_data"] is None
    assert client.post("/sessions/m/rename", json={}).status_code == 422
    assert client.post("/sessions/zz/rename", json={"session_name": "x"}).status_code == 404

    patched = client.patch(
        "/sessions/m?type=agent",
        json={
            "session_state": {"b": 2},
            "metadata": {"m": 1},
            "summary": {"summary": "s", "topics": ["x"], "updated_at": "2025-09-05T18:02:12"},
        },
    ).json()
    assert patched["session_state"] == {"b": 2}  # replaced, not merged
    assert patched["metadata"] == {"m": 1}
    assert patched["session_summary"] == {
        "summary": "s",
        "topics": ["x"],
        "updated_at": "2025-09-05T18:02:12",
    }
    assert patched["session_name"] == "Renamed"
    assert len(client.get("/sessions/m/runs").json()) == 1  # runs preserved
    assert client.patch("/sessions/m", json={}).status_code == 200
    missing = client.patch("/sessions/zz", json={"session_name": "x"})
    assert missing.status_code == 404 and "not found" in missing.json()["detail"]
    bad = client.patch("/sessions/m", json={"summary": {"topics": []}})
    assert bad.status_code == 400


def test_delete_single_and_bulk(client: TestClient) -> None:
    for sid in ("d1", "d2", "d3"):
        _create(client, session_id=sid, user_id="u1")
        _run(client, sid, 1)
    assert client.delete("/sessions/d1").status_code == 204
    assert client.delete("/sessions/d1").status_code == 204  # idempotent
    assert client.get("/sessions/d1/runs").status_code == 404
    assert client.delete("/sessions/d2?user_id=someone-else").status_code == 204
    assert client.get("/sessions/d2").status_code == 200
    mismatch = client.request(
        "DELETE", "/sessions", json={"session_ids": ["d2", "d3"], "session_types": ["agent"]}
    )
    assert mismatch.status_code == 400
    assert mismatch.json() == {"detail": "Session IDs and session types must have the same length"}
    empty = client.request("DELETE", "/sessions", json={"session_ids": [], "session_types": []})
    assert empty.status_code == 422 and isinstance(empty.json()["detail"], list)
    done = client.request(
        "DELETE", "/sessions", json={"session_ids": ["d2", "d3"], "session_types": ["agent"] * 2}
    )
    assert done.status_code == 204
    assert client.get("/sessions").json()["data"] == []
    media = client.delete("/sessions/x?delete_media=true")
    assert media.status_code == 503
    assert media.json() == {"detail": "Media storage is not configured on AgentOS"}
