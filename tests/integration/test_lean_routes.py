"""Lean routes answer exactly as FastAPI's own handler would, and the hot routes are lean.

`LeanRoute` binds a request's arguments by a plan worked out once per route instead of FastAPI's
per-request solving (server.fastpath); with `fast_routes` off, FastAPI serves every request
itself. That gives the reference: each request below is sent to an app of each kind on the same
database, and the answers (status, body, content type) must be identical — for good requests and
for every kind of bad query string and body on every surface.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from convostore.auth import KeyService
from convostore.config import Settings
from convostore.server import create_app
from convostore.server.fastpath import LeanRoute
from convostore.server.fastpath.routes import plan_binds_body, planned
from convostore.storage import SqlStore
from tests.conftest import LOCAL_URL

REQUESTS = [
    # native: one query model, scalar parameters with bounds, lists, path parameters
    "/v1/sessions",
    "/v1/sessions?limit=2&sort=created_at&order=asc",
    "/v1/sessions?limit=0",
    "/v1/sessions?limit=abc",
    "/v1/sessions?limit=201",
    "/v1/sessions?sort=nope",
    "/v1/sessions?type=robot",
    "/v1/sessions?created_after=yesterday",
    "/v1/sessions?include_total=maybe",
    "/v1/sessions?after=not-a-cursor",
    "/v1/sessions?user_id=u1&user_id=u2&limit=1&limit=3",
    # query strings read without unquoting (no % or +), and ones that need it
    "/v1/sessions?limit=2&&order=asc&",
    "/v1/sessions?include_total",
    "/v1/sessions?=x&limit=1",
    "/v1/sessions?limit=1;order=asc",
    "/v1/sessions?q=a%20b&limit=%32",
    "/v1/sessions?q=a+b",
    "/v1/sessions/s1",
    "/v1/sessions/s1?include_messages=3",
    "/v1/sessions/s1?include_messages=-1",
    "/v1/sessions/s1?include_messages=1001",
    "/v1/sessions/missing",
    "/v1/sessions/s1/messages?limit=2&order=desc",
    "/v1/sessions/s1/messages?after=x",
    "/v1/sessions/s1/messages?run_id=r1&run_id=r2",
    "/v1/sessions/s1/runs?status=completed&status=RUNNING",
    "/v1/sessions/s1/runs?created_after=nope",
    "/v1/memories?topic=a&topic=b&limit=5",
    "/v1/memories?order=sideways",
    "/v1/evidence",
    "/v1/evidence?source_id=v1&start=abc",
    # Agno: 422s with FastAPI's detail list, enums, paging
    "/sessions?type=agent&limit=2&page=1",
    "/sessions?type=agent&page=0",
    "/sessions?type=agent&limit=x",
    "/sessions?type=robot",
    "/sessions?sort_by=nope",
    "/sessions/s1?type=agent",
    "/sessions/s1/runs?type=agent&created_after=x",
    "/sessions/missing?type=agent",
    "/memories?limit=-3",
    "/memories?topics=a&topics=b",
    # memories.ai: parameters read by the router itself
    "/serve/api/v1/list_sessions?unique_id=u1",
    "/serve/api/v1/list_sessions?unique_id=u1&page=x",
    "/serve/api/v1/get_session_detail?sessionId=s1&unique_id=u1",
    "/serve/api/v1/get_session_detail",
]


@pytest.fixture
def both(database_url: str, store: SqlStore) -> Iterator[tuple[TestClient, TestClient]]:
    lean_app = create_app(Settings(database_url=database_url), store=store)
    fastapi_app = create_app(Settings(database_url=database_url, fast_routes=False), store=store)
    with (
        TestClient(lean_app, base_url=LOCAL_URL) as lean,
        TestClient(fastapi_app, base_url=LOCAL_URL) as reference,
    ):
        created = lean.post("/v1/sessions", json={"id": "s1", "user_id": "u1"})
        assert created.status_code == 201
        recorded = lean.post(
            "/v1/sessions/s1/runs",
            json={
                "id": "r1",
                "messages": [
                    {"role": "user", "content": "Where is the cat?"},
                    {"role": "assistant", "content": "At 0:42."},
                ],
            },
        )
        assert recorded.status_code == 201, recorded.text
        yield lean, reference


@pytest.mark.parametrize("target", REQUESTS)
def test_lean_and_fastapi_answers_are_identical(
    both: tuple[TestClient, TestClient], target: str
) -> None:
    lean, reference = both
    got, expected = lean.get(target), reference.get(target)
    assert (got.status_code, got.headers["content-type"]) == (
        expected.status_code,
        expected.headers["content-type"],
    )
    assert got.json() == expected.json()


def test_every_read_route_of_every_surface_is_served_lean(client: TestClient) -> None:
    """A signature change that silently sent a hot route back to FastAPI's solving would fail.

    The web UI's pages (`/` redirects there) are files, not API reads: they are left out.
    """
    routes = [
        r
        for r in client.app.routes  # type: ignore[attr-defined]
        if isinstance(r, APIRoute)
        and "GET" in r.methods
        and r.path != "/"
        and not r.path.startswith("/ui")
    ]
    assert len(routes) > 20
    slow = [r.path for r in routes if not isinstance(r, LeanRoute) or planned(r.dependant) is None]
    assert slow == []


BAD_WRITES = [
    # (path, content type, body): refused the same way whichever handler reads the body
    ("/v1/sessions/s1/messages", "application/json", b'{"messages": []}'),
    ("/v1/sessions/s1/messages", "application/json", b'{"messages": [{"role": "robot"}]}'),
    ("/v1/sessions/s1/messages", "application/json", b'{"messages": [{"content": "x"}]}'),
    ("/v1/sessions/s1/messages", "application/json", b'{"messages": "x"}'),
    ("/v1/sessions/s1/messages", "application/json", b'{"messages": [{"role": "user", "con'),
    ("/v1/sessions/s1/messages", "application/json", b""),
    ("/v1/sessions/s1/messages", "text/plain", b'{"messages": [{"role": "user"}]}'),
    ("/v1/sessions/s1/messages", "application/json", b"[1, 2]"),
    ("/v1/sessions/s1/messages", "application/json", b'{"messages": [], "extra_field": 1}'),
    ("/v1/sessions/s1/messages", "application/json", b'{"messages": [{"role": "user", '
     b'"content": "\\ud800"}]}'),
    ("/v1/sessions/s1/runs", "application/json", b'{"id": 5, "messages": []}'),
    ("/v1/sessions/s1/runs", "application/json", b'{"messages": [{"role": "user", '
     b'"content": "x", "created_at": "yesterday"}]}'),
    ("/v1/sessions", "application/json", b'{"id": "s1", "user_id": "u1"}'),  # a 409 both ways
    ("/v1/sessions", "application/json", b'{"type": "robot"}'),
    ("/v1/sessions", "application/json; charset=utf-8", b'{"title": 7}'),
    ("/v1/sessions/missing/messages", "application/json",
     b'{"messages": [{"role": "user", "content": "hi"}]}'),  # a 404 both ways
    # large bodies, which the lean plan parses and validates in a worker thread
    ("/v1/sessions/s1/messages", "application/json",
     b'{"messages": [' + b'{"role": "user", "content": "x"},' * 10_001 + b'{"role": "user"}]}'),
    ("/v1/sessions/s1/messages", "application/json",
     b'{"messages": [{"role": "user", "content": "' + b"x" * 70_000 + b'"}, {"role": 7}]}'),
    ("/v1/sessions/s1/messages", "application/json",
     b'{"messages": [{"role": "user", "content": "' + b"x" * 70_000 + b'"}'),
    ("/v1/sessions/s1/messages", "application/json",
     b'{"messages": [{"role": "user", "content": "' + b"x" * 70_000 + b'", "metrics": '
     b'{"total_tokens": NaN}}]}'),
]  # fmt: skip


@pytest.mark.parametrize(("path", "content_type", "body"), BAD_WRITES)
def test_lean_and_fastapi_refuse_bodies_alike(
    both: tuple[TestClient, TestClient], path: str, content_type: str, body: bytes
) -> None:
    lean, reference = both
    headers = {"Content-Type": content_type}
    got = lean.post(path, content=body, headers=headers)
    expected = reference.post(path, content=body, headers=headers)
    assert got.status_code == expected.status_code >= 400
    assert got.json() == expected.json()


def test_the_write_routes_bind_their_bodies_by_plan(client: TestClient) -> None:
    hot = {
        ("POST", "/v1/sessions/{session_id}/messages"),
        ("POST", "/v1/sessions/{session_id}/runs"),
    }
    bound = {
        (method, r.path)
        for r in client.app.routes  # type: ignore[attr-defined]
        if isinstance(r, LeanRoute)
        for method in r.methods
        if plan_binds_body(planned(r.dependant))
    }
    assert hot <= bound


def test_authentication_is_checked_before_parameters_as_fastapi_does(
    database_url: str, store: SqlStore, keys: KeyService
) -> None:
    """With keys configured, a request without one and with a bad query string is a 401 both
    ways: FastAPI runs dependencies before it validates parameters."""
    keys.create("default", "admin")
    lean_app = create_app(Settings(database_url=database_url), store=store)
    fastapi_app = create_app(Settings(database_url=database_url, fast_routes=False), store=store)
    with (
        TestClient(lean_app, base_url=LOCAL_URL) as lean,
        TestClient(fastapi_app, base_url=LOCAL_URL) as reference,
    ):
        for target in ("/v1/sessions?limit=0", "/sessions?type=agent&page=0", "/v1/sessions/s1"):
            got, expected = lean.get(target), reference.get(target)
            assert got.status_code == expected.status_code == 401, target
            assert got.json() == expected.json()


@pytest.mark.parametrize("lean", [True, False], ids=["lean", "fastapi"])
def test_an_unexpected_error_is_a_500_in_the_surfaces_shape_then_raised(
    database_url: str, store: SqlStore, lean: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(Settings(database_url=database_url, fast_routes=lean), store=store)

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False, base_url=LOCAL_URL) as client:
        monkeypatch.setattr(app.state.ctx.service, "list_sessions", broken)
        answer = client.get("/v1/sessions")
        assert answer.status_code == 500
        assert answer.json()["error"]["type"] == "internal_error"
        assert "boom" not in answer.text
        assert client.get("/v1/sessions/missing").status_code == 404  # handled errors still are
    with TestClient(app, base_url=LOCAL_URL) as client:
        monkeypatch.setattr(app.state.ctx.service, "list_sessions", broken)
        with pytest.raises(RuntimeError, match="boom"):
            client.get("/v1/sessions")
