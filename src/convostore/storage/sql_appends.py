"""Appends: messages (and the run they belong to) added to a session, once per idempotency key.

An append is one transaction: lock the session row (creating it if asked) and check it is the
caller's, look up the idempotency key, assign the next `seq` values, insert messages (and the run
and evidence rows), update the session's derived fields, record the idempotency result. Nothing
is visible until all of it is.

Keys are looked up only after the lock and the owner check: a caller who may not write to the
session gets the same answer as for a missing one whatever keys exist, and retries of one key
(which name one session) wait for each other on the lock, so the second finds the first's answer
instead of writing again.

Its statements are compiled once and run on the transaction's own connection (`prepared_writes`),
and the values it stores are built from the service's already validated input, not validated
again: the append path is CPU-bound, and SQLAlchemy's and pydantic's per-call costs dominated it.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from convostore.errors import Conflict, NotFound
from convostore.ids import as_utc, new_id, to_micros, utcnow
from convostore.models import Message, NewMessage, Run
from convostore.rules import add_metrics, derive_title, folded, sum_metrics
from convostore.storage.base import Appended, AppendRequest, IdempotencyClaim
from convostore.storage.prepared_writes import Writer, WriteStatements
from convostore.storage.row_writes import evidence_rows, message_to_row, run_to_row
from convostore.storage.search_index import MessageText, index_sources, insert_docs
from convostore.storage.sql_base import SqlBase
from convostore.storage.sql_sessions import new_session_row
from convostore.storage.tables import evidence, idempotency_keys, messages, runs, sessions
from convostore.storage.trusted_values import trusted

IDEMPOTENCY_TTL_US = 24 * 3600 * 1_000_000
_PURGE_EVERY = 500
# Message ids checked per statement; fewer are padded to a power of two (few statement shapes).
_IDS_PER_CHECK = 512


class AppendsPart(SqlBase):
    _appends = itertools.count()

    @functools.cached_property
    def write_statements(self) -> WriteStatements:
        """The append's statements, compiled once. Turning their `direct` off sends them through
        the engine again, so its events see them (the benchmark's SQL capture does)."""
        return WriteStatements(self.engine)

    def append(self, tenant_id: str, request: AppendRequest) -> Appended:
        with self.write() as conn:
            writer = self.write_statements.on(conn)
            row = self._lock_session(writer, tenant_id, request)
            if request.idempotency is not None:
                replay = self._replay(writer, tenant_id, request, request.idempotency)
                if replay is not None:
                    return replay
            appended = self._append_locked(writer, tenant_id, request, row)
            if request.idempotency is not None:
                self._remember(writer, tenant_id, request.idempotency, appended)
        return appended

    def _lock_session(
        self, writer: Writer, tenant_id: str, request: AppendRequest
    ) -> dict[str, Any]:
        """The session's derived fields, its row locked (PostgreSQL) until the commit."""
        key = {"tenant_id": tenant_id, "id": request.session_id}
        rows = writer.rows("lock session", self._lock_select, key)
        if not rows and request.create is not None:
            values = new_session_row(
                tenant_id, request.create, request.session_id, trusted=request.create_trusted
            )
            made = writer.inserted("create session", self._create_session, values)
            rows = writer.rows("lock session", self._lock_select, key)
            if made:
                docs = self.doc_rows.session_rows(tenant_id, values)
                writer.execute_many("index session", insert_docs, docs)
        row = rows[0] if rows else None
        if row is not None and request.scope_user in (None, row["user_id"]):
            return row
        if row is not None and request.create is not None:
            # asked to create it, but the id is another user's: the answer creating a session
            # with a taken id gets, whoever holds it (ids are unique in a tenant)
            raise Conflict(f"session {request.session_id!r} already exists", param="session_id")
        raise NotFound(f"session {request.session_id!r} not found", param="session_id")

    def _lock_select(self) -> sa.Select[Any]:
        return self.lock(
            sa.select(*_LOCKED_COLUMNS).where(
                sessions.c.tenant_id == sa.bindparam("tenant_id"),
                sessions.c.id == sa.bindparam("id"),
            )
        )

    def _create_session(self) -> sa.Insert:
        stmt: sa.Insert = self.insert(sessions).on_conflict_do_nothing(
            index_elements=["tenant_id", "id"]
        )
        return stmt.returning(sessions.c.id)

    def _append_locked(
        self, writer: Writer, tenant_id: str, request: AppendRequest, row: dict[str, Any]
    ) -> Appended:
        now = utcnow()
        now_us = to_micros(now)
        session_id = request.session_id
        run: Run | None = None
        run_id: str | None = None
        if request.run is not None:
            run_id = request.run.id or new_id()
            key = {"tenant_id": tenant_id, "session_id": session_id, "id": run_id}
            if writer.rows("run taken", _run_taken, key):
                raise Conflict(f"run {run_id!r} already exists in this session", param="id")
        self._check_message_ids(writer, tenant_id, request)

        stored = _stored_messages(request.messages, session_id, row["last_seq"], run_id, now)
        if stored:
            rows = [
                message_to_row(tenant_id, m, now_us if m.created_at is now else None)
                for m in stored
            ]
            writer.execute_many("insert messages", messages.insert, rows)
            ev_rows = [e for m in stored if m.refs for e in evidence_rows(tenant_id, m)]
            writer.execute_many("insert evidence", evidence.insert, ev_rows)
            docs = self.doc_rows.message_rows(
                tenant_id,
                [MessageText.of(m, r["created_at"]) for m, r in zip(stored, rows, strict=True)],
                user_id=row["user_id"],
                component_id=row["component_id"],
                session_type=row["type"],
            )
            writer.execute_many("index messages", insert_docs, docs)
            if ev_rows:
                index_sources(writer.conn, tenant_id, [session_id], from_seq=stored[0].seq)

        delta = sum_metrics(m.metrics for m in stored if m.metrics)
        if request.run is not None and run_id is not None:
            new_run = request.run
            # `request.run` was validated by the service: its values are a Run's already
            run = trusted(
                Run,
                {
                    "session_id": session_id,
                    "id": run_id,
                    "index": row["run_count"],
                    "parent_run_id": new_run.parent_run_id,
                    "component_id": new_run.component_id or row["component_id"],
                    "user_id": row["user_id"],
                    "status": new_run.status,
                    "input": new_run.input,
                    "content": new_run.content,
                    "metrics": new_run.metrics if new_run.metrics is not None else delta,
                    "extra": new_run.extra,
                    "created_at": as_utc(new_run.created_at) if new_run.created_at else now,
                    "updated_at": now,
                },
            )
            writer.execute("insert run", runs.insert, run_to_row(tenant_id, run))
            delta = run.metrics

        title = row["title"] or derive_title(request.messages, request.max_title_chars)
        if not title and run is not None and run.input:
            title = run.input.strip()[: request.max_title_chars]
        if title and not row["title"]:
            titled = {**row, "id": session_id, "title": title, "summary": None}
            writer.execute_many(
                "index title", insert_docs, self.doc_rows.session_rows(tenant_id, titled)
            )
        metrics = add_metrics(row["metrics"] or {}, delta)
        derived = {
            "message_count": row["message_count"] + len(stored),
            "last_seq": row["last_seq"] + len(stored),
            "run_count": row["run_count"] + (1 if run is not None else 0),
            "title": title,
            "title_folded": folded(title),
            "metrics": metrics or None,
            "updated_at": max(now_us, row["updated_at"]),
            "last_message_at": now_us if stored else row["last_message_at"],
            "key_tenant_id": tenant_id,
            "key_id": session_id,
        }
        writer.execute("update session", _update_session, derived)
        return Appended(session_id=session_id, messages=stored, run=run)

    def _check_message_ids(self, writer: Writer, tenant_id: str, request: AppendRequest) -> None:
        given = [m.id for m in request.messages if m.id is not None]
        if not given:
            return
        if len(set(given)) != len(given):
            raise Conflict("message ids repeat within the request", param="messages")
        for start in range(0, len(given), _IDS_PER_CHECK):
            chunk = given[start : start + _IDS_PER_CHECK]
            # padded to a power of two with its last id: a few statement shapes serve every size
            size = 1 << (len(chunk) - 1).bit_length()
            chunk += [chunk[-1]] * (size - len(chunk))
            values: dict[str, Any] = {"tenant_id": tenant_id, "session_id": request.session_id}
            values.update((f"id__{i}", message_id) for i, message_id in enumerate(chunk))
            taken = writer.rows(("message ids taken", size), _ids_taken(size), values)
            if taken:
                raise Conflict(
                    f"message {taken[0]['id']!r} already exists in this session", param="messages"
                )

    # idempotency

    def _replay(
        self, writer: Writer, tenant_id: str, request: AppendRequest, claim: IdempotencyClaim
    ) -> Appended | None:
        """The first answer to this key on this session, or None if it is new (or expired)."""
        key = {"tenant_id": tenant_id, "session_id": request.session_id, "key": claim.key}
        rows = writer.rows("idempotency replay", _replay_select, key)
        if not rows:
            return None
        row = rows[0]
        if row["created_at"] < to_micros(utcnow()) - IDEMPOTENCY_TTL_US:
            writer.execute("idempotency expire", _expire_key, key)
            return None
        if row["scope"] != claim.scope or row["request_hash"] != claim.request_hash:
            raise Conflict(
                "Idempotency-Key was already used with a different request", param="Idempotency-Key"
            )
        result: dict[str, Any] = row["result"]
        return Appended(
            session_id=result["session_id"],
            messages=[Message.model_validate(m) for m in result["messages"]],
            run=Run.model_validate(result["run"]) if result.get("run") else None,
            replayed=True,
        )

    def _remember(
        self, writer: Writer, tenant_id: str, claim: IdempotencyClaim, appended: Appended
    ) -> None:
        now_us = to_micros(utcnow())
        result = {
            "session_id": appended.session_id,
            "messages": [m.model_dump(mode="json") for m in appended.messages],
            "run": appended.run.model_dump(mode="json") if appended.run else None,
        }
        values = {
            "tenant_id": tenant_id,
            "key": claim.key,
            "scope": claim.scope,
            "session_id": appended.session_id,
            "request_hash": claim.request_hash,
            "result": result,
            "created_at": now_us,
        }
        writer.execute("idempotency remember", idempotency_keys.insert, values)
        if next(self._appends) % _PURGE_EVERY == 0:
            before = {"tenant_id": tenant_id, "before": now_us - IDEMPOTENCY_TTL_US}
            writer.execute("idempotency purge", _purge_keys, before)


# The write path's statements, described with bind parameters (compiled once per dialect).

# what an append reads of its session: no JSON blob but the metrics it adds to
_LOCKED_COLUMNS = (
    sessions.c.user_id,
    sessions.c.type,
    sessions.c.component_id,
    sessions.c.created_at,
    sessions.c.title,
    sessions.c.metrics,
    sessions.c.message_count,
    sessions.c.run_count,
    sessions.c.last_seq,
    sessions.c.updated_at,
    sessions.c.last_message_at,
)
# the derived fields an append changes
_DERIVED = (
    "message_count",
    "last_seq",
    "run_count",
    "title",
    "title_folded",
    "metrics",
    "updated_at",
    "last_message_at",
)


def _update_session() -> sa.Update:
    return (
        sessions.update()
        .where(
            sessions.c.tenant_id == sa.bindparam("key_tenant_id"),
            sessions.c.id == sa.bindparam("key_id"),
        )
        .values({name: sa.bindparam(name) for name in _DERIVED})
    )


def _run_taken() -> sa.Select[Any]:
    return sa.select(runs.c.id).where(
        runs.c.tenant_id == sa.bindparam("tenant_id"),
        runs.c.session_id == sa.bindparam("session_id"),
        runs.c.id == sa.bindparam("id"),
    )


def _ids_taken(size: int) -> Callable[[], sa.Select[Any]]:
    def build() -> sa.Select[Any]:
        return sa.select(messages.c.id).where(
            messages.c.tenant_id == sa.bindparam("tenant_id"),
            messages.c.session_id == sa.bindparam("session_id"),
            messages.c.id.in_([sa.bindparam(f"id__{i}") for i in range(size)]),
        )

    return build


def _idempotency_key() -> tuple[sa.ColumnElement[bool], ...]:
    return (
        idempotency_keys.c.tenant_id == sa.bindparam("tenant_id"),
        idempotency_keys.c.session_id == sa.bindparam("session_id"),
        idempotency_keys.c.key == sa.bindparam("key"),
    )


def _replay_select() -> sa.Select[Any]:
    c = idempotency_keys.c
    return sa.select(c.scope, c.request_hash, c.result, c.created_at).where(*_idempotency_key())


def _expire_key() -> sa.Delete:
    return idempotency_keys.delete().where(*_idempotency_key())


def _purge_keys() -> sa.Delete:
    return idempotency_keys.delete().where(
        idempotency_keys.c.tenant_id == sa.bindparam("tenant_id"),
        idempotency_keys.c.created_at < sa.bindparam("before"),
    )


def _stored_messages(
    new: Sequence[NewMessage],
    session_id: str,
    last_seq: int,
    run_id: str | None,
    now: datetime,
) -> list[Message]:
    """The messages an append stores, numbered after `last_seq`.

    Built without validating again: a NewMessage's fields were validated on their way in and
    are a Message's already; the stored value shares their lists and dicts (neither changes).
    """
    return [
        trusted(
            Message,
            {
                "session_id": session_id,
                "seq": last_seq + offset,
                "id": m.id or new_id(),
                "run_id": run_id if run_id is not None else m.run_id,
                "role": m.role,
                "content": m.content,
                "thinkings": m.thinkings,
                "refs": m.refs,
                "tool_calls": m.tool_calls,
                "metrics": m.metrics,
                "from_history": m.from_history,
                "extra": m.extra,
                "created_at": as_utc(m.created_at) if m.created_at else now,
            },
        )
        for offset, m in enumerate(new, start=1)
    ]
