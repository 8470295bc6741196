"""Hot reads compiled once per statement shape and run on the driver's own cursor.

Building a SQLAlchemy statement, computing its cache key and going through the execution context
costs several times more than an indexed SQLite query itself (docs/performance.md has the
measurements). The read paths that serve most requests therefore describe each statement once per
*shape* (which filters are present, the sort, the direction), with bind parameters in place of
values, compile it for the engine's dialect, and afterwards only hand the driver the SQL text and
the values. SQL text stays the SQLAlchemy-generated one, so both backends get their own dialect.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from contextlib import suppress
from typing import Any, Generic, TypeVar

import orjson
import sqlalchemy as sa
from sqlalchemy.util.concurrency import await_only

from convostore.storage.engine import driver_connect_args
from convostore.storage.loop_deadline import interrupted
from convostore.storage.loop_reads import (
    LOOP_READS_NAME,
    LoopReadsByLoop,
    OffLoop,
    loop_reads_here,
)
from convostore.storage.stored_json import stored_json

V = TypeVar("V")


class Prepared:
    """One SELECT compiled for a dialect: its SQL text, parameter order and JSON columns."""

    __slots__ = ("columns", "defaults", "json_columns", "positions", "sql")

    def __init__(self, stmt: sa.Select[Any], dialect: sa.Dialect) -> None:
        compiled = stmt.compile(dialect=dialect)
        special = compiled.literal_execute_params or compiled.post_compile_params
        if compiled._bind_processors or special:
            raise ValueError("a prepared read takes plain values (no processed or expanding binds)")
        self.sql: str = compiled.string
        self.defaults: dict[str, Any] = dict(compiled.params)
        self.positions: tuple[str, ...] | None = (
            tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
        )
        self.columns: tuple[str, ...] = tuple(str(c.key) for c in stmt.selected_columns)
        # SQLite hands JSON back as text; psycopg decodes json/jsonb itself
        self.json_columns: tuple[str, ...] = (
            tuple(str(c.key) for c in stmt.selected_columns if isinstance(c.type, sa.JSON))
            if dialect.name == "sqlite"
            else ()
        )

    def arguments(self, params: Mapping[str, Any]) -> Any:
        values = {**self.defaults, **params}
        if self.positions is not None:
            return tuple(values[name] for name in self.positions)
        return values

    def raw(self, run: Run, params: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
        """Rows as the driver gives them: values in `columns` order, JSON columns undecoded on
        SQLite (text) and decoded on PostgreSQL."""
        return run(self.sql, self.arguments(params))

    def scan(self, scan: Scan, params: Mapping[str, Any], take: Take) -> Taken:
        """What `take` makes of the driver's rows (as `raw` gives them), handed over as the
        database produces them: `take` may stop early (saying more rows followed), and on SQLite
        the rest is never read."""
        return scan(self.sql, self.arguments(params), take)

    def rows(self, run: Run, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Rows as dicts by column key, JSON columns decoded."""
        return self.decoded(run(self.sql, self.arguments(params)))

    def decoded(self, found: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
        """The driver's rows of this statement as dicts by column key, JSON columns decoded."""
        columns = self.columns
        rows = [dict(zip(columns, row, strict=True)) for row in found]
        for name in self.json_columns:
            for row in rows:
                value = row[name]
                if value is not None:
                    try:
                        row[name] = orjson.loads(value)
                    except orjson.JSONDecodeError:
                        row[name] = stored_json(value)
        return rows


Run = Callable[[str, Any], Sequence[Sequence[Any]]]
# rows kept from those handed over, and whether more followed them (`page_budget`)
Taken = tuple[list[Any], bool]
Take = Callable[[Iterable[Sequence[Any]]], Taken]
Scan = Callable[[str, Any, Take], Taken]


class BuiltOnce(Generic[V]):
    """Values by key, each built by the first caller that asks for it (thread-safe, never
    evicted). Statement shapes come from a fixed set of filters and sorts, so these stay small."""

    def __init__(self) -> None:
        self._by_key: dict[Hashable, V] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], V]) -> V:
        found = self._by_key.get(key)
        if found is None:
            with self._lock:
                found = self._by_key.get(key)
                if found is None:
                    found = self._by_key[key] = make()
        return found


class PreparedCache:
    """Compiled SELECTs of one dialect by shape key, built on first use."""

    def __init__(self, dialect: sa.Dialect) -> None:
        self.dialect = dialect
        self._built: BuiltOnce[Prepared] = BuiltOnce()

    def get(self, key: Hashable, build: Callable[[], sa.Select[Any]]) -> Prepared:
        return self._built.get(key, lambda: Prepared(build(), self.dialect))


class ReadConnections:
    """Where prepared reads run, each statement its own snapshot (no transaction is held).

    A thread keeps a driver connection of its own, opened once, in autocommit (between
    statements it pins nothing), and runs its statements on it directly: SQLite, one per thread;
    PostgreSQL, from a pool of the reads' own (the engine's pool recreated without its liveness
    ping, a round trip that cost more than the read itself), for up to `pool_size` threads at a
    time; further threads check a connection out per statement. Checking out and back in costs a
    good part of a short read's CPU, and the server reads a network database from a few
    threads of its own (`server.database`), which therefore keep theirs. On either backend, a
    statement that fails on these connections drops the connection (and, on PostgreSQL, the
    reads' idle ones: a restarted server leaves them all stale) and runs once more through
    SQLAlchemy on the engine's own pinged pool, so a passing fault is recovered and a lasting one
    is raised and counted like any other database error. A call running on the event loop
    (`storage.loop_reads`) sends its statements on that loop's asynchronous connections instead.
    """

    def __init__(self, engine: sa.Engine, *, loop_reads: bool = False) -> None:
        self.engine = engine
        # each event loop's asynchronous connections, for calls running on a loop (loop_reads)
        self.loops: LoopReadsByLoop | None = None
        # as many connections as the engine's pool holds (5 for a pool without a size)
        pool_size: int = getattr(engine.pool, "size", lambda: 5)()
        connect = driver_connect_args(engine) if loop_reads else None
        if connect is not None:
            connect = {"application_name": LOOP_READS_NAME, **connect, "autocommit": True}
            self.loops = LoopReadsByLoop(self, connect, pool_size)
        self._local = threading.local()
        self._opened: list[Any] = []
        self._lock = threading.Lock()
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._pool: sa.pool.Pool | None = None
        self._keep = sys.maxsize  # how many threads may keep a connection
        if engine.dialect.name != "sqlite":
            self._pool = engine.pool.recreate()
            # no public switch for this; were it renamed, reads would only ping again (slower)
            self._pool._pre_ping = False
            sa.event.listen(self._pool, "connect", self._on_connect)
            self._keep = pool_size
        # Reads on the driver's own connections are unseen by SQLAlchemy's engine events; the
        # benchmark's SQL capture turns this off to record them.
        self.direct = True

    def _on_connect(self, dbapi_connection: Any, _record: Any) -> None:
        self.engine.dialect.set_isolation_level(dbapi_connection, "AUTOCOMMIT")

    def run(self, sql: str, args: Any) -> Sequence[Sequence[Any]]:
        if not self.direct:
            return self._run_pooled(sql, args)
        on_loop = loop_reads_here()
        if on_loop is not None:  # a call running on the event loop: its connections, no thread
            if on_loop.owner is not self:  # another database's call: a thread's business
                raise OffLoop
            found: Sequence[Sequence[Any]] = await_only(on_loop.rows(sql, args))
            return found
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._open()
            if conn is None:  # every connection that may be kept is: one for this statement
                return self._run_checked_out(sql, args)
        try:
            rows: Sequence[Sequence[Any]] = self._local.cursor.execute(sql, args).fetchall()
        except self.engine.dialect.loaded_dbapi.Error:
            if interrupted():  # its time on the event loop is up: the connection is fine
                raise
            self._drop(conn)
            if self._pool is not None:
                self._pool.dispose()
            return self._run_pooled(sql, args)
        return rows

    def scan(self, sql: str, args: Any, take: Take) -> Taken:
        """`take` of the statement's rows, handed over as they come. SQLite steps through them
        on this thread's cursor, so whatever `take` leaves unread is never read; when `take`
        stopped before the end (it says more rows followed), the cursor is closed, which ends
        the statement and with it the read's snapshot, and the thread gets a new one.
        PostgreSQL's driver has received them all already: they are handed over from `run`."""
        conn = getattr(self._local, "conn", None) if self._pool is None and self.direct else None
        if conn is None and self._pool is None and self.direct:
            conn = self._open()
        if conn is None:
            return take(self.run(sql, args))
        cursor = self._local.cursor
        try:
            taken = take(cursor.execute(sql, args))
        except self.engine.dialect.loaded_dbapi.Error:
            if interrupted():  # its time on the event loop is up, as in `run`
                raise
            self._drop(conn)
            with self._autocommit.connect() as pooled:
                return take(pooled.exec_driver_sql(sql, args))
        if taken[1]:
            with suppress(Exception):
                cursor.close()
            self._local.cursor = conn.driver_connection.cursor()
        return taken

    def _run_checked_out(self, sql: str, args: Any) -> Sequence[Sequence[Any]]:
        assert self._pool is not None
        conn = self._pool.connect()
        try:
            cursor = conn.driver_connection.cursor()  # type: ignore[union-attr]
            cursor.execute(sql, args)
            rows: Sequence[Sequence[Any]] = cursor.fetchall()
            cursor.close()
        except self.engine.dialect.loaded_dbapi.Error:
            with suppress(Exception):
                conn.invalidate()
            self._pool.dispose()
            return self._run_pooled(sql, args)
        finally:
            conn.close()
        return rows

    def _open(self) -> Any:
        """This thread's own connection, or None when as many are kept as may be."""
        with self._lock:
            if len(self._opened) >= self._keep:
                return None
            conn = self.engine.raw_connection() if self._pool is None else self._pool.connect()
            self._opened.append(conn)
        # and its one cursor, kept too: a new cursor per statement costs CPU on PostgreSQL
        self._local.cursor = conn.driver_connection.cursor()  # type: ignore[union-attr]
        self._local.conn = conn
        return conn

    def _drop(self, conn: Any) -> None:
        with self._lock:
            if conn in self._opened:
                self._opened.remove(conn)
        self._local.conn = self._local.cursor = None
        with suppress(Exception):
            conn.invalidate()

    def _run_pooled(self, sql: str, args: Any) -> Sequence[Sequence[Any]]:
        with self._autocommit.connect() as conn:
            return conn.exec_driver_sql(sql, args).fetchall()

    def close(self) -> None:
        """Give every kept connection back, and close the reads' pool (idempotent)."""
        with self._lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            with suppress(Exception):
                conn.close()
        self._local = threading.local()
        if self._pool is not None:
            self._pool.dispose()
        if self.loops is not None:
            self.loops.close_all()
