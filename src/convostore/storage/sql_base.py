"""Transactions and dialect helpers shared by the SQL store's parts.

SQLite has one writer: writes take a process-wide lock and `BEGIN IMMEDIATE`, so they queue here
instead of failing with "database is locked", while reads proceed concurrently under WAL.
PostgreSQL writes run concurrently and serialise per session with a row lock (`FOR UPDATE`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from convostore.cursors import Cursor, decode_cursor, encode_cursor
from convostore.models import MemoryQuery, Page, SessionQuery
from convostore.storage.engine import WRITE_OPTION
from convostore.storage.migrate import upgrade

T = TypeVar("T")


@dataclass(frozen=True)
class PageRequest:
    """One page of a keyset-paged list: the sort, its direction, and where to continue."""

    sort: str
    order: str
    limit: int
    after: str | None = None
    offset: int | None = None
    include_total: bool = False

    @classmethod
    def of(cls, query: SessionQuery | MemoryQuery) -> PageRequest:
        return cls(
            sort=query.sort,
            order=query.order,
            limit=query.limit,
            after=query.after,
            offset=query.offset,
            include_total=query.include_total,
        )


class SqlBase:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        # An embedded SQLite read takes tens of microseconds: cheaper to run on the event loop than
        # to hand to a worker thread. Network databases are read from worker threads.
        self.inline_reads = self.dialect == "sqlite"
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

    def page(
        self,
        table: sa.Table,
        conditions: list[Any],
        request: PageRequest,
        to_value: Callable[[Any], T],
        columns: Sequence[sa.ColumnElement[Any]] | None = None,
    ) -> Page[T]:
        """Select a page ordered by `(sort, id)`: keyset after a cursor, or an offset.

        One row beyond the limit is read to know whether more follow; the cursor holds the sort
        key and id of the last row returned, so the next page starts right after it at the same
        cost however deep it is. The total is counted only when asked for.
        """
        sort_col, id_col = table.c[request.sort], table.c.id
        descending = request.order == "desc"
        page_conditions = list(conditions)
        if request.after:
            key_type = int if isinstance(sort_col.type, sa.Integer) else str
            cursor = decode_cursor(
                request.after, sort=request.sort, order=request.order, key_type=key_type
            )
            keyset = sa.tuple_(sort_col, id_col)
            bound = sa.tuple_(sa.literal(cursor.key), sa.literal(cursor.id))
            page_conditions.append(keyset < bound if descending else keyset > bound)
        ordering = (sort_col.desc(), id_col.desc()) if descending else (sort_col, id_col)
        selected = sa.select(*columns) if columns is not None else sa.select(table)
        stmt = selected.where(*page_conditions).order_by(*ordering)
        if request.offset:
            stmt = stmt.offset(request.offset)
        stmt = stmt.limit(request.limit + 1)
        with self.read() as conn:
            rows = conn.execute(stmt).mappings().all()
            total = None
            if request.include_total:
                count = sa.select(sa.func.count()).select_from(table).where(*conditions)
                total = conn.execute(count).scalar_one()
        has_more = len(rows) > request.limit
        items = [to_value(row) for row in rows[: request.limit]]
        next_cursor = None
        if has_more and items:
            last = rows[request.limit - 1]
            next_cursor = encode_cursor(
                Cursor(
                    sort=request.sort, order=request.order, key=last[request.sort], id=last["id"]
                )
            )
        return Page(items=items, has_more=has_more, next_cursor=next_cursor, total=total)


def like_pattern(text: str) -> str:
    """A case-insensitive substring pattern with LIKE metacharacters escaped (escape char `\\`)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
