"""Evidence: which messages cited a source, and where in it.

The `evidence` table holds one row per (message, cited source) with the span its items cover, so
a query by source id and time range reads an index range of that table and joins only the
matching messages (for the cited ref itself). Its key, `(tenant, source, session, seq,
ref_index)`, is also the order of the hits, so keyset paging continues right after the last one.

Hits are read as the message rows are (`row_reads.evidence_ref_from_json`), and a span that older
versions stored as NaN or Infinity (PostgreSQL keeps both in float columns, SQLite Infinity)
reads as unknown (null) until migration 0004 computes it again.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from typing import Any

import orjson
import sqlalchemy as sa

from convostore.errors import InvalidRequest
from convostore.models import EvidenceHit, EvidenceQuery, EvidenceRef, Page
from convostore.storage.page_budget import UNBOUNDED, Take, budgeted_select, read_within_budget
from convostore.storage.row_reads import evidence_ref_from_json
from convostore.storage.sql_base import SqlBase
from convostore.storage.stored_json import stored_json
from convostore.storage.tables import evidence, messages, sessions

MAX_CURSOR_LENGTH = 2048
_CURSOR_TAG = "evidence"
_INT64 = 2**63


def encode_evidence_cursor(session_id: str, seq: int, ref_index: int) -> str:
    raw = json.dumps([_CURSOR_TAG, session_id, seq, ref_index], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_evidence_cursor(token: str, param: str = "after") -> tuple[str, int, int]:
    """The `(session_id, seq, ref_index)` a cursor continues after; anything else is a 400."""
    if len(token) > MAX_CURSOR_LENGTH:
        raise InvalidRequest("cursor is too long", param=param)
    try:
        # orjson: a hand-made cursor nested too deep is malformed too (json.loads recursed)
        data = orjson.loads(base64.urlsafe_b64decode((token + "=" * (-len(token) % 4)).encode()))
    except (ValueError, binascii.Error, UnicodeError):
        raise InvalidRequest("cursor is malformed", param=param) from None
    if not (
        isinstance(data, list)
        and len(data) == 4
        and data[0] == _CURSOR_TAG
        and isinstance(data[1], str)
        and "\x00" not in data[1]
        and _encodable(data[1])
        and all(type(n) is int and -_INT64 <= n < _INT64 for n in data[2:])
    ):
        raise InvalidRequest("cursor is malformed", param=param)
    return data[1], data[2], data[3]


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _cited_ref(refs: str | None, index: int) -> EvidenceRef | None:
    """The `index`th of a message's refs, from the column's JSON text."""
    values = stored_json(refs) if refs is not None else None
    if isinstance(values, list) and 0 <= index < len(values):
        return evidence_ref_from_json(values[index])
    return None


def _finite(value: float | None) -> float | None:
    return value if value is None or math.isfinite(value) else None


class EvidencePart(SqlBase):
    def find_evidence(
        self,
        tenant_id: str,
        query: EvidenceQuery,
        *,
        scope_user: str | None = None,
        max_bytes: int | None = None,
    ) -> Page[EvidenceHit]:
        """A page of hits, ending at `query.limit` or once the cited messages' refs reach
        `max_bytes` (`page_budget`: each hit reads its message's refs, up to 1 MiB)."""
        e = evidence.c
        conditions: list[Any] = [
            e.tenant_id == tenant_id,
            e.source_id == query.source_id,
            messages.c.tenant_id == e.tenant_id,
            messages.c.session_id == e.session_id,
            messages.c.seq == e.seq,
        ]
        if scope_user is not None:
            conditions += [
                sessions.c.tenant_id == e.tenant_id,
                sessions.c.id == e.session_id,
                sessions.c.user_id == scope_user,
            ]
        if query.session_id is not None:
            conditions.append(e.session_id == query.session_id)
        # overlap of [start_min, end_max] with [start, end]; a citation without items has no
        # span and so matches only an unbounded query
        if query.start is not None:
            conditions.append(e.end_max >= query.start)
        if query.end is not None:
            conditions.append(e.start_min <= query.end)
        if query.after:
            session_id, seq, ref_index = decode_evidence_cursor(query.after)
            keyset = sa.tuple_(e.session_id, e.seq, e.ref_index)
            bound = sa.tuple_(sa.literal(session_id), sa.literal(seq), sa.literal(ref_index))
            conditions.append(keyset > bound)
        columns = (
            e.session_id,
            e.seq,
            e.ref_index,
            e.source_id,
            e.source_kind,
            e.start_min,
            e.end_max,
            messages.c.id.label("message_id"),
            messages.c.refs,
        )
        order = (("session_id", False), ("seq", False), ("ref_index", False))

        def read(exact: bool, binds: dict[str, int], take: Take[Any]) -> tuple[list[Any], bool]:
            stmt = budgeted_select(
                self.dialect,
                columns,
                large=("refs",),
                where=conditions,
                order_by=order,
                exact=exact,
            )
            with self.read() as conn:
                result = conn.execute(stmt, {"limit": query.limit + 1, **binds})
                try:
                    return take(result)
                finally:
                    result.close()  # what `take` left unread is never read

        budget = UNBOUNDED if max_bytes is None else max_bytes
        rows, has_more = read_within_budget(self.dialect, read, limit=query.limit, max_bytes=budget)
        items = [
            EvidenceHit(
                session_id=row[0],
                seq=row[1],
                ref_index=row[2],
                source_id=row[3],
                source_kind=row[4],
                start=_finite(row[5]),
                end=_finite(row[6]),
                message_id=row[7],
                ref=_cited_ref(row[8], row[2]),
            )
            for row in rows
        ]
        next_cursor = None
        if has_more and items:
            last = items[-1]
            next_cursor = encode_evidence_cursor(last.session_id, last.seq, last.ref_index)
        return Page(items=items, has_more=has_more, next_cursor=next_cursor)
