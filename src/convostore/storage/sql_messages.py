"""A session's messages, read a page at a time by `seq`.

A page is cut by count and by the bytes of its text and JSON (`page_budget`), and read without
the session row when the caller may see every user's sessions: messages exist only with their
session, so finding some proves the session does.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from convostore.models import Message, MessageQuery, Page
from convostore.storage.page_budget import UNBOUNDED
from convostore.storage.row_reads import MESSAGE_COLUMNS, message_from_columns
from convostore.storage.sql_base import Filters, SqlBase
from convostore.storage.sql_sessions import session_exists
from convostore.storage.tables import messages

MESSAGE_FILTERS: Filters = {
    "tenant_id": lambda v: messages.c.tenant_id == v,
    "session_id": lambda v: messages.c.session_id == v,
    "after": lambda v: messages.c.seq > v,
    "before": lambda v: messages.c.seq < v,
    "run_ids": lambda v: messages.c.run_id.in_(v),
}

# Message rows as their mapper takes them (`row_reads.MESSAGE_COLUMNS`); pages of them are read as
# `page_budget` selects them (JSON as text, each row's size last).
_WITH_REFS = tuple(messages.c[name] for name in MESSAGE_COLUMNS)
# A message row with its evidence refs left out (read back as none): refs are a message's largest
# column, and turning them into values costs more than the rest of it; surfaces that never show
# refs (Agno) read messages without them.
_WITHOUT_REFS = tuple(sa.null().label("refs") if c.key == "refs" else c for c in _WITH_REFS)
# what a page of messages counts against its byte budget
_LARGE_MESSAGE_COLUMNS = ("content", "thinkings", "refs", "tool_calls", "metrics", "extra")


class MessagesPart(SqlBase):
    def list_messages(
        self,
        tenant_id: str,
        session_id: str,
        query: MessageQuery,
        *,
        scope_user: str | None = None,
        session_read: bool = False,
        max_bytes: int | None = None,
    ) -> Page[Message] | None:
        # Messages exist only with their session (they are deleted with it, in one transaction),
        # so for a caller not confined to one user, finding messages proves the session exists:
        # it is looked up only when none are found.
        ask_first = not session_read and scope_user is not None
        if ask_first and not session_exists(self, tenant_id, session_id, scope_user):
            return None
        values: dict[str, Any] = {"tenant_id": tenant_id, "session_id": session_id}
        if query.after is not None:
            values["after"] = query.after
        if query.before is not None:
            values["before"] = query.before
        if query.run_ids is not None:
            values["run_ids"] = tuple(query.run_ids)
        with_refs = query.with_refs
        rows, has_more = self.select_budgeted(
            f"messages {query.order} refs={with_refs}",
            _WITH_REFS if with_refs else _WITHOUT_REFS,
            MESSAGE_FILTERS,
            values,
            large=_LARGE_MESSAGE_COLUMNS,
            order_by=(("seq", query.order == "desc"),),
            limit=query.limit,
            max_bytes=UNBOUNDED if max_bytes is None else max_bytes,
        )
        unproven = not rows and not session_read and not ask_first
        if unproven and not session_exists(self, tenant_id, session_id, None):
            return None
        items = [message_from_columns(r) for r in rows]
        next_cursor = str(items[-1].seq) if has_more and items else None
        return Page(items=items, has_more=has_more, next_cursor=next_cursor)
