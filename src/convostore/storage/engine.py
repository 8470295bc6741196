"""Engines for the two backends, configured for how convostore uses them.

SQLite: WAL, a busy timeout, foreign keys on, and transactions opened by us rather than by the
driver, so a write starts with `BEGIN IMMEDIATE` (takes the write lock up front: no upgrade
deadlocks) while a read opens no transaction at all: each statement reads its own consistent
snapshot, concurrently with the writer, without the cost of BEGIN and COMMIT round trips.
PostgreSQL: a bounded pool that checks connections before use, and a statement timeout.

Both hide the values bound to a failed statement from its error (`hide_parameters`): they are
conversations, and an error's text ends up in logs. `describe_error` says what failed in words
that hold no data at all, for the logs that report database errors.
"""

from __future__ import annotations

import time
import weakref
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import event

from convostore.errors import Unavailable
from convostore.storage import loop_deadline
from convostore.storage.stored_json import stored_json

WRITE_OPTION = "convostore_write"


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def make_engine(
    url: str,
    *,
    pool_size: int = 10,
    statement_timeout_ms: int = 30_000,
    sqlite_synchronous: str = "FULL",
) -> sa.Engine:
    parsed = sa.make_url(url)
    kwargs: dict[str, Any] = {
        "json_serializer": _json_dumps,
        "json_deserializer": stored_json,
        "hide_parameters": True,
    }
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, kwargs, sqlite_synchronous)
    if parsed.get_backend_name() == "postgresql":
        # JIT compilation off: it pays only for long analytic queries, and a search's planner
        # estimate (many matches expected, a few found) crossed its threshold and spent ~7-70 ms
        # compiling a lookup that ran in 3 ms (docs/performance.md)
        options = f"-c statement_timeout={int(statement_timeout_ms)} -c jit=off"
        connect_args = {"options": options}
        engine = sa.create_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            connect_args=connect_args,
            **kwargs,
        )
        _, url_args = engine.dialect.create_connect_args(engine.url)
        _DRIVER_ARGS[engine] = {**url_args, **connect_args}
        return engine
    raise ValueError(f"unsupported database URL {parsed.render_as_string(hide_password=True)!r}")


# what the driver's own connect() takes to open a connection like the engine's (PostgreSQL)
_DRIVER_ARGS: weakref.WeakKeyDictionary[sa.Engine, dict[str, Any]] = weakref.WeakKeyDictionary()


def driver_connect_args(engine: sa.Engine) -> dict[str, Any] | None:
    """Keyword arguments for the driver's `connect()` that open a connection as the engine's
    pool does (URL and settings alike), or None for an engine not made by `make_engine`."""
    args = _DRIVER_ARGS.get(engine)
    return dict(args) if args is not None else None


def _sqlite_engine(url: str, kwargs: dict[str, Any], synchronous: str) -> sa.Engine:
    engine = sa.create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        # as many connections as worker threads may want at once, so none is opened per request
        pool_size=20,
        max_overflow=40,
        **kwargs,
    )
    memory = sa.make_url(url).database in (None, "", ":memory:")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, see below
        cursor = dbapi_conn.cursor()
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()
        # a read running on the event loop is interrupted once its deadline passes
        dbapi_conn.set_progress_handler(loop_deadline.on_progress, loop_deadline.PROGRESS_STEPS)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        if conn.get_execution_options().get(WRITE_OPTION, False):
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def is_sqlite(engine: sa.Engine) -> bool:
    return engine.dialect.name == "sqlite"


def wait_for_database(engine: sa.Engine, *, retries: int, interval_s: float) -> None:
    """Retry the first connection a few times; then fail with one clear sentence, no traceback."""
    last: Exception | None = None
    for attempt in range(max(retries, 0) + 1):
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            return
        except sa.exc.OperationalError as exc:
            last = exc
            if attempt < retries:
                time.sleep(interval_s)
    where = engine.url.render_as_string(hide_password=True)
    reason = str(getattr(last, "orig", last)).strip().splitlines()[0] if last else "unknown"
    raise Unavailable(f"cannot reach the database at {where}: {reason}")


def describe_error(exc: BaseException) -> str:
    """A database error as its classes and code alone, e.g. `IntegrityError (UniqueViolation,
    SQLSTATE 23505)`: never its message, which may quote row values (PostgreSQL's DETAIL lines
    hold a violating key or row) or the statement's parameters."""
    orig = exc.orig if isinstance(exc, sa.exc.DBAPIError) else None
    driver = orig if orig is not None else exc
    code = getattr(driver, "sqlstate", None)  # psycopg
    if code is not None:
        found = f"SQLSTATE {code}"
    else:
        found = getattr(driver, "sqlite_errorname", None) or ""  # sqlite3, e.g. SQLITE_BUSY
    parts = [type(orig).__name__] if orig is not None else []
    if found:
        parts.append(found)
    return f"{type(exc).__name__} ({', '.join(parts)})" if parts else type(exc).__name__
