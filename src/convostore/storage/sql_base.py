"""Transactions and dialect helpers shared by the SQL store's parts.

SQLite has one writer: writes take a process-wide lock and `BEGIN IMMEDIATE`, so they queue here
instead of failing with "database is locked", while reads proceed concurrently under WAL.
PostgreSQL writes run concurrently and serialise per session with a row lock (`FOR UPDATE`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from convostore.storage.engine import WRITE_OPTION
from convostore.storage.migrate import upgrade


class SqlBase:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._write_lock = threading.Lock() if self.dialect == "sqlite" else None

    # lifecycle

    def migrate(self) -> str:
        return upgrade(self.engine)

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            return True
        except sa.exc.SQLAlchemyError:
            return False

    def close(self) -> None:
        self.engine.dispose()

    # transactions

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        with self._write_lock or nullcontext(), self.engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                yield conn

    # dialect helpers

    def insert(self, table: sa.Table) -> Any:
        """An INSERT that supports `on_conflict_do_nothing` on both backends."""
        if self.dialect == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    def lock(self, stmt: sa.Select[Any]) -> sa.Select[Any]:
        """Row-lock a select on PostgreSQL; SQLite's BEGIN IMMEDIATE already holds the lock."""
        return stmt.with_for_update() if self.dialect == "postgresql" else stmt


def like_pattern(text: str) -> str:
    """A case-insensitive substring pattern with LIKE metacharacters escaped (escape char `\\`)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
