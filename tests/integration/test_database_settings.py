"""Production settings of the database layer: timeouts, pool, start-up retry, health."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from convostore.config import Settings
from convostore.errors import Unavailable
from convostore.server import create_app
from convostore.storage import open_store
from tests.conftest import LOCAL_URL


def test_postgres_statement_timeout_and_pool_size(postgres_url: str) -> None:
    store = open_store(postgres_url, pool_size=3, statement_timeout_ms=1234, migrate=False)
    try:
        with store.engine.connect() as conn:
            assert conn.execute(sa.text("SHOW statement_timeout")).scalar() == "1234ms"
        assert store.engine.pool.size() == 3  # type: ignore[attr-defined]
    finally:
        store.close()


def test_unreachable_database_fails_after_retries_with_one_clear_line() -> None:
    started = time.monotonic()
    with pytest.raises(Unavailable) as caught:
        open_store(
            "postgresql+psycopg://nobody@127.0.0.1:1/none",
            connect_retries=2,
            connect_retry_interval_s=0.1,
        )
    assert time.monotonic() - started >= 0.2
    message = caught.value.message
    assert message.startswith(
        "cannot reach the database at postgresql+psycopg://nobody@127.0.0.1:1/none"
    )
    assert "\n" not in message


def test_health_says_when_the_database_is_gone(settings: Settings) -> None:
    app = create_app(settings)
    with TestClient(app, base_url=LOCAL_URL) as client:
        assert client.get("/v1/health").json()["database"] == "ok"
        app.state.ctx.store.close()
        app.state.ctx.store.engine.dispose()
        original = app.state.ctx.store.engine.url
        app.state.ctx.store.engine = sa.create_engine(
            "postgresql+psycopg://nobody@127.0.0.1:1/none"
            if original.get_backend_name() == "postgresql"
            else "sqlite:////nonexistent-dir/x.db"
        )
        response = client.get("/v1/health")
        assert response.status_code == 503
        assert response.json()["database"] == "unreachable"


def test_postgres_reads_run_on_the_configured_read_threads(postgres_url: str) -> None:
    """Many concurrent reads share `read_threads` threads; every one is answered."""
    settings = Settings(database_url=postgres_url, read_threads=1, loop_reads=False)
    app = create_app(settings)
    seen: set[threading.Thread] = set()

    async def main() -> None:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=LOCAL_URL) as http:
                created = await http.post("/v1/sessions", json={"user_id": "u"})
                assert created.status_code == 201
                answers = await asyncio.gather(*(http.get("/v1/sessions") for _ in range(16)))
            assert [a.status_code for a in answers] == [200] * 16
            assert all(a.json()["data"][0]["user_id"] == "u" for a in answers)
            for _ in range(8):
                seen.add(await app.state.ctx.db.read(threading.current_thread))

    asyncio.run(main())
    assert len(seen) == 1
    (thread,) = seen
    assert thread.name.startswith("convostore-read")
    thread.join(timeout=5)  # the app closed its store: the store's read threads end
    assert not thread.is_alive()


def test_postgres_reads_run_on_the_event_loop_with_no_read_threads(postgres_url: str) -> None:
    """`read_threads=0`: reads run on the loop's own thread, and concurrent ones all answer."""
    settings = Settings(database_url=postgres_url, read_threads=0)
    app = create_app(settings)
    seen: set[threading.Thread] = set()
    before = set(threading.enumerate())

    async def main() -> None:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=LOCAL_URL) as http:
                created = await http.post("/v1/sessions", json={"user_id": "u", "title": "t"})
                assert created.status_code == 201
                session_id = created.json()["id"]
                answers = await asyncio.gather(
                    *(http.get("/v1/sessions") for _ in range(8)),
                    *(http.get(f"/v1/sessions/{session_id}") for _ in range(8)),
                )
            assert [a.status_code for a in answers] == [200] * 16
            assert all(a.json()["data"][0]["title"] == "t" for a in answers[:8])
            assert all(a.json()["id"] == session_id for a in answers[8:])
            for _ in range(4):
                seen.add(await app.state.ctx.db.read(threading.current_thread))

    asyncio.run(main())
    assert seen == {threading.current_thread()}
    started = set(threading.enumerate()) - before
    assert not [t for t in started if t.name.startswith("convostore-read")]


def test_read_threads_must_not_be_negative() -> None:
    assert Settings(read_threads=0).read_threads == 0
    with pytest.raises(ValueError):
        Settings(read_threads=-1)
