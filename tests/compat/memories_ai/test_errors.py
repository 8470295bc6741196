"""Every error under /serve/api is memories.ai's envelope with its code: never HTML, never a 500."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from convostore.config import Settings
from convostore.server import create_app
from convostore.storage import SqlStore, open_store
from tests.compat.memories_ai.conftest import DETAIL, IMPORT, LIST, assert_error, golden
from tests.conftest import LOCAL_URL

SESSION_ID = "590197794380320770"


@pytest.fixture
def stored(api: TestClient, keyed: dict[str, str]) -> str:
    """The doc's detail example, filed under unique_id "alice" of tenant acme."""
    response = api.post(
        IMPORT,
        json={"unique_id": "alice", "sessions": [golden("get_session_detail_response.json")]},
        headers={"Authorization": keyed["admin"]},
    )
    assert response.status_code == 200, response.text
    return SESSION_ID


@pytest.mark.parametrize(
    "authorization", [None, "", "Bearer ", "nope", "csk_0000_abc", "Bearer csk_1_2"]
)
def test_missing_or_wrong_key_is_0401(
    api: TestClient, keyed: dict[str, str], authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    for path in (LIST, DETAIL, "/serve/api/video/list_sessions"):
        assert_error(api.get(path, params={"sessionId": SESSION_ID}, headers=headers), "0401")
    wrong = keyed["admin"][:-1] + ("x" if keyed["admin"][-1] != "x" else "y")
    assert_error(api.get(LIST, headers={"Authorization": wrong}), "0401")


def test_revoked_key_is_0401(api: TestClient, keyed: dict[str, str], store: SqlStore) -> None:
    key_id = keyed["read"].split("_")[1]
    store.revoke_key("acme", key_id)
    assert_error(api.get(LIST, headers={"Authorization": keyed["read"]}), "0401")


def test_raw_and_bearer_keys_both_work(api: TestClient, keyed: dict[str, str], stored: str) -> None:
    for authorization in (keyed["read"], f"Bearer {keyed['read']}"):
        response = api.get(
            DETAIL,
            params={"sessionId": stored, "unique_id": "alice"},
            headers={"Authorization": authorization},
        )
        assert response.json()["code"] == "0000"


def test_unknown_session_is_0001(api: TestClient, keyed: dict[str, str], stored: str) -> None:
    auth = {"Authorization": keyed["admin"]}
    for session_id in ("590197794380320771", "abc", "1" * 128):
        response = api.get(
            DETAIL, params={"sessionId": session_id, "unique_id": "alice"}, headers=auth
        )
        body = assert_error(response, "0001")
        assert "not found" in body["msg"]


def test_session_of_another_unique_id_or_tenant_does_not_exist(
    api: TestClient, keyed: dict[str, str], stored: str
) -> None:
    admin = {"Authorization": keyed["admin"]}
    for unique_id in (None, "default", "Alice", "bob"):
        params = {"sessionId": stored} | ({"unique_id": unique_id} if unique_id else {})
        assert_error(api.get(DETAIL, params=params, headers=admin), "0001")
    other_tenant = {"Authorization": keyed["other"]}
    response = api.get(
        DETAIL, params={"sessionId": stored, "unique_id": "alice"}, headers=other_tenant
    )
    assert_error(response, "0001")
    listed = api.get(LIST, params={"unique_id": "alice"}, headers=other_tenant).json()["data"]
    assert listed["total_count"] == "0"


def test_user_scoped_key_reads_only_its_own_user(
    api: TestClient, keyed: dict[str, str], stored: str
) -> None:
    alice = {"Authorization": keyed["alice"]}
    own = api.get(DETAIL, params={"sessionId": stored}, headers=alice)  # unique_id defaults to hers
    assert own.json()["code"] == "0000"
    assert api.get(LIST, headers=alice).json()["data"]["total_count"] == "1"
    for path, params in ((LIST, {}), (DETAIL, {"sessionId": stored})):
        response = api.get(path, params=params | {"unique_id": "bob"}, headers=alice)
        assert_error(response, "9009")


@pytest.mark.parametrize("page", ["abc", "1.5", "-1", "0", "1e3", "9" * 13, "٣"])
def test_bad_page_is_0003(client: TestClient, page: str) -> None:
    body = assert_error(client.get(LIST, params={"page": page}), "0003")
    assert "page" in body["msg"]


def test_missing_session_id_is_0001_and_malformed_is_0003(client: TestClient) -> None:
    assert "sessionId" in assert_error(client.get(DETAIL), "0001")["msg"]
    assert_error(client.get(DETAIL, params={"sessionId": ""}), "0001")
    for bad in ("a/b", "x" * 129, "50%"):
        assert_error(client.get(DETAIL, params={"sessionId": bad}), "0003")
    assert_error(client.get(LIST, params={"unique_id": "a/b"}), "0003")


def test_bad_bodies_on_get_are_0003(client: TestClient) -> None:
    assert_error(client.request("GET", LIST, content=b"[1]"), "0003")
    assert_error(client.request("GET", LIST, content=b"{not json"), "0003")
    assert_error(client.request("GET", LIST, content=b"{" + b" " * 70_000 + b"}"), "0003")
    assert_error(client.request("GET", LIST, json={"unique_id": {"x": 1}}), "0003")


@pytest.mark.parametrize(
    ("method", "path", "code"),
    [
        ("GET", "/serve/api/v1/nope", "0001"),
        ("GET", "/serve/api", "0001"),
        ("GET", "/serve/api/v2/list_sessions", "0001"),
        ("POST", LIST, "0003"),
        ("DELETE", DETAIL, "0003"),
        ("PUT", "/serve/api/video/get_session_detail", "0003"),
    ],
)
def test_unknown_routes_and_wrong_methods(
    client: TestClient, method: str, path: str, code: str
) -> None:
    assert_error(client.request(method, path), code)


def test_oversized_body_is_0003(settings: Settings, store: SqlStore) -> None:
    small = settings.model_copy(update={"max_body_bytes": 100})
    with TestClient(create_app(small, store=store), base_url=LOCAL_URL) as client:
        assert_error(client.post(LIST, content=b"x" * 1000), "0003")


def test_database_failure_is_an_envelope_not_a_500(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'broken.db'}"
    store = open_store(url)
    try:
        with TestClient(
            create_app(Settings(database_url=url), store=store),
            raise_server_exceptions=False,
            base_url=LOCAL_URL,
        ) as client:
            assert client.get(LIST).json()["code"] == "0000"
            with store.engine.begin() as conn:
                conn.execute(sa.text("DROP TABLE sessions"))
            body = assert_error(client.get(LIST), "0001")
            assert "try again" in body["msg"]
            assert_error(client.get(DETAIL, params={"sessionId": "1"}), "0001")
    finally:
        store.close()


def test_native_errors_keep_their_own_shape(client: TestClient) -> None:
    response = client.get("/v1/nope")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found"
