"""PostgreSQL reads on the event loop (storage.loop_reads): right answers, no read threads for
prepared reads, a thread for the rest, recovery from dropped connections, nothing left open."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from convostore.config import Settings
from convostore.models import SessionQuery
from convostore.server import create_app
from convostore.storage.loop_reads import LOOP_READS_NAME
from convostore.storage.tables import metadata
from tests.conftest import LOCAL_URL


@pytest.fixture
def empty_postgres(postgres_url: str) -> str:
    engine = sa.create_engine(postgres_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(f"TRUNCATE {', '.join(t.name for t in metadata.sorted_tables)} CASCADE")
            )
    finally:
        engine.dispose()
    return postgres_url


def _loop_backends(postgres_url: str) -> int:
    engine = sa.create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    sa.text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE application_name = :n AND datname = current_database()"
                    ),
                    {"n": LOOP_READS_NAME},
                ).scalar_one()
            )
    finally:
        engine.dispose()


def _eventually_no_loop_backends(postgres_url: str, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while _loop_backends(postgres_url):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _terminate_loop_backends(postgres_url: str) -> None:
    engine = sa.create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = :n AND datname = current_database()"
                ),
                {"n": LOOP_READS_NAME},
            )
    finally:
        engine.dispose()


def _serve(
    postgres_url: str, scenario: Callable[[Any, httpx.AsyncClient], Awaitable[None]]
) -> None:
    app = create_app(Settings(database_url=postgres_url))

    async def main() -> None:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=LOCAL_URL) as http:
                await scenario(app.state.ctx, http)

    asyncio.run(main())


def test_reads_answer_on_the_loop_and_close_their_connections(empty_postgres: str) -> None:
    postgres_url = empty_postgres
    before = set(threading.enumerate())

    async def scenario(ctx: Any, http: httpx.AsyncClient) -> None:
        for i in range(3):
            created = await http.post("/v1/sessions", json={"id": f"s{i}", "title": f"t{i}"})
            assert created.status_code == 201
        answers = await asyncio.gather(
            *(http.get("/v1/sessions") for _ in range(12)),
            *(http.get(f"/v1/sessions/s{i % 3}?include_messages=5") for i in range(12)),
            *(http.get("/sessions?type=agent") for _ in range(4)),
        )
        assert [a.status_code for a in answers] == [200] * 28
        assert all([d["id"] for d in a.json()["data"]] == ["s2", "s1", "s0"] for a in answers[:12])
        assert [a.json()["title"] for a in answers[12:24]] == [f"t{i % 3}" for i in range(12)]
        assert all(len(a.json()["data"]) == 3 for a in answers[24:])
        assert _loop_backends(postgres_url) >= 1  # the loop's own connections did the reading
        # a read call runs on the loop's thread, not a read thread
        assert await ctx.db.read(threading.current_thread) is threading.current_thread()

    _serve(postgres_url, scenario)
    started = set(threading.enumerate()) - before
    assert not [t for t in started if t.name.startswith("convostore-read")]
    # closed when the app stopped (a backend leaves pg_stat_activity once it has seen the close)
    assert _eventually_no_loop_backends(postgres_url)


def test_a_read_through_sqlalchemy_runs_again_on_a_thread(empty_postgres: str) -> None:
    postgres_url = empty_postgres
    """Memory topics are read through SQLAlchemy's own connections: the call leaves the loop."""
    threads: list[str] = []

    async def scenario(ctx: Any, http: httpx.AsyncClient) -> None:
        store = ctx.store

        def sessions_and_topics() -> tuple[int, list[str]]:
            threads.append(threading.current_thread().name)
            listed = store.list_sessions("default", SessionQuery())  # on the loop's connections
            topics = store.memory_topics("default")  # through SQLAlchemy: not on the loop
            return len(listed.items), topics

        await http.post("/v1/sessions", json={"id": "s"})
        assert await ctx.db.read(sessions_and_topics) == (1, [])

    _serve(postgres_url, scenario)
    assert threads[0] == threading.main_thread().name  # tried on the loop first,
    assert threads[-1].startswith("convostore-read")  # then run again on a read thread


def test_reads_recover_when_the_loop_connections_are_dropped(empty_postgres: str) -> None:
    postgres_url = empty_postgres

    async def scenario(ctx: Any, http: httpx.AsyncClient) -> None:
        await http.post("/v1/sessions", json={"id": "s", "title": "kept"})
        assert (await http.get("/v1/sessions/s")).status_code == 200
        _terminate_loop_backends(postgres_url)  # e.g. the database restarted
        answers = await asyncio.gather(*(http.get("/v1/sessions/s") for _ in range(4)))
        assert [a.status_code for a in answers] == [200] * 4
        assert all(a.json()["title"] == "kept" for a in answers)
        again = await http.get("/v1/sessions")
        assert again.status_code == 200 and again.json()["data"][0]["id"] == "s"

    _serve(postgres_url, scenario)
