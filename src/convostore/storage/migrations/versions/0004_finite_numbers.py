"""Numbers that older versions stored as null, NaN or Infinity are repaired.

Before this revision, NaN, ±Infinity and numbers that overflow a double (`1e309`) were accepted,
and orjson wrote them into JSON columns as null: a session's metric total that overflowed, or was
fed a NaN, read as null, and every later append carrying that metric failed; an evidence time
stored as null made the message unreadable; PostgreSQL kept NaN and Infinity in the evidence
table's float columns, SQLite Infinity (and NaN as NULL). Now they are refused on the way in
(`validation.check_numbers`), read leniently (`storage/row_reads.py`), and repaired here:

* a metric of a message or a run that is not a number is removed (it was one no longer);
* an evidence item's `start` that is not a finite number becomes 0, the start of its source; an
  `end` or a source's `duration` that is not one becomes null (absent), as reads show them;
* the evidence rows of such a message are computed again from its repaired refs, and so is
  every evidence row whose span is not finite, or has only one end;
* a session total that is not a number is computed again: the sum of the session's runs'
  metrics and of the metrics of messages outside any run (as appends add them), stopping at the
  64-bit range; a total that nothing sums to any more is removed. Totals that are numbers are
  kept as they are.

Finding them reads every run's and message's metrics and refs once (one pass over each table,
in the database, with a pattern that only damaged rows match); only those rows are decoded.
SQLite JSON text that some other writer left NaN or Infinity in is repaired the same way.

Revision ID: 0004_finite_numbers
Revises: 0003_idempotency_scope
Create Date: 2026-12-03
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from convostore.rules import sum_metrics
from convostore.storage.row_reads import evidence_ref_from_json
from convostore.storage.row_writes import evidence_span
from convostore.storage.stored_json import stored_json

revision = "0004_finite_numbers"
down_revision = "0003_idempotency_scope"
branch_labels = None
depends_on = None

_JSON = sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
_LARGEST = 1.7976931348623157e308  # the largest finite double

sessions = sa.table(
    "sessions", sa.column("tenant_id"), sa.column("id"), sa.column("metrics", _JSON)
)
runs = sa.table(
    "runs", sa.column("tenant_id"), sa.column("session_id"), sa.column("id"),
    sa.column("metrics", _JSON),
)  # fmt: skip
messages = sa.table(
    "messages", sa.column("tenant_id"), sa.column("session_id"), sa.column("seq"),
    sa.column("run_id"), sa.column("metrics", _JSON), sa.column("refs", _JSON),
)  # fmt: skip
evidence = sa.table(
    "evidence", sa.column("tenant_id"), sa.column("session_id"), sa.column("seq"),
    sa.column("ref_index"), sa.column("start_min", sa.Float), sa.column("end_max", sa.Float),
)  # fmt: skip

MessageKey = tuple[str, str, int]
# a row's key columns, and the values to set on it
Change = tuple[dict[str, Any], dict[str, Any]]


def upgrade() -> None:
    conn = op.get_bind()
    _repair_run_metrics(conn)
    repaired = _repair_messages(conn)
    _repair_evidence(conn, repaired | _broken_spans(conn))
    _repair_totals(conn)


def downgrade() -> None:
    """Nothing to undo: the repaired values are valid in every version."""


# --- finding damaged rows ----------------------------------------------------------------------


def _damaged(conn: sa.Connection, column: Any, *patterns: str) -> sa.ColumnElement[bool]:
    """A JSON column whose text matches one of `patterns`, or (SQLite) holds NaN or Infinity."""
    text = sa.cast(column, sa.Text)
    conditions = [text.like(pattern) for pattern in patterns]
    if conn.dialect.name == "sqlite":
        conditions += [text.op("GLOB")("*NaN*"), text.op("GLOB")("*Infinity*")]
    return sa.or_(*conditions)


def _null_start(conn: sa.Connection, column: Any) -> sa.ColumnElement[bool]:
    # SQLite keeps orjson's compact text, PostgreSQL writes jsonb with a space
    return _damaged(conn, column, '%"start":null%', '%"start": null%')


def _is_number(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, int) and not isinstance(value, bool)


def _numbers_only(metrics: Any) -> dict[str, Any] | None:
    """A metrics dict without the values that are not numbers; None when nothing is left."""
    if not isinstance(metrics, dict):
        return None
    return {k: v for k, v in metrics.items() if _is_number(v)} or None


def _decoded(text: str | None) -> Any:
    return None if text is None else stored_json(text)


def _write(conn: sa.Connection, table: Any, changes: list[Change]) -> None:
    """Each `(key, values)` of `changes`: set `values` on the row whose columns equal `key`
    (one statement, run for them all; every change names the same columns)."""
    if not changes:
        return
    key, values = changes[0]
    stmt = (
        table.update()
        .where(*(table.c[name] == sa.bindparam(f"k_{name}") for name in key))
        .values({name: sa.bindparam(f"v_{name}") for name in values})
    )
    conn.execute(
        stmt,
        [
            {**{f"k_{n}": v for n, v in key.items()}, **{f"v_{n}": v for n, v in values.items()}}
            for key, values in changes
        ],
    )


# --- runs and messages -------------------------------------------------------------------------


def _repair_run_metrics(conn: sa.Connection) -> None:
    c = runs.c
    found = conn.execute(
        sa.select(c.tenant_id, c.session_id, c.id, sa.cast(c.metrics, sa.Text)).where(
            _damaged(conn, c.metrics, "%null%")
        )
    ).all()
    changes: list[Change] = []
    for tenant_id, session_id, run_id, text in found:
        metrics = _decoded(text)
        repaired = _numbers_only(metrics)
        if repaired != metrics:
            key = {"tenant_id": tenant_id, "session_id": session_id, "id": run_id}
            changes.append((key, {"metrics": repaired}))
    _write(conn, runs, changes)


def _repair_messages(conn: sa.Connection) -> set[MessageKey]:
    """Repair messages' metrics and refs; the keys of the messages whose refs changed."""
    c = messages.c
    found = conn.execute(
        sa.select(
            c.tenant_id, c.session_id, c.seq, sa.cast(c.metrics, sa.Text), sa.cast(c.refs, sa.Text)
        ).where(sa.or_(_damaged(conn, c.metrics, "%null%"), _null_start(conn, c.refs)))
    ).all()
    changes: list[Change] = []
    refs_changed: set[MessageKey] = set()
    for tenant_id, session_id, seq, metrics_text, refs_text in found:
        metrics, refs = _decoded(metrics_text), _decoded(refs_text)
        new_metrics = _numbers_only(metrics) if metrics is not None else None
        new_refs = _repaired_refs(_decoded(refs_text))  # decoded again: repaired in place
        if new_refs != refs:
            refs_changed.add((tenant_id, session_id, seq))
        if new_metrics != metrics or new_refs != refs:
            key = {"tenant_id": tenant_id, "session_id": session_id, "seq": seq}
            changes.append((key, {"metrics": new_metrics, "refs": new_refs}))
    _write(conn, messages, changes)
    return refs_changed


def _repaired_refs(refs: Any) -> Any:
    """Refs as reads show them (`row_reads.evidence_ref_from_json`, which changes them in place),
    written as appends write them."""
    if not isinstance(refs, list) or not refs:
        return refs
    return [evidence_ref_from_json(ref).model_dump(mode="json") for ref in refs]


# --- evidence ----------------------------------------------------------------------------------


def _broken_spans(conn: sa.Connection) -> set[MessageKey]:
    """Messages with an evidence row whose span is not finite, or has only one end."""
    c = evidence.c

    def not_finite(column: Any) -> sa.ColumnElement[bool]:
        # NaN is greater than every number on PostgreSQL, so it is not between them either
        return sa.and_(column.is_not(None), sa.not_(column.between(-_LARGEST, _LARGEST)))

    one_end = sa.or_(
        sa.and_(c.start_min.is_(None), c.end_max.is_not(None)),
        sa.and_(c.start_min.is_not(None), c.end_max.is_(None)),
    )
    stmt = sa.select(c.tenant_id, c.session_id, c.seq).where(
        sa.or_(not_finite(c.start_min), not_finite(c.end_max), one_end)
    )
    return {(t, s, q) for t, s, q in conn.execute(stmt.distinct())}


def _repair_evidence(conn: sa.Connection, keys: Iterable[MessageKey]) -> None:
    """Compute the evidence rows of these messages again from their (repaired) refs."""
    c = messages.c
    changes: list[Change] = []
    for tenant_id, session_id, seq in sorted(keys):
        text = conn.execute(
            sa.select(sa.cast(c.refs, sa.Text)).where(
                c.tenant_id == tenant_id, c.session_id == session_id, c.seq == seq
            )
        ).scalar()
        refs = _decoded(text)
        for index, ref in enumerate(refs if isinstance(refs, list) else ()):
            start_min, end_max = evidence_span(evidence_ref_from_json(ref))
            key = {"tenant_id": tenant_id, "session_id": session_id, "seq": seq}
            changes.append(
                ({**key, "ref_index": index}, {"start_min": start_min, "end_max": end_max})
            )
    _write(conn, evidence, changes)


# --- session totals ----------------------------------------------------------------------------


def _repair_totals(conn: sa.Connection) -> None:
    c = sessions.c
    found = conn.execute(
        sa.select(c.tenant_id, c.id, sa.cast(c.metrics, sa.Text)).where(
            _damaged(conn, c.metrics, "%null%")
        )
    ).all()
    changes: list[Change] = []
    for tenant_id, session_id, text in found:
        total = _decoded(text)
        if not isinstance(total, dict):
            continue
        damaged = [key for key, value in total.items() if not _is_number(value)]
        if not damaged:
            continue
        summed = _summed(conn, tenant_id, session_id)
        repaired = {k: v for k, v in total.items() if k not in damaged}
        repaired.update((key, summed[key]) for key in damaged if key in summed)
        changes.append(({"tenant_id": tenant_id, "id": session_id}, {"metrics": repaired or None}))
    _write(conn, sessions, changes)


def _summed(conn: sa.Connection, tenant_id: str, session_id: str) -> dict[str, Any]:
    """A session's total as appends build it: each run's metrics, and the metrics of the
    messages that belong to no run of the session."""
    r, m = runs.c, messages.c
    in_runs = conn.execute(
        sa.select(r.id, sa.cast(r.metrics, sa.Text)).where(
            r.tenant_id == tenant_id, r.session_id == session_id
        )
    ).all()
    run_ids = {run_id for run_id, _ in in_runs}
    parts = [_decoded(text) for _, text in in_runs]
    for run_id, text in conn.execute(
        sa.select(m.run_id, sa.cast(m.metrics, sa.Text)).where(
            m.tenant_id == tenant_id, m.session_id == session_id, m.metrics.is_not(None)
        )
    ):
        if run_id is None or run_id not in run_ids:
            parts.append(_decoded(text))
    return sum_metrics(p for p in parts if isinstance(p, dict))
