"""Sessions: create, read, patch, delete, list (keyset or offset), erase a user, bulk import.

Listing reads the sessions table only: titles, counts and metrics are stored on the session row,
so a page costs the same however long the conversations are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property
from typing import Any, Literal

import sqlalchemy as sa

from convostore.errors import Conflict
from convostore.ids import to_micros, utcnow
from convostore.models import NewSession, Page, Session, SessionQuery, UserErasure
from convostore.rules import folded
from convostore.storage.base import SessionBundle
from convostore.storage.row_memo import remembered
from convostore.storage.row_reads import (
    BRIEF_SESSION_COLUMNS,
    SESSION_COLUMNS,
    session_from_brief_columns,
    session_from_columns,
    session_from_row,
)
from convostore.storage.row_writes import (
    evidence_rows,
    message_to_row,
    run_to_row,
    summary_to_json,
)
from convostore.storage.search_index import (
    MessageText,
    delete_session_docs,
    index_sources,
    write_docs,
)
from convostore.storage.sql_base import Filters, PageRequest, SqlBase, as_text, like_pattern
from convostore.storage.tables import (
    evidence,
    idempotency_keys,
    memories,
    messages,
    runs,
    search_docs,
    sessions,
)

_CHILD_TABLES = (messages, evidence, runs, idempotency_keys, search_docs)
# Session ids named per statement by deletes and imports (far below every backend's limit).
_IDS_PER_STATEMENT = 1_000
# How often an import inserts sessions that other imports keep writing meanwhile before it gives up.
_INSERT_ROUNDS = 20
# What a list shows: no summary, state, metadata, component data or extra to decode.
BRIEF_COLUMNS = tuple(as_text(sessions.c[name]) for name in BRIEF_SESSION_COLUMNS)
# What a page of whole sessions reads (all but the tenant and the next message number).
WHOLE_COLUMNS = tuple(as_text(sessions.c[name]) for name in SESSION_COLUMNS)


def _key(tenant_id: str, session_id: str) -> sa.ColumnElement[bool]:
    return sa.and_(sessions.c.tenant_id == tenant_id, sessions.c.id == session_id)


def session_key(tenant_id: str, session_id: str, scope_user: str | None) -> dict[str, Any]:
    """The filter values that find one session, in a user's scope when one is given."""
    values = {"tenant_id": tenant_id, "id": session_id}
    if scope_user is not None:
        values["user_id"] = scope_user
    return values


# What makes a whole session large: its title and JSON blobs.
_LARGE_SESSION_COLUMNS = ("title", "summary", "state", "metadata", "component_data", "extra")


def _scoped(stmt: Any, scope_user: str | None) -> Any:
    return stmt if scope_user is None else stmt.where(sessions.c.user_id == scope_user)


def session_row(tenant_id: str, session: Session) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "id": session.id,
        "user_id": session.user_id,
        "type": session.type,
        "component_id": session.component_id,
        "title": session.title,
        "title_folded": folded(session.title),
        "summary": summary_to_json(session.summary),
        "state": session.state,
        "metadata": session.metadata,
        "component_data": session.component_data,
        "extra": session.extra,
        "metrics": session.metrics or None,
        "message_count": session.message_count,
        "run_count": session.run_count,
        "last_seq": session.message_count,
        "created_at": to_micros(session.created_at),
        "updated_at": to_micros(session.updated_at),
        "last_message_at": to_micros(session.last_message_at) if session.last_message_at else None,
    }


def new_session_row(
    tenant_id: str, new: NewSession, session_id: str, *, trusted: bool = True
) -> dict[str, Any]:
    created = to_micros(new.created_at or utcnow())
    return {
        "tenant_id": tenant_id,
        "id": session_id,
        "user_id": new.user_id or "default",
        "type": new.type,
        "component_id": new.component_id,
        "title": new.title or "",
        "title_folded": folded(new.title or ""),
        "summary": summary_to_json(new.summary),
        "state": new.state,
        "metadata": new.metadata,
        "component_data": new.component_data,
        "component_trusted": trusted,
        "extra": new.extra,
        "metrics": None,
        "message_count": 0,
        "run_count": 0,
        "last_seq": 0,
        "created_at": created,
        "updated_at": created,
        "last_message_at": None,
    }


def _title_matches(pattern: Any) -> sa.ColumnElement[bool]:
    """A folded LIKE pattern against a session's folded title: a case-sensitive LIKE of folded
    texts is caseless on every backend, and on PostgreSQL far cheaper per row than ILIKE (a
    search scans rows until it has a page). A title written without its folded form (by a
    process older than migration 0002, during a rolling upgrade) is compared by `lower()`, as
    before. One LIKE per row either way: with a bound pattern, an OR of two LIKEs cost
    PostgreSQL several times as much per row (measured: docs/performance.md)."""
    folded_title = sessions.c.title_folded
    compared = sa.case((folded_title == "", sa.func.lower(sessions.c.title)), else_=folded_title)
    return compared.like(pattern, escape="\\")


# Every filter a session query may apply, by the name of the value it compares with.
SESSION_FILTERS: Filters = {
    "tenant_id": lambda v: sessions.c.tenant_id == v,
    "id": lambda v: sessions.c.id == v,
    "user_id": lambda v: sessions.c.user_id == v,
    "type": lambda v: sessions.c.type == v,
    "component_id": lambda v: sessions.c.component_id == v,
    "created_after": lambda v: sessions.c.created_at >= v,
    "created_before": lambda v: sessions.c.created_at < v,
    "updated_after": lambda v: sessions.c.updated_at >= v,
    "updated_before": lambda v: sessions.c.updated_at < v,
    "q": _title_matches,
}
_TIME_FILTERS = ("created_after", "created_before", "updated_after", "updated_before")


def _filter_values(tenant_id: str, query: SessionQuery) -> dict[str, Any]:
    """The values of the filters a session query applies: tenant first, then its own."""
    values: dict[str, Any] = {"tenant_id": tenant_id}
    for name in ("user_id", "type", "component_id"):
        value = getattr(query, name)
        if value is not None:
            values[name] = value
    for name in _TIME_FILTERS:
        bound = getattr(query, name)
        if bound is not None:
            values[name] = to_micros(bound)
    if query.q:
        values["q"] = like_pattern(folded(query.q))
    return values


def session_exists(store: SqlBase, tenant_id: str, session_id: str, scope_user: str | None) -> bool:
    """Whether the session is there (for `scope_user`, when given): the check the reads of a
    session's messages and runs make before answering "none" for a session that may not exist."""
    found = store.select_where(
        "session exists",
        lambda: sa.select(sessions.c.id),
        SESSION_FILTERS,
        session_key(tenant_id, session_id, scope_user),
    )
    return bool(found)


class SessionsPart(SqlBase):
    def create_session(
        self, tenant_id: str, new: NewSession, *, session_id: str, trusted: bool = True
    ) -> Session:
        row = new_session_row(tenant_id, new, session_id, trusted=trusted)
        with self.write() as conn:
            inserted = conn.execute(
                self.insert(sessions)
                .values(**row)
                .on_conflict_do_nothing(index_elements=["tenant_id", "id"])
                .returning(sessions.c.id)
            ).first()
            if inserted is None:
                raise Conflict(f"session {session_id!r} already exists", param="id")
            write_docs(conn, self.doc_rows.session_rows(tenant_id, row))
        return session_from_row(row)

    def get_session(
        self, tenant_id: str, session_id: str, *, scope_user: str | None = None
    ) -> Session | None:
        rows = self.select_where(
            "session",
            lambda: sa.select(*WHOLE_COLUMNS),
            SESSION_FILTERS,
            session_key(tenant_id, session_id, scope_user),
            raw=True,
        )
        return session_from_columns(rows[0]) if rows else None

    def update_session(
        self,
        tenant_id: str,
        session_id: str,
        fields: dict[str, Any],
        *,
        scope_user: str | None = None,
    ) -> Session | None:
        values = dict(fields)
        if "summary" in values:
            values["summary"] = summary_to_json(values["summary"])
        if "title" in values:
            values["title_folded"] = folded(values["title"])
        values["updated_at"] = to_micros(utcnow())
        where = _scoped(sa.select(sessions).where(_key(tenant_id, session_id)), scope_user)
        with self.write() as conn:
            row = conn.execute(self.lock(where)).mappings().first()
            if row is None:
                return None
            # updated_at never moves backwards, even if clocks of two servers disagree
            values["updated_at"] = max(values["updated_at"], row["updated_at"])
            conn.execute(sessions.update().where(_key(tenant_id, session_id)).values(**values))
            merged = {**row, **values}
            self._reindex_session(conn, tenant_id, merged, values)
        return session_from_row(merged)

    def _reindex_session(
        self, conn: sa.Connection, tenant_id: str, merged: dict[str, Any], changed: dict[str, Any]
    ) -> None:
        """Keep the session's search documents in step with a patch: a new title or summary is
        indexed anew, a new component is copied to every document of the session."""
        session_id = merged["id"]
        texts = [kind for kind in ("title", "summary") if kind in changed]
        if texts:
            delete_session_docs(conn, tenant_id, [session_id], kinds=texts)
            rows = self.doc_rows.session_rows(
                tenant_id, merged, title="title" in changed, summary="summary" in changed
            )
            write_docs(conn, rows)
        if "component_id" in changed:
            conn.execute(
                search_docs.update()
                .where(search_docs.c.tenant_id == tenant_id, search_docs.c.session_id == session_id)
                .values(component_id=changed["component_id"])
            )

    def delete_sessions(
        self, tenant_id: str, session_ids: list[str], *, scope_user: str | None = None
    ) -> int:
        if not session_ids:
            return 0
        with self.write() as conn:
            ids_stmt = _scoped(
                sa.select(sessions.c.id).where(
                    sessions.c.tenant_id == tenant_id, sessions.c.id.in_(session_ids)
                ),
                scope_user,
            )
            found = [r[0] for r in conn.execute(self.lock(ids_stmt))]
            _delete_locked(conn, tenant_id, found)
        return len(found)

    def list_sessions(
        self, tenant_id: str, query: SessionQuery, *, max_bytes: int | None = None
    ) -> Page[Session]:
        values = _filter_values(tenant_id, query)
        request = PageRequest.of(query)
        if max_bytes is not None and not query.brief:
            return self.budgeted_page(
                sessions,
                SESSION_FILTERS,
                values,
                request,
                self._listed_whole,
                large=_LARGE_SESSION_COLUMNS,
                max_bytes=max_bytes,
                columns=WHOLE_COLUMNS,
            )
        if query.brief:
            to_value, columns = self._listed_brief, BRIEF_COLUMNS
        else:
            to_value, columns = self._listed_whole, WHOLE_COLUMNS
        return self.page(sessions, SESSION_FILTERS, values, request, to_value, columns)

    # Listing rows already mapped, by their content (see row_memo); half the budget each.

    @cached_property
    def _listed_brief(self) -> Callable[[Sequence[Any]], Session]:
        return remembered(session_from_brief_columns, self.listing_cache_bytes // 2)

    @cached_property
    def _listed_whole(self) -> Callable[[Sequence[Any]], Session]:
        return remembered(session_from_columns, self.listing_cache_bytes // 2)

    def count_sessions(self, tenant_id: str, query: SessionQuery) -> int:
        """How many sessions match the query's filters (its sort and paging are ignored)."""
        return self.count(sessions, SESSION_FILTERS, _filter_values(tenant_id, query))

    def delete_user(self, tenant_id: str, user_id: str) -> UserErasure:
        owned = sa.select(sessions.c.id).where(
            sessions.c.tenant_id == tenant_id, sessions.c.user_id == user_id
        )
        with self.write() as conn:
            found = [r[0] for r in conn.execute(self.lock(owned))]
            counts = _delete_locked(conn, tenant_id, found)
            conn.execute(
                search_docs.delete().where(
                    search_docs.c.tenant_id == tenant_id,
                    search_docs.c.memory_id.in_(
                        sa.select(memories.c.id).where(
                            memories.c.tenant_id == tenant_id, memories.c.user_id == user_id
                        )
                    ),
                )
            )
            memories_deleted = conn.execute(
                memories.delete().where(
                    memories.c.tenant_id == tenant_id, memories.c.user_id == user_id
                )
            ).rowcount
        return UserErasure(
            user_id=user_id,
            sessions=counts["sessions"],
            runs=counts["runs"],
            messages=counts["messages"],
            memories=memories_deleted,
        )

    def import_sessions(
        self,
        tenant_id: str,
        bundles: list[SessionBundle],
        *,
        on_conflict: Literal["skip", "replace"] = "skip",
    ) -> list[SessionBundle]:
        """Write whole sessions as given, in one transaction; returns the bundles written.

        A session id another user holds is a conflict, never skipped into or replaced. Sessions
        another transaction writes meanwhile (PostgreSQL) are found when inserting them: skipped,
        or replaced in turn, as if the two imports had run one after the other.
        """
        if not bundles:
            return []
        with self.write() as conn:
            held = self._holders(conn, tenant_id, [b.session.id for b in bundles])
            _refuse_other_users(bundles, held)
            if held and on_conflict == "replace":
                _delete_locked(conn, tenant_id, list(held))
                held = {}
            todo = [b for b in bundles if b.session.id not in held]
            written = self._insert_sessions(conn, tenant_id, todo, replace=on_conflict == "replace")
            todo = [b for b in todo if b.session.id in written]
            _insert_contents(conn, tenant_id, todo)
            write_docs(conn, self._import_docs(tenant_id, todo))
            cited = [b.session.id for b in todo if any(m.refs for m in b.messages)]
            index_sources(conn, tenant_id, cited)
        return todo

    def _import_docs(self, tenant_id: str, bundles: list[SessionBundle]) -> list[dict[str, Any]]:
        rows = []
        for b in bundles:
            session = session_row(tenant_id, b.session)
            rows += self.doc_rows.session_rows(tenant_id, session)
            rows += self.doc_rows.message_rows(
                tenant_id,
                (MessageText.of(m, to_micros(m.created_at)) for m in b.messages),
                user_id=session["user_id"],
                component_id=session["component_id"],
                session_type=session["type"],
            )
        return rows

    def _insert_sessions(
        self, conn: sa.Connection, tenant_id: str, bundles: list[SessionBundle], *, replace: bool
    ) -> set[str]:
        """Insert the bundles' session rows; returns the ids inserted.

        A session another transaction inserted meanwhile (PostgreSQL: its insert waits for that
        transaction's end) is left out, or with `replace` deleted and inserted again, until none
        is left: each round sees what committed before it.
        """
        inserted: set[str] = set()
        # in id order: imports of overlapping sessions wait for each other, never deadlock
        pending = sorted(bundles, key=_session_id)
        insert = self.insert(sessions).on_conflict_do_nothing(index_elements=["tenant_id", "id"])
        for _ in range(_INSERT_ROUNDS):
            if not pending:
                return inserted
            rows = [_imported_row(tenant_id, b) for b in pending]
            inserted.update(r[0] for r in conn.execute(insert.returning(sessions.c.id), rows))
            pending = [b for b in pending if b.session.id not in inserted]
            if not pending:
                return inserted
            held = self._holders(conn, tenant_id, [b.session.id for b in pending])
            _refuse_other_users(pending, held)
            if not replace:
                return inserted
            _delete_locked(conn, tenant_id, list(held))
        raise Conflict("these sessions are being imported by other requests too; retry later")

    def _holders(
        self, conn: sa.Connection, tenant_id: str, session_ids: list[str]
    ) -> dict[str, str]:
        """The user of each of these sessions that exists, by session id; the sessions locked
        (PostgreSQL) until the commit, as an import may delete them."""
        found: dict[str, str] = {}
        for start in range(0, len(session_ids), _IDS_PER_STATEMENT):
            chunk = session_ids[start : start + _IDS_PER_STATEMENT]
            stmt = sa.select(sessions.c.id, sessions.c.user_id).where(
                sessions.c.tenant_id == tenant_id, sessions.c.id.in_(chunk)
            )
            found.update((r[0], r[1]) for r in conn.execute(self.lock(stmt)))
        return found


def _session_id(bundle: SessionBundle) -> str:
    return bundle.session.id


def _imported_row(tenant_id: str, bundle: SessionBundle) -> dict[str, Any]:
    last_seq = max((m.seq for m in bundle.messages), default=0)
    return session_row(tenant_id, bundle.session) | {"last_seq": last_seq}


def _insert_contents(conn: sa.Connection, tenant_id: str, bundles: list[SessionBundle]) -> None:
    """The runs, messages and evidence of sessions just inserted."""
    run_rows = [run_to_row(tenant_id, r) for b in bundles for r in b.runs]
    if run_rows:
        conn.execute(runs.insert(), run_rows)
    msg_rows = [message_to_row(tenant_id, m) for b in bundles for m in b.messages]
    if msg_rows:
        conn.execute(messages.insert(), msg_rows)
    ev_rows = [e for b in bundles for m in b.messages for e in evidence_rows(tenant_id, m)]
    if ev_rows:
        conn.execute(evidence.insert(), ev_rows)


def _refuse_other_users(bundles: list[SessionBundle], held: dict[str, str]) -> None:
    for bundle in bundles:
        holder = held.get(bundle.session.id)
        if holder is not None and holder != bundle.session.user_id:
            raise Conflict(
                f"session {bundle.session.id!r} already exists for another user",
                param="session_id",
            )


def _delete_locked(conn: sa.Connection, tenant_id: str, session_ids: list[str]) -> dict[str, int]:
    """Delete sessions with everything filed under them (runs, messages, evidence, idempotency
    keys); returns how many rows of each table went.

    The sessions must be locked by this transaction (or, on SQLite, be in its write): an append
    holds its session's lock until it commits, so none can add a row under one of them that this
    delete would miss and leave behind.
    """
    counts = {table.name: 0 for table in (*_CHILD_TABLES, sessions)}
    for start in range(0, len(session_ids), _IDS_PER_STATEMENT):
        chunk = session_ids[start : start + _IDS_PER_STATEMENT]
        for table in (*_CHILD_TABLES, sessions):
            id_col = table.c.id if table is sessions else table.c.session_id
            result = conn.execute(
                table.delete().where(table.c.tenant_id == tenant_id, id_col.in_(chunk))
            )
            counts[table.name] += result.rowcount
    return counts
