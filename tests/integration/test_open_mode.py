"""Open mode — callers without a key act as the default tenant's admin — only where it is safe.

It needs all of: a bind on loopback only (or `--insecure`), a database that never held a key
(revoking every key does not bring it back), and a request addressed to a loopback name (its
Host header), so that a web page on a domain resolving to 127.0.0.1 (DNS rebinding) cannot use
a browser to read and write. Every surface follows the same rule and refuses in its own shape.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from convostore.auth import KeyService
from convostore.storage import SqlStore
from tests.conftest import bearer
from tests.security.conftest import envelope_code, error_problem, make_client, snapshot

# one keyless read on each surface
READS = ("/v1/sessions", "/sessions", "/memories", "/serve/api/v1/list_sessions")
NOT_LOOPBACK = (
    "evil.example",
    "evil.example:8080",
    "127.0.0.1.evil.example",
    "localhost.evil.example:8080",
    "10.0.0.1:8080",
    "[::2]:8080",
    "[::1]x",
    "localhost:80x",
)
LOOPBACK = ("localhost", "LOCALHOST:8080", "127.0.0.1:8080", "127.9.9.9", "[::1]", "[::1]:8080")


def keyless(client: TestClient, path: str, host: str | None = None) -> Any:
    return client.get(path, headers={"Host": host} if host else None)


def assert_refused(response: Any, path: str) -> None:
    surface = "memories_ai" if path.startswith("/serve/api/") else "native"
    if path.startswith(("/sessions", "/memories")):
        surface = "agno"
    problem = error_problem(surface, response)
    assert problem is None, f"{path}: {problem}"
    if surface == "memories_ai":
        assert envelope_code(response) == "0401", response.json()
    else:
        assert response.status_code == 401, (path, response.text)


def assert_open(client: TestClient, host: str | None = None) -> None:
    for path in READS:
        response = keyless(client, path, host)
        assert response.status_code == 200, (path, host, response.text)
        if path.startswith("/serve/api/"):
            assert envelope_code(response) == "0000", response.json()


@pytest.mark.parametrize("host", ["", "0.0.0.0", "::"])
def test_a_bind_on_every_interface_is_never_open(
    store: SqlStore, database_url: str, host: str
) -> None:
    """An empty host binds every interface, as 0.0.0.0 and :: do: no open mode for any."""
    with make_client(store, database_url, host=host) as client:
        for path in READS:
            assert_refused(keyless(client, path), path)


def test_loopback_binds_are_open(store: SqlStore, database_url: str) -> None:
    for host in ("127.0.0.1", "::1", "localhost"):
        with make_client(store, database_url, host=host) as client:
            assert_open(client)


def test_revoking_every_key_does_not_reopen_the_server(store: SqlStore, database_url: str) -> None:
    """Once a key existed, only a deliberate erasure of every key record brings open mode back."""
    with make_client(store, database_url) as client:
        created = client.post("/v1/keys", json={"role": "admin"})
        assert created.status_code == 201, created.text
        key = created.json()["key"]
        revoked = client.delete(f"/v1/keys/{created.json()['id']}", headers=bearer(key))
        assert revoked.status_code == 200, revoked.text
        before = snapshot(store)
        for path in READS:
            assert_refused(keyless(client, path), path)
        assert client.post("/v1/sessions", json={"id": "reopened"}).status_code == 401
        assert client.post("/sessions", json={"session_id": "reopened"}).status_code == 401
        assert snapshot(store) == before
    with make_client(store, database_url) as restarted:  # nor does a restart
        for path in READS:
            assert_refused(keyless(restarted, path), path)


@pytest.mark.parametrize("host", NOT_LOOPBACK)
def test_open_mode_answers_only_requests_addressed_to_loopback(
    store: SqlStore, database_url: str, host: str
) -> None:
    """DNS rebinding: a page on evil.example, resolved to 127.0.0.1, is same-origin to the
    browser; its requests carry `Host: evil.example`, and are refused without a key."""
    with make_client(store, database_url) as client:
        before = snapshot(store)
        for path in READS:
            response = keyless(client, path, host)
            assert_refused(response, path)
            if path.startswith("/v1/"):
                assert "localhost" in response.json()["error"]["message"]
        headers = {"Host": host}
        assert client.post("/v1/sessions", json={"id": "x"}, headers=headers).status_code == 401
        assert (
            client.post("/sessions", json={"session_id": "x"}, headers=headers).status_code == 401
        )
        assert client.delete("/v1/users/default", headers=headers).status_code == 401
        assert snapshot(store) == before


def test_loopback_names_keys_and_insecure_are_not_affected(
    store: SqlStore, database_url: str
) -> None:
    with make_client(store, database_url) as client:
        for host in LOOPBACK:
            assert_open(client, host)
    with make_client(store, database_url, insecure=True) as client:
        assert_open(client, "evil.example:8080")  # --insecure: open to whoever reaches it
    key = KeyService(store).create("acme", "read").key
    with make_client(store, database_url) as client:
        for path in READS:
            answer = client.get(path, headers={"Host": "evil.example", **bearer(key)})
            assert answer.status_code == 200, (path, answer.text)
