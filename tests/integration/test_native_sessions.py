"""The native /v1 session API, on every backend, through HTTP."""

from __future__ import annotations

from fastapi.testclient import TestClient


def _create(client: TestClient, **body: object) -> dict[str, object]:
    response = client.post("/v1/sessions", json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_health_reports_database(client: TestClient) -> None:
    response = client.get("/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] == "ok"


def test_create_generates_time_ordered_numeric_ids(client: TestClient) -> None:
    first = _create(client)
    second = _create(client)
    for session in (first, second):
        assert isinstance(session["id"], str)
        assert session["id"].isdigit()
        assert int(session["id"]) < 2**63
    assert int(second["id"]) > int(first["id"])
    assert first["user_id"] == "default"
    assert first["type"] == "agent"
    assert first["message_count"] == 0
    assert first["metrics"] == {}


def test_create_with_client_id_and_fields_then_read(client: TestClient) -> None:
    created = _create(
        client,
        id="chat-42",
        user_id="alice",
        type="team",
        component_id="research-team",
        title="Trip planning",
        state={"step": 2},
        metadata={"source": "web"},
        component_data={"name": "Research Team"},
        summary={"text": "They planned a trip.", "topics": ["travel"]},
    )
    assert created["id"] == "chat-42"
    got = client.get("/v1/sessions/chat-42").json()
    assert got["user_id"] == "alice"
    assert got["type"] == "team"
    assert got["component_id"] == "research-team"
    assert got["title"] == "Trip planning"
    assert got["state"] == {"step": 2}
    assert got["metadata"] == {"source": "web"}
    assert got["component_data"] == {"name": "Research Team"}
    assert got["summary"]["text"] == "They planned a trip."
    assert got["summary"]["topics"] == ["travel"]


def test_duplicate_id_is_a_conflict(client: TestClient) -> None:
    _create(client, id="dup")
    response = client.post("/v1/sessions", json={"id": "dup"})
    assert response.status_code == 409
    assert response.json()["error"]["type"] == "conflict"


def test_patch_updates_only_given_fields(client: TestClient) -> None:
    _create(client, id="p1", title="Old", state={"a": 1}, metadata={"m": 1})
    response = client.patch("/v1/sessions/p1", json={"title": "New", "state": {"b": 2}})
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "New"
    assert body["state"] == {"b": 2}
    assert body["metadata"] == {"m": 1}
    summary = {"text": "short", "topics": ["x"], "covers_through_seq": 4}
    body = client.patch("/v1/sessions/p1", json={"summary": summary}).json()
    assert body["summary"]["covers_through_seq"] == 4
    assert body["title"] == "New"


def test_patch_unknown_field_is_rejected_and_changes_nothing(client: TestClient) -> None:
    _create(client, id="p2", title="Keep")
    response = client.patch("/v1/sessions/p2", json={"title": "X", "bogus": 1})
    assert response.status_code == 422
    assert response.json()["error"]["param"] == "bogus"
    assert client.get("/v1/sessions/p2").json()["title"] == "Keep"


def test_delete_removes_session_and_messages(client: TestClient) -> None:
    _create(client, id="gone")
    client.post(
        "/v1/sessions/gone/messages", json={"messages": [{"role": "user", "content": "hi"}]}
    )
    response = client.delete("/v1/sessions/gone")
    assert response.status_code == 200
    assert response.json() == {"object": "session", "id": "gone", "deleted": True}
    assert client.get("/v1/sessions/gone").status_code == 404
    assert client.get("/v1/sessions/gone/messages").status_code == 404
    assert client.delete("/v1/sessions/gone").status_code == 404
    # the id is free again and the new session starts empty
    _create(client, id="gone")
    assert client.get("/v1/sessions/gone/messages").json()["data"] == []


def test_unknown_session_is_404_in_native_error_shape(client: TestClient) -> None:
    for method, path in (
        ("GET", "/v1/sessions/nope"),
        ("PATCH", "/v1/sessions/nope"),
        ("GET", "/v1/sessions/nope/messages"),
        ("GET", "/v1/sessions/nope/runs"),
        ("GET", "/v1/sessions/nope/runs/r1"),
    ):
        response = client.request(method, path, json={} if method == "PATCH" else None)
        assert response.status_code == 404, (method, path)
        error = response.json()["error"]
        assert error["type"] == "not_found"
        assert "nope" in error["message"]
