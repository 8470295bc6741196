"""Fixtures for the memories.ai compatibility tests: golden documents and keyed servers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from convostore.auth import KeyService
from convostore.config import Settings
from convostore.server import create_app
from convostore.storage import SqlStore
from tests.conftest import LOCAL_URL

GOLDEN = Path(__file__).parent / "golden"
DETAIL = "/serve/api/v1/get_session_detail"
LIST = "/serve/api/v1/list_sessions"
IMPORT = "/v1/import/memories-ai"


def golden(name: str) -> Any:
    """A response copied from the reference pages (or built from their documented shapes)."""
    return json.loads((GOLDEN / name).read_text())


def ok(data: Any) -> dict[str, Any]:
    return {"code": "0000", "msg": "success", "data": data, "success": True, "failed": False}


def assert_error(response: Any, code: str) -> dict[str, Any]:
    """An error envelope with `code`, answered as HTTP 200 JSON as memories.ai does."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert set(body) == {"code", "msg", "data", "success", "failed"}, body
    assert body["code"] == code, body
    assert body["data"] is None
    assert body["success"] is False and body["failed"] is True
    assert isinstance(body["msg"], str) and body["msg"]
    return body


@pytest.fixture
def keyed(store: SqlStore, keys: KeyService) -> dict[str, str]:
    """Keys of two tenants; once a key exists, requests without one are refused."""
    return {
        "admin": keys.create("acme", "admin").key,
        "read": keys.create("acme", "read").key,
        "alice": keys.create("acme", "read", user_id="alice").key,
        "alice_write": keys.create("acme", "write", user_id="alice").key,
        "other": keys.create("globex", "admin").key,
    }


@pytest.fixture
def api(settings: Settings, store: SqlStore, keyed: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(settings, store=store), base_url=LOCAL_URL) as client:
        yield client
