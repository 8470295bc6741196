"""Malformed or over-limit input gets a clear 4xx in the native error shape and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from convostore.config import Settings
from convostore.models import MAX_BATCH_CEILING
from convostore.server import create_app
from convostore.storage import SqlStore
from tests.conftest import LOCAL_URL


@pytest.fixture
def small(settings: Settings, store: SqlStore) -> Iterator[TestClient]:
    """A server with small limits, so the limits are cheap to hit."""
    tight = settings.model_copy(
        update={
            "max_body_bytes": 4096,
            "max_batch": 5,
            "max_title_chars": 20,
            "max_json_bytes": 200,
        }
    )
    with TestClient(create_app(tight, store=store), base_url=LOCAL_URL) as client:
        client.post("/v1/sessions", json={"id": "s", "title": "kept"})
        yield client


def _unchanged(client: TestClient) -> None:
    session = client.get("/v1/sessions/s").json()
    assert session["title"] == "kept"
    assert session["message_count"] == 0
    assert len(client.get("/v1/sessions").json()["data"]) == 1


def _error(response: object, status: int, error_type: str | None = None) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body = response.json()["error"]  # type: ignore[attr-defined]
    assert body["message"]
    if error_type:
        assert body["type"] == error_type
    return body  # type: ignore[no-any-return]


def test_malformed_json(small: TestClient) -> None:
    response = small.post(
        "/v1/sessions/s/messages",
        content=b'{"messages": [',
        headers={"Content-Type": "application/json"},
    )
    _error(response, 422, "validation_error")
    _unchanged(small)


def test_wrong_types(small: TestClient) -> None:
    for body in (
        {"messages": "hello"},
        {"messages": [{"role": "wizard", "content": "x"}]},
        {"messages": [{"role": "user", "content": 5}]},
        {"messages": [{"role": "user", "metrics": {"total_tokens": "many"}}]},
        {"messages": []},
        {"messages": [{"role": "user", "surprise": True}]},
        [1, 2],
    ):
        _error(small.post("/v1/sessions/s/messages", json=body), 422, "validation_error")
    _error(small.patch("/v1/sessions/s", json={"state": [1, 2]}), 422)
    _unchanged(small)


def test_oversize_body_is_413(small: TestClient) -> None:
    big = {"messages": [{"role": "user", "content": "x" * 5000}]}
    _error(small.post("/v1/sessions/s/messages", json=big), 413, "payload_too_large")

    def chunks() -> Iterator[bytes]:  # no Content-Length: the body is counted as it streams
        yield b'{"messages": [{"role": "user", "content": "'
        for _ in range(10):
            yield b"y" * 1000
        yield b'"}]}'

    response = small.post(
        "/v1/sessions/s/messages", content=chunks(), headers={"Content-Type": "application/json"}
    )
    _error(response, 413, "payload_too_large")
    _unchanged(small)


def test_field_limits(small: TestClient) -> None:
    too_many = {"messages": [{"role": "user", "content": "x"}] * 6}
    assert _error(small.post("/v1/sessions/s/messages", json=too_many), 413)["param"] == "messages"
    _error(small.patch("/v1/sessions/s", json={"title": "t" * 21}), 413)
    _error(small.patch("/v1/sessions/s", json={"metadata": {"k": "v" * 300}}), 413)
    _error(small.post("/v1/sessions", json={"id": "a/b"}), 400, "invalid_request")
    _error(small.post("/v1/sessions", json={"id": "x" * 129}), 400)
    _unchanged(small)


def test_nul_characters_are_refused_everywhere(small: TestClient) -> None:
    nul = {"messages": [{"role": "user", "content": "a\u0000b"}]}
    _error(small.post("/v1/sessions/s/messages", json=nul), 400, "invalid_request")
    _error(small.patch("/v1/sessions/s", json={"state": {"k": "\u0000"}}), 400)
    _error(small.patch("/v1/sessions/s", json={"title": "\u0000"}), 400)
    _unchanged(small)


def test_unknown_routes_and_methods_use_the_error_shape(small: TestClient) -> None:
    _error(small.get("/v1/nothing-here"), 404, "not_found")
    _error(small.put("/v1/sessions/s"), 405, "method_not_allowed")


def test_deeply_nested_json_is_refused(small: TestClient) -> None:
    deep = "[" * 5000 + "]" * 5000
    response = small.patch(
        "/v1/sessions/s",
        content=('{"state": {"k": ' + deep + "}}").encode(),
        headers={"Content-Type": "application/json"},
    )
    assert 400 <= response.status_code < 500
    _unchanged(small)


def test_more_messages_than_any_server_takes_are_refused_while_validating(
    client: TestClient,
) -> None:
    """Past MAX_BATCH_CEILING the body is refused by its schema, before the remaining messages
    are validated one by one (which took seconds for a 10 MiB body of tiny messages)."""
    client.post("/v1/sessions", json={"id": "s", "title": "kept"})
    messages = [{"role": "user", "content": "x"}] * (MAX_BATCH_CEILING + 1)
    body = _error(client.post("/v1/sessions/s/messages", json={"messages": messages}), 422)
    assert body["param"] == "messages"
    _unchanged(client)
