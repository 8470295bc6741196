"""Messages and runs: the append path and the reads by `seq` and run index.

An append is one transaction: replay check for the idempotency key, lock the session row, assign
the next `seq` values, insert messages (and the run and evidence rows), update the session's
derived fields, record the idempotency result. Nothing is visible until all of it is.
"""

from __future__ import annotations

import itertools
from typing import Any

import sqlalchemy as sa

from convostore.errors import Conflict, NotFound
from convostore.ids import as_utc, new_id, to_micros, utcnow
from convostore.models import Message, MessageQuery, Page, Run, RunQuery
from convostore.rules import add_metrics, derive_title, sum_metrics
from convostore.storage.base import Appended, AppendRequest, IdempotencyClaim
from convostore.storage.rows import (
    evidence_rows,
    message_from_row,
    message_to_row,
    run_from_row,
    run_to_row,
)
from convostore.storage.sql_base import Filters, SqlBase
from convostore.storage.sql_sessions import SESSION_FILTERS, new_session_row, session_key
from convostore.storage.tables import evidence, idempotency_keys, messages, runs, sessions

IDEMPOTENCY_TTL_US = 24 * 3600 * 1_000_000
_PURGE_EVERY = 500


MESSAGE_FILTERS: Filters = {
    "tenant_id": lambda v: messages.c.tenant_id == v,
    "session_id": lambda v: messages.c.session_id == v,
    "after": lambda v: messages.c.seq > v,
    "before": lambda v: messages.c.seq < v,
    "run_ids": lambda v: messages.c.run_id.in_(v),
}
RUN_FILTERS: Filters = {
    "tenant_id": lambda v: runs.c.tenant_id == v,
    "session_id": lambda v: runs.c.session_id == v,
    "id": lambda v: runs.c.id == v,
    "created_after": lambda v: runs.c.created_at >= v,
    "created_before": lambda v: runs.c.created_at <= v,
    "statuses": lambda v: sa.func.upper(runs.c.status).in_(v),
}


class ConversationPart(SqlBase):
    _appends = itertools.count()

    def append(self, tenant_id: str, request: AppendRequest) -> Appended:
        with self.write() as conn:
            if request.idempotency is not None:
                replay = self._replay(conn, tenant_id, request.idempotency)
                if replay is not None:
                    return replay
            row = self._lock_session(conn, tenant_id, request)
            appended = self._append_locked(conn, tenant_id, request, row)
            if request.idempotency is not None:
                self._remember(conn, tenant_id, request.idempotency, appended)
        return appended

    def _lock_session(
        self, conn: sa.Connection, tenant_id: str, request: AppendRequest
    ) -> sa.RowMapping:
        key = sa.and_(sessions.c.tenant_id == tenant_id, sessions.c.id == request.session_id)
        row = conn.execute(self.lock(sa.select(sessions).where(key))).mappings().first()
        if row is None and request.create is not None:
            values = new_session_row(tenant_id, request.create, request.session_id)
            conn.execute(
                self.insert(sessions)
                .values(**values)
                .on_conflict_do_nothing(index_elements=["tenant_id", "id"])
            )
            row = conn.execute(self.lock(sa.select(sessions).where(key))).mappings().first()
        if row is None or (request.scope_user is not None and row["user_id"] != request.scope_user):
            raise NotFound(f"session {request.session_id!r} not found", param="session_id")
        return row

    def _append_locked(
        self, conn: sa.Connection, tenant_id: str, request: AppendRequest, row: sa.RowMapping
    ) -> Appended:
        now = utcnow()
        now_us = to_micros(now)
        session_id = request.session_id
        run: Run | None = None
        run_id: str | None = None
        if request.run is not None:
            run_id = request.run.id or new_id()
            taken = conn.execute(
                sa.select(runs.c.id).where(
                    runs.c.tenant_id == tenant_id,
                    runs.c.session_id == session_id,
                    runs.c.id == run_id,
                )
            ).first()
            if taken:
                raise Conflict(f"run {run_id!r} already exists in this session", param="id")
        self._check_message_ids(conn, tenant_id, request)

        stored = [
            Message(
                session_id=session_id,
                seq=row["last_seq"] + offset,
                id=new.id or new_id(),
                run_id=run_id if run_id is not None else new.run_id,
                role=new.role,
                content=new.content,
                thinkings=new.thinkings,
                refs=new.refs,
                tool_calls=new.tool_calls,
                metrics=new.metrics,
                from_history=new.from_history,
                extra=new.extra,
                created_at=as_utc(new.created_at) if new.created_at else now,
            )
            for offset, new in enumerate(request.messages, start=1)
        ]
        if stored:
            conn.execute(messages.insert(), [message_to_row(tenant_id, m) for m in stored])
            ev_rows = [e for m in stored for e in evidence_rows(tenant_id, m)]
            if ev_rows:
                conn.execute(evidence.insert(), ev_rows)

        delta = sum_metrics(m.metrics for m in stored)
        if request.run is not None and run_id is not None:
            new_run = request.run
            run = Run(
                session_id=session_id,
                id=run_id,
                index=row["run_count"],
                parent_run_id=new_run.parent_run_id,
                component_id=new_run.component_id or row["component_id"],
                user_id=row["user_id"],
                status=new_run.status,
                input=new_run.input,
                content=new_run.content,
                metrics=new_run.metrics if new_run.metrics is not None else delta,
                extra=new_run.extra,
                created_at=as_utc(new_run.created_at) if new_run.created_at else now,
                updated_at=now,
            )
            conn.execute(runs.insert().values(**run_to_row(tenant_id, run)))
            delta = run.metrics

        title = row["title"] or derive_title(request.messages, request.max_title_chars)
        if not title and run is not None and run.input:
            title = run.input.strip()[: request.max_title_chars]
        metrics = add_metrics(row["metrics"] or {}, delta)
        conn.execute(
            sessions.update()
            .where(sessions.c.tenant_id == tenant_id, sessions.c.id == session_id)
            .values(
                message_count=row["message_count"] + len(stored),
                last_seq=row["last_seq"] + len(stored),
                run_count=row["run_count"] + (1 if run is not None else 0),
                title=title,
                metrics=metrics or None,
                updated_at=max(now_us, row["updated_at"]),
                last_message_at=now_us if stored else row["last_message_at"],
            )
        )
        return Appended(session_id=session_id, messages=stored, run=run)

    def _check_message_ids(
        self, conn: sa.Connection, tenant_id: str, request: AppendRequest
    ) -> None:
        given = [m.id for m in request.messages if m.id is not None]
        if not given:
            return
        if len(set(given)) != len(given):
            raise Conflict("message ids repeat within the request", param="messages")
        taken = conn.execute(
            sa.select(messages.c.id).where(
                messages.c.tenant_id == tenant_id,
                messages.c.session_id == request.session_id,
                messages.c.id.in_(given),
            )
        ).first()
        if taken:
            raise Conflict(f"message {taken[0]!r} already exists in this session", param="messages")

    # idempotency

    def _replay(
        self, conn: sa.Connection, tenant_id: str, claim: IdempotencyClaim
    ) -> Appended | None:
        where = sa.and_(
            idempotency_keys.c.tenant_id == tenant_id, idempotency_keys.c.key == claim.key
        )
        row = conn.execute(sa.select(idempotency_keys).where(where)).mappings().first()
        if row is None:
            return None
        if row["created_at"] < to_micros(utcnow()) - IDEMPOTENCY_TTL_US:
            conn.execute(idempotency_keys.delete().where(where))
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
        self, conn: sa.Connection, tenant_id: str, claim: IdempotencyClaim, appended: Appended
    ) -> None:
        now_us = to_micros(utcnow())
        result = {
            "session_id": appended.session_id,
            "messages": [m.model_dump(mode="json") for m in appended.messages],
            "run": appended.run.model_dump(mode="json") if appended.run else None,
        }
        conn.execute(
            idempotency_keys.insert().values(
                tenant_id=tenant_id,
                key=claim.key,
                scope=claim.scope,
                session_id=appended.session_id,
                request_hash=claim.request_hash,
                result=result,
                created_at=now_us,
            )
        )
        if next(self._appends) % _PURGE_EVERY == 0:
            conn.execute(
                idempotency_keys.delete().where(
                    idempotency_keys.c.tenant_id == tenant_id,
                    idempotency_keys.c.created_at < now_us - IDEMPOTENCY_TTL_US,
                )
            )

    # reads

    def _session_exists(self, tenant_id: str, session_id: str, scope_user: str | None) -> bool:
        found = self.select_where(
            "session exists",
            lambda: sa.select(sessions.c.id),
            SESSION_FILTERS,
            session_key(tenant_id, session_id, scope_user),
        )
        return bool(found)

    def list_messages(
        self,
        tenant_id: str,
        session_id: str,
        query: MessageQuery,
        *,
        scope_user: str | None = None,
    ) -> Page[Message] | None:
        if not self._session_exists(tenant_id, session_id, scope_user):
            return None
        values: dict[str, Any] = {"tenant_id": tenant_id, "session_id": session_id}
        if query.after is not None:
            values["after"] = query.after
        if query.before is not None:
            values["before"] = query.before
        if query.run_ids is not None:
            values["run_ids"] = tuple(query.run_ids)
        ascending = query.order == "asc"

        def base() -> sa.Select[Any]:
            order = messages.c.seq.asc() if ascending else messages.c.seq.desc()
            return sa.select(messages).order_by(order)

        rows = self.select_where(
            f"messages {query.order}", base, MESSAGE_FILTERS, values, limit=query.limit + 1
        )
        has_more = len(rows) > query.limit
        items = [message_from_row(r) for r in rows[: query.limit]]
        next_cursor = str(items[-1].seq) if has_more and items else None
        return Page(items=items, has_more=has_more, next_cursor=next_cursor)

    def list_runs(
        self,
        tenant_id: str,
        session_id: str,
        query: RunQuery,
        *,
        scope_user: str | None = None,
    ) -> list[Run] | None:
        if not self._session_exists(tenant_id, session_id, scope_user):
            return None
        values: dict[str, Any] = {"tenant_id": tenant_id, "session_id": session_id}
        if query.created_after is not None:
            values["created_after"] = to_micros(query.created_after)
        if query.created_before is not None:
            values["created_before"] = to_micros(query.created_before)
        if query.statuses:
            values["statuses"] = tuple(s.upper() for s in query.statuses)

        def base() -> sa.Select[Any]:
            return sa.select(runs).order_by(runs.c.run_index, runs.c.created_at, runs.c.id)

        return [run_from_row(r) for r in self.select_where("runs", base, RUN_FILTERS, values)]

    def get_run(
        self,
        tenant_id: str,
        session_id: str,
        run_id: str,
        *,
        scope_user: str | None = None,
    ) -> Run | None:
        if not self._session_exists(tenant_id, session_id, scope_user):
            return None
        values = {"tenant_id": tenant_id, "session_id": session_id, "id": run_id}
        rows = self.select_where("run", lambda: sa.select(runs), RUN_FILTERS, values)
        return run_from_row(rows[0]) if rows else None
