"""Shared fixtures: real databases (SQLite always, PostgreSQL when reachable), apps and clients.

PostgreSQL: the URL comes from `CONVOSTORE_TEST_POSTGRES_URL`, else the local server at
127.0.0.1:5432 (database `test`, user `postgres`). A fresh database is created for the run and
dropped afterwards; tables are emptied between tests. With `CONVOSTORE_TEST_REQUIRE_POSTGRES=1`
(as CI sets) an unreachable server fails the run instead of skipping the PostgreSQL cases.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from convostore.auth import KeyService
from convostore.config import Settings
from convostore.server import create_app
from convostore.storage import SqlStore, open_store
from convostore.storage.tables import metadata

# Property tests are reproducible (derandomized) and judged on what they find, not on how fast a
# loaded two-core CI machine generates inputs.
hypothesis_settings.register_profile(
    "convostore",
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
hypothesis_settings.load_profile("convostore")

DEFAULT_PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# In-process clients address the app as a browser on this machine would: open mode (no keys)
# answers only requests addressed to a loopback name, and TestClient's own default is "testserver".
LOCAL_URL = "http://127.0.0.1"
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never see the machine's CONVOSTORE_* settings, and run in a temp directory.

    `CONVOSTORE_TEST_FAST_ROUTES=0` runs every app (in-process, and the server processes tests
    start, which inherit the environment) with the fast path off: FastAPI serves every request.
    """
    for name in list(os.environ):
        if name.startswith("CONVOSTORE_") and not name.startswith("CONVOSTORE_TEST_"):
            monkeypatch.delenv(name)
    if os.environ.get("CONVOSTORE_TEST_FAST_ROUTES") == "0":
        monkeypatch.setenv("CONVOSTORE_FAST_ROUTES", "0")
    monkeypatch.chdir(tmp_path)


def _pg_admin_url() -> str:
    return os.environ.get("CONVOSTORE_TEST_POSTGRES_URL", DEFAULT_PG_ADMIN_URL)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, migrated once, dropped at the end."""
    admin_url = sa.make_url(_pg_admin_url())
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # pragma: no cover - depends on the machine
        admin.dispose()
        if os.environ.get("CONVOSTORE_TEST_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required but unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc.__class__.__name__}")
    try:
        with _scratch_database(admin, "convostore_test") as url:
            open_store(url).close()  # migrate once
            yield url
    finally:
        admin.dispose()


@contextmanager
def _scratch_database(admin: sa.Engine, prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database named after `prefix`, dropped when done with."""
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _truncate(store: SqlStore) -> None:
    names = ", ".join(t.name for t in metadata.sorted_tables)
    with store.engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {names} CASCADE"))


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL for each backend; each test gets an empty database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'convostore.db'}"
    url: str = request.getfixturevalue("postgres_url")
    store = open_store(url, migrate=False)
    try:
        _truncate(store)
    finally:
        store.close()
    return url


@pytest.fixture(params=BACKENDS)
def blank_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL for each backend with nothing in it, not even a schema (migration tests)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'blank.db'}"
        return
    request.getfixturevalue("postgres_url")  # skips, or fails, when PostgreSQL is unreachable
    admin = sa.create_engine(sa.make_url(_pg_admin_url()), isolation_level="AUTOCOMMIT")
    try:
        with _scratch_database(admin, "convostore_blank") as url:
            yield url
    finally:
        admin.dispose()


@pytest.fixture
def store(database_url: str) -> Iterator[SqlStore]:
    opened = open_store(database_url)
    yield opened
    opened.close()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url)


@pytest.fixture
def client(settings: Settings, store: SqlStore) -> Iterator[TestClient]:
    """An in-process client in open mode (no keys yet): requests run as the default tenant."""
    with TestClient(create_app(settings, store=store), base_url=LOCAL_URL) as test_client:
        yield test_client


@pytest.fixture
def keys(store: SqlStore) -> KeyService:
    return KeyService(store)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
