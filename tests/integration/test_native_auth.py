"""Keys, roles, user scopes and tenant isolation on the native API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from convostore.auth import KeyService
from convostore.config import Settings
from convostore.server import create_app
from convostore.storage import SqlStore
from tests.conftest import LOCAL_URL, bearer

USER_MESSAGE = {"messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def keyed(settings: Settings, store: SqlStore, keys: KeyService) -> Iterator[dict[str, str]]:
    """Keys of two tenants; once any key exists the server is no longer open."""
    made = {
        "admin": keys.create("acme", "admin").key,
        "write": keys.create("acme", "write").key,
        "read": keys.create("acme", "read").key,
        "alice": keys.create("acme", "write", user_id="alice").key,
        "other": keys.create("globex", "admin").key,
    }
    yield made


@pytest.fixture
def api(settings: Settings, store: SqlStore, keyed: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(settings, store=store), base_url=LOCAL_URL) as client:
        yield client


def test_open_mode_without_keys_runs_as_default_tenant(client: TestClient) -> None:
    assert client.post("/v1/sessions", json={"id": "x"}).status_code == 201


def test_missing_and_wrong_keys_are_401(api: TestClient, keyed: dict[str, str]) -> None:
    assert api.get("/v1/health").status_code == 200  # health stays open
    for headers in (
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": "csk_0000_abc"},
        {"Authorization": keyed["admin"] + "x"},
    ):
        response = api.get("/v1/sessions", headers=headers)
        assert response.status_code == 401, headers
        assert response.json()["error"]["type"] == "unauthenticated"


def test_raw_and_bearer_keys_both_work(api: TestClient, keyed: dict[str, str]) -> None:
    assert api.get("/v1/sessions", headers={"Authorization": keyed["read"]}).status_code == 200
    assert api.get("/v1/sessions", headers=bearer(keyed["read"])).status_code == 200
    assert (
        api.get("/v1/sessions", headers={"Authorization": "bearer " + keyed["read"]}).status_code
        == 200
    )


def test_read_key_cannot_write(api: TestClient, keyed: dict[str, str]) -> None:
    api.post("/v1/sessions", json={"id": "s"}, headers=bearer(keyed["write"]))
    read = bearer(keyed["read"])
    for method, path, body in (
        ("POST", "/v1/sessions", {}),
        ("PATCH", "/v1/sessions/s", {"title": "x"}),
        ("DELETE", "/v1/sessions/s", None),
        ("POST", "/v1/sessions/s/messages", USER_MESSAGE),
        ("POST", "/v1/sessions/s/runs", {}),
        ("DELETE", "/v1/users/default", None),
        ("POST", "/v1/memories", {"memory": "likes tea"}),
        ("POST", "/v1/keys", {"role": "read"}),
    ):
        response = api.request(method, path, json=body, headers=read)
        assert response.status_code == 403, (method, path)
        assert response.json()["error"]["type"] == "permission_denied"
    assert api.get("/v1/sessions/s", headers=read).json()["message_count"] == 0


def test_user_scoped_key_sees_and_touches_only_its_user(
    api: TestClient, keyed: dict[str, str]
) -> None:
    admin, alice = bearer(keyed["admin"]), bearer(keyed["alice"])
    api.post("/v1/sessions", json={"id": "bobs", "user_id": "bob"}, headers=admin)
    api.post("/v1/sessions", json={"id": "alices", "user_id": "alice"}, headers=admin)
    own = api.post("/v1/sessions", json={"id": "mine"}, headers=alice).json()
    assert own["user_id"] == "alice"
    listed = api.get("/v1/sessions", headers=alice).json()["data"]
    assert {s["id"] for s in listed} == {"alices", "mine"}
    spoofed = api.get("/v1/sessions", params={"user_id": "bob"}, headers=alice).json()["data"]
    assert {s["id"] for s in spoofed} == {"alices", "mine"}
    for method, path, body in (
        ("GET", "/v1/sessions/bobs", None),
        ("PATCH", "/v1/sessions/bobs", {"title": "pwned"}),
        ("DELETE", "/v1/sessions/bobs", None),
        ("POST", "/v1/sessions/bobs/messages", USER_MESSAGE),
        ("GET", "/v1/sessions/bobs/messages", None),
        ("GET", "/v1/sessions/bobs/runs", None),
        ("DELETE", "/v1/users/bob", None),
    ):
        response = api.request(method, path, json=body, headers=alice)
        assert response.status_code == 404, (method, path)
    assert api.post("/v1/sessions", json={"user_id": "bob"}, headers=alice).status_code == 403
    bob = api.get("/v1/sessions/bobs", headers=admin).json()
    assert bob["title"] == "" and bob["message_count"] == 0
    assert api.get("/v1/keys", headers=alice).status_code == 403


def test_other_tenant_sees_nothing(api: TestClient, keyed: dict[str, str]) -> None:
    acme, globex = bearer(keyed["admin"]), bearer(keyed["other"])
    api.post(
        "/v1/sessions/shared-id/messages",
        json={**USER_MESSAGE, "create_if_missing": True},
        headers=acme,
    )
    assert api.get("/v1/sessions", headers=globex).json()["data"] == []
    assert api.get("/v1/sessions/shared-id", headers=globex).status_code == 404
    assert api.get("/v1/sessions/shared-id/messages", headers=globex).status_code == 404
    assert api.delete("/v1/sessions/shared-id", headers=globex).status_code == 404
    # the same id in another tenant is another session
    assert api.post("/v1/sessions", json={"id": "shared-id"}, headers=globex).status_code == 201
    assert api.get("/v1/sessions/shared-id", headers=acme).json()["message_count"] == 1
    assert api.delete("/v1/users/default", headers=globex).json()["deleted"]["sessions"] == 1
    assert api.get("/v1/sessions/shared-id", headers=acme).status_code == 200


def test_keys_lifecycle_over_http(api: TestClient, keyed: dict[str, str]) -> None:
    admin = bearer(keyed["admin"])
    created = api.post("/v1/keys", json={"role": "read", "name": "dashboard"}, headers=admin)
    assert created.status_code == 201
    body = created.json()
    assert body["key"].startswith("csk_")
    assert body["tenant"] == "acme"
    listed = api.get("/v1/keys", headers=admin).json()["data"]
    assert body["id"] in {k["id"] for k in listed}
    assert all("key" not in k for k in listed)
    assert api.get("/v1/sessions", headers=bearer(body["key"])).status_code == 200
    revoked = api.delete(f"/v1/keys/{body['id']}", headers=admin)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert api.get("/v1/sessions", headers=bearer(body["key"])).status_code == 401
    assert api.delete("/v1/keys/unknown", headers=admin).status_code == 404
    cross = api.post("/v1/keys", json={"role": "read", "tenant": "globex"}, headers=admin)
    assert cross.status_code == 403
    assert api.delete(f"/v1/keys/{body['id']}", headers=bearer(keyed["other"])).status_code == 404


def test_user_erasure_removes_everything_of_that_user_only(
    api: TestClient, keyed: dict[str, str]
) -> None:
    admin = bearer(keyed["admin"])
    for sid, user in (("a1", "ann"), ("a2", "ann"), ("b1", "ben")):
        api.post(
            f"/v1/sessions/{sid}/messages",
            json={**USER_MESSAGE, "create_if_missing": True, "session": {"user_id": user}},
            headers=admin,
        )
    api.post("/v1/sessions/a1/runs", json={"input": "q", "messages": []}, headers=admin)
    api.post("/v1/memories", json={"memory": "likes tea", "user_id": "ann"}, headers=admin)
    api.post("/v1/memories", json={"memory": "likes coffee", "user_id": "ben"}, headers=admin)
    erased = api.delete("/v1/users/ann", headers=admin).json()
    assert erased == {
        "object": "user.erasure",
        "user_id": "ann",
        "deleted": {"sessions": 2, "runs": 1, "messages": 2, "memories": 1},
    }
    assert [s["id"] for s in api.get("/v1/sessions", headers=admin).json()["data"]] == ["b1"]
    memories = api.get("/v1/memories", headers=admin).json()["data"]
    assert [m["user_id"] for m in memories] == ["ben"]
