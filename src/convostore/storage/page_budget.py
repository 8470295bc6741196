"""Pages cut by size as well as by count.

A page of messages may ask for 1,000 rows of up to several megabytes each, and what a store reads
the server holds. So a page read with a byte budget ends at whichever comes first: `limit` rows,
or the row that takes the page's stored text and JSON to `max_bytes` or past it (the first row
always fits, however large). The caller answers `has_more` and a cursor after the last row kept,
as for any page.

The rows left out are not read. SQLite hands a statement's rows over one at a time, and
`within_budget` stops taking them after the first row it leaves out (which tells that more
follow). PostgreSQL's driver receives a statement's whole result at once, so there the statement
leaves out the large columns it must not send: they come back as NULL. First (`exact=False`) those
of every row larger than the budget's share of one row (`max_bytes / (limit + 1)`), which costs a
size per row and nothing else, and sends every small page whole; when a row the page keeps was
larger than that, the page is read again (`exact=True`) by a statement that sums the sizes in page
order (a window over the limited rows, which holds only TOAST pointers) and leaves out the large
columns of exactly the rows past the budget. `read_within_budget` does the choosing.

Sizes come from the database without decoding anything. Every budgeted row ends with its size
(`SIZE`), in bytes: on SQLite those of each text and JSON text; on PostgreSQL those of each text
(`octet_length`, read from the TOAST header) and of each JSON value as stored (`pg_column_size`),
except that a compressed JSON value is measured as its text, which PostgreSQL writes out to
count: compression can fold a megabyte of repetitive JSON into a few kilobytes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa

# The name of the size column every budgeted row carries last.
SIZE = "_size"
# A budget no page reaches: the page is cut by count only.
UNBOUNDED = 2**62

R = TypeVar("R", bound=Sequence[Any])


def within_budget(rows: Iterable[R], limit: int, max_bytes: int) -> tuple[list[R], bool]:
    """The rows a page keeps (at most `limit`, and none after the one that reaches
    `max_bytes`), and whether a row followed them. Reads one row past the page at most."""
    kept: list[R] = []
    total = 0  # only the first row is kept at 0, whatever its size: `max_bytes` is at least 1
    for row in rows:
        if total >= max_bytes or len(kept) == limit:
            return kept, True
        kept.append(row)
        total += row[-1]
    return kept, False


def size_of(dialect: str, columns: Iterable[sa.ColumnElement[Any]]) -> sa.ColumnElement[int]:
    """The stored size of a row's `columns` (text and JSON ones), measured without decoding."""
    total: sa.ColumnElement[int] | None = None
    for column in columns:
        part: sa.ColumnElement[Any]
        if dialect != "postgresql":  # a text's bytes, without counting its characters
            part = sa.func.length(sa.cast(column, sa.LargeBinary))
        elif isinstance(column.type, sa.JSON):
            part = sa.case(
                (sa.func.pg_column_compression(column).is_(None), sa.func.pg_column_size(column)),
                else_=sa.func.octet_length(sa.cast(column, sa.Text)),
            )
        else:
            part = sa.func.octet_length(column)
        part = sa.func.coalesce(part, sa.literal_column("0"))
        total = part if total is None else total + part
    assert total is not None, "a size needs at least one column"
    return total


def read_within_budget(
    dialect: str, read: Read[R], *, limit: int, max_bytes: int
) -> tuple[list[R], bool]:
    """A page cut by `limit` and `max_bytes` (as `within_budget` keeps it), and whether rows
    follow it. `read(exact, binds, take)` runs the `budgeted_select` made with `exact` and the
    given extra bind values, and returns what `take` makes of its rows as the driver hands
    them over."""
    take = functools.partial(within_budget, limit=limit, max_bytes=max_bytes)
    if dialect != "postgresql":
        return read(True, {}, take)
    row_bytes = max(max_bytes // (limit + 1), 1)
    rows, more = read(False, {"row_bytes": row_bytes}, take)
    if all(row[-1] <= row_bytes for row in rows):
        return rows, more  # nothing left out of the rows kept
    return read(True, {"max_bytes": max_bytes}, take)


Take = Callable[[Iterable[R]], tuple[list[R], bool]]
# runs a budgeted select (exact or not) with extra bind values, handing its rows to a `Take`
Read = Callable[[bool, dict[str, int], Take[R]], tuple[list[R], bool]]


def budgeted_select(
    dialect: str,
    columns: Sequence[sa.ColumnElement[Any]],
    *,
    large: Collection[str],
    where: Sequence[sa.ColumnElement[bool]],
    order_by: Sequence[tuple[str, bool]],
    as_text: bool = True,
    exact: bool = True,
    offset: bool = False,
) -> sa.Select[Any]:
    """A page of `columns` (table columns or labelled expressions) ordered by `order_by`
    (`(column key, descending)`), with bind parameters `limit` (and `offset`, when asked for)
    and, on PostgreSQL, `max_bytes` (`exact`) or `row_bytes` (not `exact`).

    Each row ends with its `SIZE`, that of its `large` columns. `as_text`: JSON columns are
    selected as their text (`sql_base.as_text`). On PostgreSQL the `large` columns are NULL in
    the rows past `max_bytes` (`exact`), or in the rows larger than `row_bytes`.
    """
    by_key = {str(c.key): c for c in columns}
    size = size_of(dialect, [by_key[name] for name in large])
    limit: sa.BindParameter[int] = sa.bindparam("limit")

    def ordering(source: Any) -> list[sa.ColumnElement[Any]]:
        return [source[name].desc() if desc else source[name].asc() for name, desc in order_by]

    skip: sa.BindParameter[int] | None = sa.bindparam("offset") if offset else None
    if dialect != "postgresql":
        selected = [_text(c, str(c.key), as_text) for c in columns]
        stmt = sa.select(*selected, size.label(SIZE)).where(*where)
        return stmt.order_by(*ordering(by_key)).limit(limit).offset(skip)
    rows = (
        sa.select(*columns, size.label(SIZE))
        .where(*where)
        .order_by(*ordering(by_key))
        .limit(limit)
        .offset(skip)
        .subquery("page")
    )
    if exact:
        before = sa.func.sum(rows.c[SIZE]).over(order_by=ordering(rows.c)) - rows.c[SIZE]
        kept = before < sa.bindparam("max_bytes", type_=sa.BigInteger)
    else:
        kept = rows.c[SIZE] <= sa.bindparam("row_bytes", type_=sa.BigInteger)
    selected = []
    for column in columns:
        name = str(column.key)
        value = _text(rows.c[name], None, as_text)
        if name in large:
            value = sa.case((kept, value), else_=sa.null())
        selected.append(value.label(name))
    return sa.select(*selected, rows.c[SIZE]).order_by(*ordering(rows.c))


def _text(column: sa.ColumnElement[Any], label: str | None, as_text: bool) -> sa.ColumnElement[Any]:
    """A JSON column as its text (when `as_text`), under `label` when one is given."""
    value = sa.cast(column, sa.Text) if as_text and isinstance(column.type, sa.JSON) else column
    return value.label(label) if label is not None and value is not column else value
