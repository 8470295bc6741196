"""The chat history the Agno session detail shows, read through the service."""

from __future__ import annotations

from convostore.models import JSONObject, Principal, Run, RunQuery, Session
from convostore.server.compat.agno.messages_map import chat_history
from convostore.service import SessionService


def session_chat(
    service: SessionService, principal: Principal, session: Session
) -> list[JSONObject]:
    """`chat_history`: nothing for workflows; else user/assistant turns outside member runs."""
    if session.type == "workflow" or session.message_count == 0:
        return []
    members: set[str] = set()
    if session.run_count:
        runs: list[Run] = service.runs_of(principal, session, RunQuery(with_parent=True))
        members = {r.id for r in runs}
    # Agno's messages carry no evidence refs: they are not read
    return chat_history(service.all_messages_of(principal, session, with_refs=False), members)
