"""A session's runs, in order of their index: all of them, a page at a time, or one by id."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from convostore.ids import to_micros
from convostore.models import Page, Run, RunQuery
from convostore.storage.page_budget import UNBOUNDED
from convostore.storage.row_reads import RUN_COLUMNS, run_from_columns
from convostore.storage.sql_base import Filters, SqlBase, as_text
from convostore.storage.sql_sessions import session_exists
from convostore.storage.tables import runs

RUN_FILTERS: Filters = {
    "tenant_id": lambda v: runs.c.tenant_id == v,
    "session_id": lambda v: runs.c.session_id == v,
    "id": lambda v: runs.c.id == v,
    "created_after": lambda v: runs.c.created_at >= v,
    "created_before": lambda v: runs.c.created_at <= v,
    "statuses": lambda v: sa.func.upper(runs.c.status).in_(v),
    # 1 or 0 (a plain integer bind: prepared reads take no converted values)
    "with_parent": lambda v: sa.case((runs.c.parent_run_id.is_(None), 0), else_=1) == v,
    # the runs after one, in list order (index, created_at, id): a tuple of the three
    "after_run": lambda v: (
        sa.tuple_(runs.c.run_index, runs.c.created_at, runs.c.id) > sa.tuple_(*v)
    ),
}

# Run rows as their mapper takes them (`row_reads.RUN_COLUMNS`), JSON as text; pages of them are
# read as `page_budget` selects them (each row's size last).
_RUN_COLUMNS = tuple(as_text(runs.c[name]) for name in RUN_COLUMNS)
# what a page of runs counts against its byte budget
_LARGE_RUN_COLUMNS = ("input", "content", "metrics", "extra")
_RUN_ORDER = (("run_index", False), ("created_at", False), ("id", False))


class RunsPart(SqlBase):
    def list_runs(
        self,
        tenant_id: str,
        session_id: str,
        query: RunQuery,
        *,
        scope_user: str | None = None,
        session_read: bool = False,
    ) -> list[Run] | None:
        if not session_read and not session_exists(self, tenant_id, session_id, scope_user):
            return None
        values = _run_values(tenant_id, session_id, query)

        def base() -> sa.Select[Any]:
            return sa.select(*_RUN_COLUMNS).order_by(runs.c.run_index, runs.c.created_at, runs.c.id)

        found = self.select_where("runs", base, RUN_FILTERS, values, raw=True)
        return [run_from_columns(r) for r in found]

    def run_page(
        self,
        tenant_id: str,
        session_id: str,
        query: RunQuery,
        *,
        after: Run | None = None,
        limit: int,
        max_bytes: int | None = None,
        scope_user: str | None = None,
        session_read: bool = False,
    ) -> Page[Run] | None:
        """The runs of `list_runs` that follow `after`, a page at a time: at most `limit`, cut
        after the run that takes the page's text and JSON to `max_bytes` (`page_budget`). The
        next page follows the last run of this one (`next_cursor` stays None)."""
        if not session_read and not session_exists(self, tenant_id, session_id, scope_user):
            return None
        values = _run_values(tenant_id, session_id, query)
        if after is not None:
            values["after_run"] = (after.index, to_micros(after.created_at), after.id)
        rows, has_more = self.select_budgeted(
            "runs",
            tuple(runs.c[name] for name in RUN_COLUMNS),
            RUN_FILTERS,
            values,
            large=_LARGE_RUN_COLUMNS,
            order_by=_RUN_ORDER,
            limit=limit,
            max_bytes=UNBOUNDED if max_bytes is None else max_bytes,
        )
        return Page(items=[run_from_columns(r) for r in rows], has_more=has_more)

    def get_run(
        self,
        tenant_id: str,
        session_id: str,
        run_id: str,
        *,
        scope_user: str | None = None,
    ) -> Run | None:
        if not session_exists(self, tenant_id, session_id, scope_user):
            return None
        values = {"tenant_id": tenant_id, "session_id": session_id, "id": run_id}
        rows = self.select_where(
            "run", lambda: sa.select(*_RUN_COLUMNS), RUN_FILTERS, values, raw=True
        )
        return run_from_columns(rows[0]) if rows else None


def _run_values(tenant_id: str, session_id: str, query: RunQuery) -> dict[str, Any]:
    """The RUN_FILTERS values of a query for a session's runs."""
    values: dict[str, Any] = {"tenant_id": tenant_id, "session_id": session_id}
    if query.created_after is not None:
        values["created_after"] = to_micros(query.created_after)
    if query.created_before is not None:
        values["created_before"] = to_micros(query.created_before)
    if query.statuses:
        values["statuses"] = tuple(s.upper() for s in query.statuses)
    if query.with_parent is not None:
        values["with_parent"] = int(query.with_parent)
    return values
