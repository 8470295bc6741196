"""What search indexes: the `search_docs` rows of messages, sessions and memories.

Every write that adds, changes or removes a searchable text calls these in its own transaction,
so a text is searchable when its write is acknowledged and gone when its erasure is.

A document's terms are its text's tokens (`search_text.tokens`), each prefixed by the letter of
its kind (`cinvoice` is "invoice" in a message's content), followed by marker terms naming its
user and the sources its message cites (a letter and a hash). A search for words of one kind is
then a search for that kind's terms alone, and a filter on a user or a video is one more term
that the full-text index intersects with the words, whichever is rarer driving: both backends
answer from their index, not by scanning rows. The terms are built here, never by a database
parser, so SQLite and PostgreSQL hold the same ones.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from convostore.models import SEARCH_KINDS, Memory, Message, SearchKind
from convostore.search_text import tokens
from convostore.storage.stored_json import stored_json
from convostore.storage.tables import memories, messages, search_docs, sessions

KIND_CODES: dict[str, int] = {kind: code for code, kind in enumerate(SEARCH_KINDS)}
KIND_LETTERS: dict[str, str] = {
    "title": "t",
    "summary": "s",
    "memory": "m",
    "content": "c",
    "thinking": "r",
    "evidence": "e",
}
USER_MARK, SOURCE_MARK = "u", "v"
# The distinct terms of one text stop here (a tsvector holds at most 1 MiB; both backends cut
# at the same place, so they still agree).
MAX_TERM_BYTES = 256 * 1024


def marker(letter: str, *parts: str) -> str:
    """A term naming a value (a user, a source): its letter and a 80-bit hash, lower case."""
    digest = hashlib.blake2b("\x00".join(parts).encode(), digest_size=10).digest()
    return letter + base64.b32encode(digest).decode().lower()


def kind_terms(kind: str, text: str) -> list[str]:
    letter = KIND_LETTERS[kind]
    if len(text) * 8 <= MAX_TERM_BYTES:  # too short to reach the cap (4 bytes a character, at
        return [letter + token for token in tokens(text)]  # most as many letters as characters)
    out: list[str] = []
    seen: set[str] = set()
    size = 0
    for token in tokens(text):
        term = letter + token
        if term not in seen:
            size += len(term.encode())
            if size > MAX_TERM_BYTES:
                break
            seen.add(term)
        out.append(term)
    return out


@dataclass(slots=True)
class MessageText:
    """The searchable parts of one stored message."""

    session_id: str
    seq: int
    created_at: int
    content: str
    thinking: str
    evidence: str
    sources: tuple[str, ...]

    @classmethod
    def of(cls, message: Message, created_at: int) -> MessageText:
        return cls(
            message.session_id,
            message.seq,
            created_at,
            message.content,
            "\n".join(f"{t.title}\n{t.content}" for t in message.thinkings),
            _evidence_text((r.source.name, [i.text for i in r.items]) for r in message.refs),
            tuple(r.source.id for r in message.refs),
        )

    @classmethod
    def of_row(cls, row: Any) -> MessageText:
        """From a `messages` row's columns (session_id, seq, created_at, content, thinkings,
        refs), its JSON as stored text: the migration indexes stored messages so."""
        # a column may hold JSON null (or, written by others, something else than a list)
        thinkings = stored_objects(row.thinkings)
        refs = stored_objects(row.refs)
        return cls(
            row.session_id,
            row.seq,
            row.created_at,
            row.content,
            "\n".join(f"{t.get('title') or ''}\n{t.get('content') or ''}" for t in thinkings),
            _evidence_text(
                (
                    (r.get("source") or {}).get("name"),
                    [i.get("text") for i in r.get("items") or () if isinstance(i, dict)],
                )
                for r in refs
            ),
            tuple(str((r.get("source") or {}).get("id", "")) for r in refs),
        )


@dataclass(slots=True)
class MemoryText:
    """The searchable parts of one stored memory, as the migration reads them."""

    id: str
    user_id: str
    memory: str
    topics: list[str]
    agent_id: str | None
    team_id: str | None


def stored_objects(stored: str | None) -> list[dict[str, Any]]:
    """The objects of a stored JSON list (thinkings, refs); JSON null, or anything another
    writer left that is not a list of objects, reads as none."""
    value = stored_json(stored) if stored else None
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _evidence_text(refs: Iterable[tuple[str | None, list[str | None]]]) -> str:
    lines: list[str] = []
    for name, texts in refs:
        if name:
            lines.append(name)
        lines.extend(text for text in texts if text)
    return "\n".join(lines)


class DocRows:
    """Builds `search_docs` rows for one dialect (the form `terms` takes differs)."""

    def __init__(self, dialect: str) -> None:
        self.postgres = dialect == "postgresql"

    def terms(self, words: Sequence[str]) -> str:
        if not self.postgres:
            return " ".join(words)
        # a tsvector literal: each distinct term with its positions (tokens hold no quotes)
        positions: dict[str, list[str]] = {}
        for at, word in enumerate(words, start=1):
            positions.setdefault(word, []).append(str(min(at, 16_383)))
        return " ".join(f"'{word}':{','.join(places)}" for word, places in positions.items())

    def row(
        self,
        tenant_id: str,
        kind: SearchKind,
        text: str,
        marks: list[str],
        *,
        user_id: str,
        created_at: int,
        session_id: str | None = None,
        seq: int | None = None,
        memory_id: str | None = None,
        component_id: str | None = None,
        session_type: str | None = None,
    ) -> dict[str, Any] | None:
        words = kind_terms(kind, text)
        if not words:
            return None
        return {
            "tenant_id": tenant_id,
            "kind": KIND_CODES[kind],
            "session_id": session_id,
            "seq": seq,
            "memory_id": memory_id,
            "user_id": user_id,
            "component_id": component_id,
            "session_type": session_type,
            "created_at": created_at,
            "terms_text": self.terms([*words, *marks]),
        }

    def message_rows(
        self,
        tenant_id: str,
        messages: Iterable[MessageText],
        *,
        user_id: str,
        component_id: str | None,
        session_type: str,
    ) -> list[dict[str, Any]]:
        """Rows for the content, reasoning and evidence of `messages` of one session."""
        user = marker(USER_MARK, tenant_id, user_id)
        rows = []
        for m in messages:
            marks = [user, *sorted({marker(SOURCE_MARK, tenant_id, s) for s in m.sources})]
            for kind, text in (
                ("content", m.content),
                ("thinking", m.thinking),
                ("evidence", m.evidence),
            ):
                if not text:
                    continue
                row = self.row(
                    tenant_id,
                    kind,  # type: ignore[arg-type]
                    text,
                    marks,
                    user_id=user_id,
                    created_at=m.created_at,
                    session_id=m.session_id,
                    seq=m.seq,
                    component_id=component_id,
                    session_type=session_type,
                )
                if row is not None:
                    rows.append(row)
        return rows

    def session_rows(
        self,
        tenant_id: str,
        session: dict[str, Any],
        *,
        title: bool = True,
        summary: bool = True,
    ) -> list[dict[str, Any]]:
        """Rows for a session's title and summary, from its `sessions` row values."""
        marks = [marker(USER_MARK, tenant_id, session["user_id"])]
        common = {
            "user_id": session["user_id"],
            "created_at": session["created_at"],
            "session_id": session["id"],
            "component_id": session["component_id"],
            "session_type": session["type"],
        }
        rows = []
        if title and session.get("title"):
            rows.append(self.row(tenant_id, "title", session["title"], marks, **common))
        text = summary_text(session.get("summary")) if summary else ""
        if text:
            rows.append(self.row(tenant_id, "summary", text, marks, **common))
        return [r for r in rows if r is not None]

    def memory_rows(
        self, tenant_id: str, memory: Memory | MemoryText, created_us: int
    ) -> list[dict[str, Any]]:
        text = "\n".join([memory.memory, *memory.topics])
        row = self.row(
            tenant_id,
            "memory",
            text,
            [marker(USER_MARK, tenant_id, memory.user_id)],
            user_id=memory.user_id,
            created_at=created_us,
            memory_id=memory.id,
            component_id=memory.agent_id or memory.team_id,
        )
        return [row] if row is not None else []


def summary_text(summary: Any) -> str:
    """A stored summary's searchable text: its text and topics (stored as JSON)."""
    if not summary:
        return ""
    if not isinstance(summary, dict):
        return ""
    parts = [summary.get("text") or "", *(t for t in summary.get("topics") or () if t)]
    return "\n".join(p for p in parts if isinstance(p, str) and p)


def insert_docs() -> sa.Insert:
    """The insert of `DocRows` rows: `terms_text` is cast to `terms` (a tsvector on PostgreSQL,
    whose literal `DocRows.terms` wrote; no parser of the database's reads it)."""
    values: dict[str, Any] = {name: sa.bindparam(name) for name in _DOC_FIELDS}
    values["terms"] = sa.cast(sa.bindparam("terms_text", type_=sa.Text), search_docs.c.terms.type)
    return search_docs.insert().values(values)


_DOC_FIELDS = (
    "tenant_id", "kind", "session_id", "seq", "memory_id", "user_id", "component_id",
    "session_type", "created_at",
)  # fmt: skip


def placeholder(dialect: str) -> str:
    """The driver's parameter mark, for SQL sent to it as it is (SQLite `?`, psycopg `%s`)."""
    return "?" if dialect == "sqlite" else "%s"


def write_docs(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    """Insert `DocRows` rows, straight through the driver: SQLAlchemy's per-row parameter
    processing was a fifth of the time of indexing a whole database (migration 0006)."""
    if not rows:
        return
    marks = placeholder(conn.dialect.name)
    terms = marks if marks == "?" else f"CAST({marks} AS tsvector)"
    sql = (
        f"INSERT INTO search_docs ({', '.join(_DOC_FIELDS)}, terms)"
        f" VALUES ({', '.join([marks] * len(_DOC_FIELDS))}, {terms})"
    )
    conn.exec_driver_sql(sql, [(*(r[f] for f in _DOC_FIELDS), r["terms_text"]) for r in rows])


# PostgreSQL: the documents citing each source, by id (`search_sources`, migration 0007; a
# search within one source walks them newest first), filled from the source marker terms of
# message documents, read back from the documents themselves
_PG_SOURCES_OF = (
    "INSERT INTO search_sources (tenant_id, source, doc_id)"
    " SELECT d.tenant_id, t.lexeme, d.id FROM search_docs AS d, unnest(d.terms) AS t"
    " WHERE d.kind >= %(first_kind)s AND t.lexeme LIKE %(marked)s"
)
_PG_SOURCES_OF_SESSIONS = (
    _PG_SOURCES_OF + " AND d.tenant_id = %(tenant_id)s AND d.session_id = ANY(%(session_ids)s)"
    " AND d.seq >= %(from_seq)s"
)
_MESSAGE_KINDS_FROM = KIND_CODES["content"]  # content, thinking and evidence come last


def index_sources(
    conn: sa.Connection, tenant_id: str, session_ids: Sequence[str], *, from_seq: int = 0
) -> None:
    """PostgreSQL: list the sources cited by the message documents just written for these
    sessions (their messages from `from_seq` on), for searches within one source."""
    if conn.dialect.name != "postgresql" or not session_ids:
        return
    params = {
        "first_kind": _MESSAGE_KINDS_FROM,
        "marked": SOURCE_MARK + "%",
        "tenant_id": tenant_id,
        "session_ids": list(session_ids),
        "from_seq": from_seq,
    }
    conn.exec_driver_sql(_PG_SOURCES_OF_SESSIONS, params)


def index_all_sources(conn: sa.Connection) -> int:
    """PostgreSQL: list the sources cited by every stored message document (migration 0007)."""
    if conn.dialect.name != "postgresql":
        return 0
    params = {"first_kind": _MESSAGE_KINDS_FROM, "marked": SOURCE_MARK + "%"}
    return conn.exec_driver_sql(_PG_SOURCES_OF, params).rowcount


def delete_session_docs(
    conn: sa.Connection, tenant_id: str, session_ids: Sequence[str], *, kinds: Sequence[str] = ()
) -> int:
    """Remove the documents of these sessions (only of `kinds`, when given)."""
    stmt = search_docs.delete().where(
        search_docs.c.tenant_id == tenant_id, search_docs.c.session_id.in_(session_ids)
    )
    if kinds:
        stmt = stmt.where(search_docs.c.kind.in_([KIND_CODES[k] for k in kinds]))
    return conn.execute(stmt).rowcount


def delete_memory_docs(conn: sa.Connection, tenant_id: str, memory_ids: Sequence[str]) -> None:
    conn.execute(
        search_docs.delete().where(
            search_docs.c.tenant_id == tenant_id, search_docs.c.memory_id.in_(memory_ids)
        )
    )


# --- indexing what was stored before search (migration 0006) ------------------------------------

Progress = Callable[[int, int], None]  # (sessions and memories indexed, how many there are)
BACKFILL_SESSIONS = 500


def index_existing(conn: sa.Connection, progress: Progress | None = None) -> int:
    """Index every stored session (title, summary, messages) and memory; returns documents
    written. Sessions go oldest first, so "most recently stored first" holds for them too."""
    docs = DocRows(conn.dialect.name)
    total = (conn.scalar(sa.select(sa.func.count()).select_from(sessions)) or 0) + (
        conn.scalar(sa.select(sa.func.count()).select_from(memories)) or 0
    )
    done = written = 0
    held = sa.union(sa.select(sessions.c.tenant_id), sa.select(memories.c.tenant_id))
    tenant_ids = sorted(r[0] for r in conn.execute(held))
    for tenant_id in tenant_ids:
        for batch in _session_batches(conn, tenant_id):
            rows = [r for s in batch for r in docs.session_rows(tenant_id, s._asdict())]
            texts = _message_texts(conn, tenant_id, [s.id for s in batch])
            for s in batch:
                rows += docs.message_rows(
                    tenant_id,
                    texts.get(s.id, ()),
                    user_id=s.user_id,
                    component_id=s.component_id,
                    session_type=s.type,
                )
            write_docs(conn, rows)
            written += len(rows)
            done += len(batch)
            if progress is not None:
                progress(done, total)
        for memory_batch in _memory_batches(conn, tenant_id):
            rows = [r for m in memory_batch for r in docs.memory_rows(tenant_id, *m)]
            write_docs(conn, rows)
            written += len(rows)
            done += len(memory_batch)
            if progress is not None:
                progress(done, total)
    return written


def _oldest_first(
    conn: sa.Connection, table: sa.Table, tenant_id: str, *names: str
) -> Iterable[Sequence[Any]]:
    """The tenant's rows of `table` (`names`, created_at, id), oldest first, a batch at a time."""
    c = table.c
    read = (
        sa.select(*(c[n] for n in names), c.created_at, c.id)
        .where(c.tenant_id == tenant_id)
        .order_by(c.created_at, c.id)
        .limit(BACKFILL_SESSIONS)
    )
    after: tuple[int, str] | None = None
    while True:
        page = read if after is None else read.where(sa.tuple_(c.created_at, c.id) > after)
        batch = conn.execute(page).all()
        if not batch:
            return
        yield batch
        after = (batch[-1].created_at, batch[-1].id)


def _session_batches(conn: sa.Connection, tenant_id: str) -> Iterable[Sequence[Any]]:
    names = ("user_id", "type", "component_id", "title", "summary")
    return _oldest_first(conn, sessions, tenant_id, *names)


def _message_texts(
    conn: sa.Connection, tenant_id: str, session_ids: list[str]
) -> dict[str, list[MessageText]]:
    c = messages.c
    found: dict[str, list[MessageText]] = {}
    rows = conn.execute(
        sa.select(
            c.session_id,
            c.seq,
            c.created_at,
            c.content,
            sa.cast(c.thinkings, sa.Text).label("thinkings"),
            sa.cast(c.refs, sa.Text).label("refs"),
        )
        .where(c.tenant_id == tenant_id, c.session_id.in_(session_ids))
        .order_by(c.session_id, c.seq)
    )
    for row in rows:
        found.setdefault(row.session_id, []).append(MessageText.of_row(row))
    return found


def _memory_batches(conn: sa.Connection, tenant_id: str) -> Iterable[list[tuple[MemoryText, int]]]:
    names = ("user_id", "memory", "topics", "agent_id", "team_id")
    for batch in _oldest_first(conn, memories, tenant_id, *names):
        yield [
            (MemoryText(r.id, r.user_id, r.memory, r.topics or [], r.agent_id, r.team_id),
             r.created_at)
            for r in batch
        ]  # fmt: skip
