"""Pages cut by size as well as by count.

A page of messages may ask for 1,000 rows of up to several megabytes each, and what a store reads
the server holds. So a page read with a byte budget ends at whichever comes first: `limit` rows,
or the row that takes the page's stored text and JSON to `max_bytes` or past it (the first row
always fits, however large). The caller answers `has_more` and a cursor after the last row kept,
as for any page.

The rows left out are not read. SQLite hands a statement's rows over one at a time, and
`within_budget` stops taking them after the first row it leaves out (which tells that more
follow). PostgreSQL's driver receives a statement's whole result at once, so there the statement
itself sums the sizes in page order (a window over the limited rows, which holds only TOAST
pointers) and leaves out the large columns of the rows past the budget: they come back as NULL.

Sizes come from the database without decoding anything. Every budgeted row ends with its size
(`SIZE`), in bytes: on SQLite those of each text and JSON text; on PostgreSQL those of each text
(`octet_length`, read from the TOAST header) and of each JSON value as stored (`pg_column_size`),
except that a compressed JSON value is measured as its text, which PostgreSQL writes out to
count: compression can fold a megabyte of repetitive JSON into a few kilobytes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
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
    total = 0
    for row in rows:
        if len(kept) == limit or (kept and total >= max_bytes):
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


def budgeted_select(
    dialect: str,
    columns: Sequence[sa.ColumnElement[Any]],
    *,
    large: Collection[str],
    where: Sequence[sa.ColumnElement[bool]],
    order_by: Sequence[tuple[str, bool]],
    as_text: bool = True,
    offset: bool = False,
) -> sa.Select[Any]:
    """A page of `columns` (table columns or labelled expressions) ordered by `order_by`
    (`(column key, descending)`), with bind parameters `limit` (and `offset`, when asked for)
    and, on PostgreSQL, `max_bytes`.

    Each row ends with its `SIZE`, that of its `large` columns. `as_text`: JSON columns are
    selected as their text (`sql_base.as_text`). On PostgreSQL the `large` columns of the rows
    past `max_bytes` are NULL, as `within_budget` leaves those rows out.
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
    before = sa.func.sum(rows.c[SIZE]).over(order_by=ordering(rows.c)) - rows.c[SIZE]
    kept = before < sa.bindparam("max_bytes", type_=sa.BigInteger)
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
