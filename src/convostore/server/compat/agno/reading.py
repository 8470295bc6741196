"""Whole-session reads the Agno detail and runs endpoints need, through the service."""

from __future__ import annotations

from convostore.models import JSONObject, Message, MessageQuery, Principal, Run, RunQuery, Session
from convostore.server.compat.agno.messages_map import chat_history
from convostore.service import SessionService


def all_messages(service: SessionService, principal: Principal, session_id: str) -> list[Message]:
    """Every message of a session in `seq` order, read page by page."""
    out: list[Message] = []
    after: int | None = None
    while True:
        query = MessageQuery(after=after, limit=service.limits.max_message_page_size)
        page = service.list_messages(principal, session_id, query)
        out.extend(page.items)
        if not page.has_more or not page.items:
            return out
        after = page.items[-1].seq


def session_chat(
    service: SessionService, principal: Principal, session: Session
) -> list[JSONObject]:
    """`chat_history`: nothing for workflows; else user/assistant turns outside member runs."""
    if session.type == "workflow" or session.message_count == 0:
        return []
    members: set[str] = set()
    if session.run_count:
        runs: list[Run] = service.list_runs(principal, session.id, RunQuery())
        members = {r.id for r in runs if r.parent_run_id}
    return chat_history(all_messages(service, principal, session.id), members)
