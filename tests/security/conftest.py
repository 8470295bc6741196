"""Shared pieces of the security suite: one database per backend per module, and the helpers
that tell which surface a path belongs to, what its errors look like, and whether anything in the
database changed.

The fixtures here are module-scoped (keys and victim data are built once per backend), so the
modules of this package use only these fixtures, never the function-scoped `database_url` of the
top-level conftest, which empties the PostgreSQL database before every test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from convostore.config import Settings
from convostore.server import create_app
from convostore.server.compat.agno import PREFIXES as AGNO_PREFIXES
from convostore.storage import SqlStore, open_store
from convostore.storage.tables import metadata
from tests.conftest import BACKENDS, LOCAL_URL, _truncate

Snapshot = dict[str, list[tuple[Any, ...]]]


@pytest.fixture(scope="module", params=BACKENDS)
def module_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """An empty database per backend, shared by the tests of one module."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('security') / 'convostore.db'}"
    url: str = request.getfixturevalue("postgres_url")
    store = open_store(url, migrate=False)
    try:
        _truncate(store)
    finally:
        store.close()
    return url


@pytest.fixture(scope="module")
def module_store(module_database_url: str) -> Iterator[SqlStore]:
    # Durability is proven by the crash tests; here fsyncs would only slow the run down.
    opened = open_store(module_database_url, sqlite_synchronous="OFF")
    yield opened
    opened.close()


def make_client(store: SqlStore, url: str, **settings: Any) -> TestClient:
    """A TestClient that never re-raises server errors: a 500 must be seen as a response."""
    app = create_app(Settings(database_url=url, **settings), store=store)
    return TestClient(app, raise_server_exceptions=False, base_url=LOCAL_URL)


# --- surfaces ---------------------------------------------------------------------------------


def surface_of(path: str) -> str:
    """`native`, `memories_ai`, `agno`, or `other` (docs, web UI, operational endpoints)."""
    if path.startswith("/serve/api/"):
        return "memories_ai"
    if path == "/v1" or path.startswith("/v1/"):
        return "native"
    if any(path == p or path.startswith(p + "/") for p in AGNO_PREFIXES):
        return "agno"
    return "other"


def error_problem(surface: str, response: Any) -> str | None:
    """Why `response` is not an error in its surface's convention, or None if it is one."""
    if surface == "memories_ai":
        if response.status_code != 200:
            return f"memories.ai answers HTTP 200, got {response.status_code}"
        body = response.json()
        if set(body) != {"code", "msg", "data", "success", "failed"}:
            return f"not the memories.ai envelope: {body}"
        if body["code"] == "0000" or body["success"] or not body["failed"] or not body["msg"]:
            return f"not an envelope error: {body}"
        return None
    if not 400 <= response.status_code < 500:
        return f"expected a 4xx, got {response.status_code}"
    try:
        body = response.json()
    except ValueError:
        return f"not JSON: {response.text[:200]!r}"
    if surface == "agno":
        if set(body) != {"detail"} or not body["detail"]:
            return f'not {{"detail": ...}}: {body}'
        return None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or not error.get("type") or not error.get("message"):
        return f'not {{"error": {{type, message}}}}: {body}'
    return None


def envelope_code(response: Any) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None


# --- the database, read directly --------------------------------------------------------------


def snapshot(store: SqlStore, where: dict[str, Any] | None = None) -> Snapshot:
    """Every row of every table (optionally only rows whose columns equal `where`), in a stable
    order: two equal snapshots mean nothing was written."""
    out: Snapshot = {}
    with store.engine.connect() as conn:
        for table in metadata.sorted_tables:
            stmt = sa.select(table)
            for column, value in (where or {}).items():
                if column in table.c:
                    stmt = stmt.where(table.c[column] == value)
            rows = [tuple(row) for row in conn.execute(stmt)]
            out[table.name] = sorted(rows, key=repr)
    return out


def all_text(store: SqlStore) -> str:
    """Every value of every row as one string, to search for something that must not be there."""
    return repr(snapshot(store))
