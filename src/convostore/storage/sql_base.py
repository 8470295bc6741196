"""Transactions and dialect helpers shared by the SQL store's parts.

SQLite has one writer: writes queue here (`group_commit`) instead of failing with "database is
locked", and the writes that queue together share one transaction and one fsync, each in its own
savepoint; reads proceed concurrently under WAL. A write must read through its own connection:
another one does not see the group's writes before their commit. PostgreSQL writes run
concurrently and serialise per session with a row lock (`FOR UPDATE`).

The reads that serve most requests are prepared once per shape (`prepared`): `page` for keyset
and offset lists, `select_where` for the rest, with filters named by the values they compare.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from convostore.cursors import Cursor, decode_cursor, encode_cursor
from convostore.models import MemoryQuery, Page, SessionQuery
from convostore.storage.engine import WRITE_OPTION
from convostore.storage.group_commit import GroupCommit
from convostore.storage.loop_reads import LoopReads, greenlet_installed, refuse_on_loop
from convostore.storage.migrate import upgrade
from convostore.storage.page_budget import budgeted_select, read_within_budget
from convostore.storage.placement import THREADS_ONLY, ReadPlacement
from convostore.storage.prepared import Prepared, PreparedCache, ReadConnections, Take, Taken
from convostore.storage.search_index import DocRows, Progress

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
    def __init__(
        self, engine: sa.Engine, *, listing_cache_bytes: int = 0, loop_reads: bool = True
    ) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self.doc_rows = DocRows(self.dialect)
        # PostgreSQL reads may run on the event loop with an asynchronous driver (loop_reads),
        # when greenlet, which runs them there, is installed
        self.loop_reads_enabled = loop_reads and self.dialect != "sqlite" and greenlet_installed()
        # how much memory list pages may keep their mapped rows in (see row_memo)
        self.listing_cache_bytes = listing_cache_bytes
        # SQLite has one writer: its writes queue up and share commits (see group_commit.py).
        self._group_commit = GroupCommit(engine) if self.dialect == "sqlite" else None

    # lifecycle

    def migrate(self, progress: Progress | None = None) -> str:
        """Bring the schema to the newest revision; `progress(done, total)` hears how far a
        long data migration (indexing for search) got."""
        return upgrade(self.engine, progress=progress)

    def ping(self) -> bool:
        refuse_on_loop()
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            return True
        except sa.exc.SQLAlchemyError:
            return False

    def close(self) -> None:
        if self._group_commit is not None:
            self._group_commit.close()
        readers = self.__dict__.get("_readers")
        if readers is not None:
            readers.close()
        self.engine.dispose()

    # transactions

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        refuse_on_loop()  # a synchronous read would block the loop: a thread does it instead
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @functools.cached_property
    def prepared(self) -> PreparedCache:
        return PreparedCache(self.engine.dialect)

    @functools.cached_property
    def _readers(self) -> ReadConnections:
        return ReadConnections(self.engine, loop_reads=self.loop_reads_enabled)

    @property
    def read_statements(self) -> ReadConnections:
        """The prepared read statements' connections (the benchmark's SQL capture turns their
        `direct` off, so that every statement passes the engine's events)."""
        return self._readers

    def read_placement(self) -> ReadPlacement:
        """Where this store's reads may run (`storage.placement`): an embedded SQLite read on
        the event loop; a PostgreSQL read on the loop's asynchronous connections when reads on
        the loop are on; anything else in a thread."""
        if self.dialect == "sqlite":
            return ReadPlacement(embedded=True)
        if not self.loop_reads_enabled:
            return THREADS_ONLY
        return ReadPlacement(loop_reads=self._loop_reads, close_loop_reads=self._close_loop_reads)

    def _loop_reads(self) -> LoopReads | None:
        loops = self._readers.loops
        return loops.here() if loops is not None else None

    def _close_loop_reads(self) -> None:
        loops = self.__dict__["_readers"].loops if "_readers" in self.__dict__ else None
        if loops is not None:
            loops.close_here()

    def select_where(
        self,
        name: str,
        base: Callable[[], sa.Select[Any]],
        filters: Filters,
        values: Mapping[str, Any],
        *,
        limit: int | None = None,
        raw: bool = False,
    ) -> Sequence[Any]:
        """Rows of `base()` (a select named `name`, ordered as it likes) where every filter named
        in `values` holds; a tuple value is a list to match any of. Prepared once per shape.

        Dicts by column key, or with `raw` the driver's own rows (as `Prepared.raw`)."""
        params, shape = _flatten(values)
        if limit is not None:
            params["limit"] = limit

        def build() -> sa.Select[Any]:
            stmt = base().where(*_conditions(filters, shape))
            return stmt.limit(sa.bindparam("limit")) if limit is not None else stmt

        prepared = self.prepared.get((name, shape, limit is not None), build)
        if raw:
            return prepared.raw(self._readers.run, params)
        return prepared.rows(self._readers.run, params)

    def select_budgeted(
        self,
        name: str,
        columns: Sequence[sa.ColumnElement[Any]],
        filters: Filters,
        values: Mapping[str, Any],
        *,
        large: Sequence[str],
        order_by: Sequence[tuple[str, bool]],
        limit: int,
        max_bytes: int,
    ) -> tuple[list[Sequence[Any]], bool]:
        """A page of `columns` (JSON as text) where every filter named in `values` holds,
        ordered by `order_by`, cut at `limit` rows or after the row that takes its `large`
        columns to `max_bytes` (`page_budget`); and whether rows followed it. Rows as the driver
        gives them, each ending with its size. Prepared once per shape of `name`."""
        params, shape = _flatten(values)
        params["limit"] = limit + 1

        def read(exact: bool, binds: dict[str, int], take: Take) -> Taken:
            def build() -> sa.Select[Any]:
                where = _conditions(filters, shape)
                return budgeted_select(
                    self.dialect, columns, large=large, where=where, order_by=order_by, exact=exact
                )

            prepared = self.prepared.get(("budgeted", name, shape, exact), build)
            return prepared.scan(self._readers.scan, {**params, **binds}, take)

        return read_within_budget(self.dialect, read, limit=limit, max_bytes=max_bytes)

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        refuse_on_loop()
        if self._group_commit is not None:
            with self._group_commit.write() as conn:
                yield conn
            return
        with self.engine.connect() as conn:
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
        filters: Filters,
        params: dict[str, Any],
        request: PageRequest,
        to_value: Callable[[Any], T],
        columns: tuple[sa.ColumnElement[Any], ...] | None = None,
    ) -> Page[T]:
        """Select a page ordered by `(sort, id)`: keyset after a cursor, or an offset.

        `to_value` maps a row to a value: a dict by column key, or, when `columns` are given,
        the driver's own row with those columns in order (no dict built per row; JSON columns
        as `Prepared.raw` leaves them).

        `params` holds the values of the filters that apply, by name; `filters` turns a name into
        its condition. One row beyond the limit is read to know whether more follow; the cursor
        holds the sort key and id of the last row returned, so the next page starts right after it
        at the same cost however deep it is. The total is counted only when asked for.
        """
        values = dict(params)
        if request.after:
            values.update(self._after(table, request))
        if request.offset:
            values["offset"] = request.offset
        values["limit"] = request.limit + 1
        flat, shape = _flatten(values)

        def build() -> sa.Select[Any]:
            return _page_statement(table, filters, shape, request, columns)

        key = (table.name, shape, request.sort, request.order, columns)
        prepared = self.prepared.get(key, build)
        rows: Sequence[Any]  # of dicts, or of the driver's rows
        sort_at: Any
        id_at: Any
        if columns is None:
            rows = prepared.rows(self._readers.run, flat)
            sort_at, id_at = request.sort, "id"
        else:
            rows = prepared.raw(self._readers.run, flat)
            sort_at, id_at = prepared.columns.index(request.sort), prepared.columns.index("id")
        total = self.count(table, filters, params) if request.include_total else None
        has_more = len(rows) > request.limit
        items = [to_value(row) for row in rows[: request.limit]]
        next_cursor = None
        if has_more and items:
            last = rows[request.limit - 1]
            next_cursor = encode_cursor(
                Cursor(sort=request.sort, order=request.order, key=last[sort_at], id=last[id_at])
            )
        return Page(items=items, has_more=has_more, next_cursor=next_cursor, total=total)

    def budgeted_page(
        self,
        table: sa.Table,
        filters: Filters,
        params: dict[str, Any],
        request: PageRequest,
        to_value: Callable[[Any], T],
        *,
        large: Sequence[str],
        max_bytes: int,
        columns: tuple[sa.ColumnElement[Any], ...] | None = None,
    ) -> Page[T]:
        """`page` (after a cursor or an offset; no total), cut after the row that takes its
        `large` columns to `max_bytes` (`page_budget`). `to_value` maps a row as a dict (JSON
        decoded), or, when `columns` are given, the driver's own row of those columns, as `page`
        hands it over."""
        values = dict(params)
        if request.after:
            values.update(self._after(table, request))
        if request.offset:
            values["offset"] = request.offset
        flat, shape = _flatten(values)
        flat["limit"] = request.limit + 1
        descending = request.order == "desc"
        used: list[Prepared] = []

        def read(exact: bool, binds: dict[str, int], take: Take) -> Taken:
            def build() -> sa.Select[Any]:
                where = _conditions(filters, shape) + _keyset(table, shape, request)
                order = ((request.sort, descending), ("id", descending))
                return budgeted_select(
                    self.dialect,
                    columns if columns is not None else tuple(table.c),
                    large=large,
                    where=where,
                    order_by=order,
                    as_text=False,
                    exact=exact,
                    offset="offset" in shape,
                )

            key = ("budgeted", table.name, shape, request.sort, request.order, exact, columns)
            used.append(self.prepared.get(key, build))
            return used[-1].scan(self._readers.scan, {**flat, **binds}, take)

        rows, has_more = read_within_budget(
            self.dialect, read, limit=request.limit, max_bytes=max_bytes
        )
        prepared = used[-1]
        sort_at: str | int
        id_at: str | int
        if columns is None:
            found: Sequence[Any] = prepared.decoded(rows)
            sort_at, id_at = request.sort, "id"
            items = [to_value(r) for r in found]
        else:
            found = rows
            sort_at, id_at = prepared.columns.index(request.sort), prepared.columns.index("id")
            items = [to_value(r[:-1]) for r in found]  # each row ends with its size
        next_cursor = None
        if has_more and found:
            last = found[-1]
            next_cursor = encode_cursor(
                Cursor(sort=request.sort, order=request.order, key=last[sort_at], id=last[id_at])
            )
        return Page(items=items, has_more=has_more, next_cursor=next_cursor)

    @staticmethod
    def _after(table: sa.Table, request: PageRequest) -> dict[str, Any]:
        """The keyset values of a page's `after` cursor (a 400 for one that is not ours)."""
        assert request.after is not None
        key_type = int if isinstance(table.c[request.sort].type, sa.Integer) else str
        cursor = decode_cursor(
            request.after, sort=request.sort, order=request.order, key_type=key_type
        )
        return {"after_key": cursor.key, "after_id": cursor.id}

    def count(self, table: sa.Table, filters: Filters, values: dict[str, Any]) -> int:
        """How many rows of `table` match the filters in `values`."""

        def base() -> sa.Select[Any]:
            return sa.select(sa.func.count().label("n")).select_from(table)

        rows = self.select_where(f"count {table.name}", base, filters, values)
        return int(rows[0]["n"])


# A filter's name -> its condition, given the bind parameter that will carry its value (for a
# filter given a tuple of values: the list of their bind parameters).
Filters = Mapping[str, Callable[[Any], sa.ColumnElement[bool]]]
# What a statement's filters look like: a name per single value, (name, count) per tuple.
Shape = tuple[str | tuple[str, int], ...]


def _flatten(values: Mapping[str, Any]) -> tuple[dict[str, Any], Shape]:
    """Bind parameters for `values` (a tuple's items numbered) and the shape they make."""
    params: dict[str, Any] = {}
    shape: list[str | tuple[str, int]] = []
    for name, value in values.items():
        if isinstance(value, tuple):
            params.update((f"{name}__{i}", item) for i, item in enumerate(value))
            shape.append((name, len(value)))
        else:
            params[name] = value
            shape.append(name)
    return params, tuple(shape)


def _conditions(filters: Filters, shape: Shape) -> list[sa.ColumnElement[bool]]:
    conditions = []
    for entry in shape:
        if isinstance(entry, tuple):
            name, count = entry
            binds: list[sa.BindParameter[Any]] = [
                sa.bindparam(f"{name}__{i}") for i in range(count)
            ]
            conditions.append(filters[name](binds))
        elif entry in filters:
            conditions.append(filters[entry](sa.bindparam(entry)))
    return conditions


def _page_statement(
    table: sa.Table,
    filters: Filters,
    shape: Shape,
    request: PageRequest,
    columns: Sequence[sa.ColumnElement[Any]] | None,
) -> sa.Select[Any]:
    sort_col, id_col = table.c[request.sort], table.c.id
    descending = request.order == "desc"
    conditions = _conditions(filters, shape) + _keyset(table, shape, request)
    ordering = (sort_col.desc(), id_col.desc()) if descending else (sort_col, id_col)
    selected = sa.select(*columns) if columns is not None else sa.select(table)
    stmt = selected.where(*conditions).order_by(*ordering).limit(sa.bindparam("limit"))
    if "offset" in shape:
        stmt = stmt.offset(sa.bindparam("offset"))
    return stmt


def _keyset(table: sa.Table, shape: Shape, request: PageRequest) -> list[sa.ColumnElement[bool]]:
    """The condition that continues a page after its cursor's `(sort key, id)`, if it has one."""
    if "after_key" not in shape:
        return []
    keyset = sa.tuple_(table.c[request.sort], table.c.id)
    bound = sa.tuple_(sa.bindparam("after_key"), sa.bindparam("after_id"))
    return [keyset < bound if request.order == "desc" else keyset > bound]


def as_text(column: sa.Column[Any]) -> sa.ColumnElement[Any]:
    """A column to read from the driver as it is, JSON as its text (same name): the row mappers
    decode JSON with orjson, which on PostgreSQL costs less than the driver's loader called
    once per value (SQLite hands JSON back as text anyway)."""
    if isinstance(column.type, sa.JSON):
        return sa.cast(column, sa.Text).label(column.key)
    return column


def like_pattern(text: str) -> str:
    """A substring pattern for LIKE or ILIKE, its metacharacters escaped (escape char `\\`)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
