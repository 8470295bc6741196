"""Statements of a write transaction, compiled once per shape and run on its own connection.

An append runs half a dozen small statements; through SQLAlchemy each cost more CPU in building,
cache keys and execution context than SQLite takes to run it. As with the prepared reads
(`prepared.py`), each statement is described once per shape with bind parameters, compiled for
the engine's dialect, and afterwards only its SQL text and values reach the driver. Values go
through the same conversions SQLAlchemy would apply (its own bind processors; JSON serialised
with orjson as the engine's serializer does, `None` as JSON `null`), so rows are stored alike.

SQLite: statements run on the write transaction's driver connection. A statement the driver
refuses runs once more through SQLAlchemy (after undoing any rows a half-done executemany wrote),
so the error is raised, typed and counted by the engine's events like any other; if SQLite lost
the whole transaction, the driver's error is raised wrapped in SQLAlchemy's type instead (a retry
would run outside the transaction). PostgreSQL: `exec_driver_sql` on the same connection, which
keeps SQLAlchemy's error handling (a failed statement aborts a PostgreSQL transaction: no retry).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

import orjson
import sqlalchemy as sa

from convostore.storage.prepared import BuiltOnce, Prepared, PreparedCache

Convert = Callable[[Any], Any]
Change = sa.Insert | sa.Update | sa.Delete
# Undoes the rows of one failed executemany before it is run again.
_MANY_SAVEPOINT = "convostore_many"


def _json_text(value: Any) -> str:
    """The engine's JSON serialisation (see engine.py); `None` is JSON `null`, as SQLAlchemy's."""
    return "null" if value is None else orjson.dumps(value).decode()


def _json_or_sql_null(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


class PreparedWrite:
    """One INSERT, UPDATE or DELETE compiled for a dialect: SQL text, parameter order, and the
    conversion each parameter needs (SQLAlchemy's bind processors, JSON by orjson)."""

    __slots__ = ("plan", "positional", "sql")

    def __init__(self, stmt: Change, dialect: sa.Dialect) -> None:
        compiled = stmt.compile(dialect=dialect)
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("a prepared write takes plain values (no expanding binds)")
        self.sql: str = compiled.string
        self.positional = bool(compiled.positional)
        names = compiled.positiontup if compiled.positional else list(compiled.params)
        processors = compiled._bind_processors
        plan: list[tuple[str, Convert | None]] = []
        for name in names or ():
            processor = processors.get(name)
            if processor is not None and not callable(processor):
                raise ValueError("a prepared write takes plain values (no tuple binds)")
            convert: Convert | None = processor
            value_type = compiled.binds[name].type
            if isinstance(value_type, sa.JSON):
                convert = _json_or_sql_null if value_type.none_as_null else _json_text
            plan.append((name, convert))
        self.plan = tuple(plan)

    def arguments(self, params: Mapping[str, Any]) -> Any:
        """The driver's parameters for `params` (a tuple for qmark, a dict for pyformat)."""
        try:
            values = [params[n] if c is None else c(params[n]) for n, c in self.plan]
        except (TypeError, ValueError) as exc:  # a value the column's type cannot take
            raise sa.exc.StatementError(
                f"({type(exc).__module__}.{type(exc).__name__}) {exc}", self.sql, None, exc
            ) from exc
        if self.positional:
            return tuple(values)
        return dict(zip((n for n, _ in self.plan), values, strict=True))


class WriteStatements:
    """The compiled write-path statements of one engine, by shape key (built on first use)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.dialect = engine.dialect
        self._selects = PreparedCache(self.dialect)
        self._changes: BuiltOnce[PreparedWrite] = BuiltOnce()
        # SQLite statements go straight to the driver, unseen by SQLAlchemy's engine events; the
        # benchmark's SQL capture turns this off to record them.
        self.direct = self.dialect.name == "sqlite"

    def select(self, key: Hashable, build: Callable[[], sa.Select[Any]]) -> Prepared:
        return self._selects.get(key, build)

    def change(self, key: Hashable, build: Callable[[], Change]) -> PreparedWrite:
        return self._changes.get(key, lambda: PreparedWrite(build(), self.dialect))

    def on(self, conn: sa.Connection) -> Writer:
        """Run statements in the transaction `conn` holds."""
        return Writer(self, conn)


class Writer:
    """Prepared statements run inside one write transaction, on its connection."""

    __slots__ = ("_driver", "conn", "statements")

    def __init__(self, statements: WriteStatements, conn: sa.Connection) -> None:
        self.statements = statements
        self.conn = conn
        self._driver: Any = conn.connection.driver_connection if statements.direct else None

    def rows(
        self, key: Hashable, build: Callable[[], sa.Select[Any]], params: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """Rows of the select `key` (built by `build` on first use), as dicts by column key."""
        return self.statements.select(key, build).rows(self._fetch, params)

    def execute(
        self, key: Hashable, build: Callable[[], Change], params: Mapping[str, Any]
    ) -> None:
        """Run the INSERT, UPDATE or DELETE `key` once, with `params`."""
        stmt = self.statements.change(key, build)
        self._run(stmt.sql, stmt.arguments(params), many=False)

    def inserted(
        self, key: Hashable, build: Callable[[], sa.Insert], params: Mapping[str, Any]
    ) -> bool:
        """Run the INSERT `key` (ON CONFLICT DO NOTHING ... RETURNING) once: did it add a row?"""
        stmt = self.statements.change(key, build)
        return bool(self._run(stmt.sql, stmt.arguments(params), many=False, fetch=True))

    def execute_many(
        self, key: Hashable, build: Callable[[], Change], rows: Sequence[Mapping[str, Any]]
    ) -> None:
        """Run the INSERT `key` once per row (one executemany; one row: one statement)."""
        if not rows:
            return
        stmt = self.statements.change(key, build)
        if len(rows) == 1:
            self._run(stmt.sql, stmt.arguments(rows[0]), many=False)
            return
        arguments = stmt.arguments
        self._run(stmt.sql, [arguments(row) for row in rows], many=True)

    # running

    def _fetch(self, sql: str, args: Any) -> Sequence[Sequence[Any]]:
        return self._run(sql, args, many=False, fetch=True)

    def _run(
        self, sql: str, args: Any, *, many: bool, fetch: bool = False
    ) -> Sequence[Sequence[Any]]:
        driver = self._driver
        if driver is None:
            return self._through_sqlalchemy(sql, args, fetch=fetch)
        try:
            if many:
                driver.execute(f"SAVEPOINT {_MANY_SAVEPOINT}")
                driver.executemany(sql, args)
                driver.execute(f"RELEASE {_MANY_SAVEPOINT}")
                return ()
            cursor = driver.execute(sql, args)
            return cursor.fetchall() if fetch else ()
        except self.statements.dialect.loaded_dbapi.Error as exc:
            if not self._recovered(driver, many=many):
                raise self._wrapped(exc, sql, args) from exc
        # Nothing of the failed statement is left: run it again where errors are handled.
        return self._through_sqlalchemy(sql, args, fetch=fetch)

    def _through_sqlalchemy(self, sql: str, args: Any, *, fetch: bool) -> Sequence[Sequence[Any]]:
        result = self.conn.exec_driver_sql(sql, args)
        return result.fetchall() if fetch else ()

    def _recovered(self, driver: Any, *, many: bool) -> bool:
        """Undo what a failed statement left; False if the transaction itself is gone."""
        if not driver.in_transaction:  # SQLite rolled it all back (disk full, I/O error)
            return False
        if many:
            try:
                driver.execute(f"ROLLBACK TO {_MANY_SAVEPOINT}")
                driver.execute(f"RELEASE {_MANY_SAVEPOINT}")
            except self.statements.dialect.loaded_dbapi.Error:
                return False
        return True

    def _wrapped(self, exc: Any, sql: str, args: Any) -> sa.exc.StatementError:
        """The driver's error as SQLAlchemy would have raised it."""
        dialect = self.statements.dialect
        wrapped: sa.exc.StatementError = sa.exc.DBAPIError.instance(
            sql,
            args,
            exc,
            dialect.loaded_dbapi.Error,
            hide_parameters=self.conn.engine.hide_parameters,  # as the engine's own errors
            connection_invalidated=dialect.is_disconnect(exc, self._driver, None),
            dialect=dialect,
        )
        return wrapped
