"""The floors each case is compared with: what the machine does without convostore in the way.

* SQL floor: the exact statements the store issued for a case (captured from SQLAlchemy's cursor
  events while the real app served a few of the case's requests in-process), replayed with the
  bare driver (`sqlite3` / `psycopg`) in one thread, fetching every row. Reads commit; writes roll
  back (so the replay can repeat, and the figure excludes the durable commit).
* ASGI floor: `floor_app`, a bare ASGI callable that answers every request with a fixed body of
  the size named in its `x-floor-bytes` header. It is served by uvicorn exactly like the real
  server and driven by the case's own wrk script, so only the application work differs.
"""

from __future__ import annotations

import sqlite3
import statistics
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
import psycopg
import psycopg.types.json
import sqlalchemy as sa
from sqlalchemy import event

FLOOR_APP = "bench.floors:floor_app"
FLOOR_HEALTH = "/health"
SIZE_HEADER = "x-floor-bytes"

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


# --- the bare ASGI app --------------------------------------------------------------------------


def _body(size: int) -> bytes:
    filler = max(size - 8, 0)
    return (b'{"x":"' + b"a" * filler + b'"}')[: max(size, 0)]


def floor_app() -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """A factory for uvicorn's `--factory`: the app reads the request body, then sends N bytes."""
    bodies: dict[int, bytes] = {}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        more = True
        while more:
            more = (await receive()).get("more_body", False)
        size = 2
        for name, value in scope["headers"]:
            if name == SIZE_HEADER.encode():
                size = int(value)
        body = bodies.get(size)
        if body is None:
            body = bodies[size] = _body(size)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return app


# --- capturing and replaying the store's SQL ----------------------------------------------------


@dataclass
class Statement:
    sql: str
    parameters: Any
    many: bool


@dataclass
class Capture:
    """Statements per request, in order; a request's list is one replay unit."""

    requests: list[list[Statement]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def capturing() -> Iterator[Capture]:
    """Record every statement any engine in this process sends while the block runs."""
    capture = Capture()

    def before(_conn: Any, _cursor: Any, sql: str, parameters: Any, _ctx: Any, many: bool) -> None:
        with capture.lock:
            if capture.requests:
                capture.requests[-1].append(Statement(sql, parameters, many))

    event.listen(sa.Engine, "before_cursor_execute", before)
    try:
        yield capture
    finally:
        event.remove(sa.Engine, "before_cursor_execute", before)


@dataclass
class SqlFloor:
    statements_per_request: float
    median_us: float
    p99_us: float
    rps: float
    commits: bool


def replay(url: str, requests: list[list[Statement]], *, write: bool, seconds: float) -> SqlFloor:
    """Replay captured requests round-robin with the bare driver for about `seconds`."""
    if not requests:
        raise ValueError("nothing was captured")
    sqlite = url.startswith("sqlite")
    conn: Any
    if sqlite:
        conn = sqlite3.connect(sa.make_url(url).database or "", isolation_level=None)
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
    else:
        libpq = sa.make_url(url).set(drivername="postgresql")
        conn = psycopg.connect(libpq.render_as_string(hide_password=False))
        psycopg.types.json.set_json_loads(orjson.loads, conn)
    timings: list[int] = []
    try:
        deadline = time.perf_counter() + seconds
        i = 0
        while time.perf_counter() < deadline or i < len(requests):
            started = time.perf_counter_ns()
            _run_one(conn, requests[i % len(requests)], sqlite=sqlite, write=write)
            timings.append(time.perf_counter_ns() - started)
            i += 1
    finally:
        conn.close()
    timings.sort()
    median_us = statistics.median(timings) / 1000
    return SqlFloor(
        statements_per_request=sum(len(r) for r in requests) / len(requests),
        median_us=median_us,
        p99_us=timings[min(len(timings) - 1, int(len(timings) * 0.99))] / 1000,
        rps=1e6 / median_us if median_us else 0.0,
        commits=not write,
    )


def undo_appends(url: str, appended: list[tuple[str, list[int]]]) -> None:
    """Remove messages that capturing a write case stored, so their replay can insert them again.

    The session's counters step back too, leaving it as it was before the captured request.
    """
    sqlite = url.startswith("sqlite")
    conn: Any
    if sqlite:
        conn = sqlite3.connect(sa.make_url(url).database or "")
        mark = "?"
    else:
        conn = psycopg.connect(
            sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        )
        mark = "%s"
    try:
        for session_id, seqs in appended:
            for seq in seqs:
                for table in ("evidence", "messages"):
                    conn.execute(
                        f"DELETE FROM {table} WHERE tenant_id = 'default' "
                        f"AND session_id = {mark} AND seq = {mark}",
                        (session_id, seq),
                    )
            conn.execute(
                f"UPDATE sessions SET message_count = message_count - {mark}, "
                f"last_seq = last_seq - {mark} WHERE tenant_id = 'default' AND id = {mark}",
                (len(seqs), len(seqs), session_id),
            )
        conn.commit()
    finally:
        conn.close()


def _finish(conn: Any, *, sqlite: bool, write: bool) -> None:
    if sqlite and not conn.in_transaction:
        return
    if write:
        conn.rollback()
    else:
        conn.commit()


def _run_one(conn: Any, statements: list[Statement], *, sqlite: bool, write: bool) -> None:
    cursor = conn.cursor()
    for st in statements:
        if sqlite and st.sql.startswith("BEGIN"):
            _finish(conn, sqlite=sqlite, write=write)
        if st.many:
            cursor.executemany(st.sql, st.parameters)
        else:
            cursor.execute(st.sql, st.parameters)
            if cursor.description is not None:
                cursor.fetchall()
    _finish(conn, sqlite=sqlite, write=write)
    cursor.close()
