"""What the Agno surface reads of one session, a page at a time.

A session's `chat_history` and its runs (each with its messages) can be far larger than anything a
response should hold at once. Each is read as the common case needs (one page of messages, one
page of runs: the whole of most sessions) and, when more follow, handed out in chunks that the
routes stream (`server.streaming`): a page of messages of the chat history at a time, and a run
with its messages at a time.

The runs of a session are those it recorded, and those its messages recorded outside any run
imply (`turns_map`), merged by when each began. An implied run is cut at a page of messages (its
count and byte budget), so no run is ever held larger than a page; a recorded run is held with all
of its messages (written by one request each, within the request size limit).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from convostore.models import JSONObject, Message, Principal, Run, RunQuery, Session
from convostore.server.compat.agno.messages_map import chat_history
from convostore.server.compat.agno.runs_map import messages_by_run
from convostore.server.compat.agno.turns_map import (
    ImpliedRun,
    implied_runs,
    matches,
    merged,
    message_size,
)
from convostore.service import SessionService

__all__ = ["ChatPages", "Turns", "chat_start", "find_implied", "turns"]

# How many runs a streamed chunk holds at most (fewer when their messages reach a page's budget).
RUNS_PER_CHUNK = 20


# --- chat_history -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChatPages:
    """The pages of a session's `chat_history` after the first: `next` from a message `seq`."""

    service: SessionService
    principal: Principal
    session: Session
    members: frozenset[str]

    def next(self, after: int) -> tuple[list[JSONObject], int | None]:
        """The chat messages after `seq` `after`, and the `seq` to go on after (None: done)."""
        messages, following = self.service.messages_after(
            self.principal, self.session, after, with_refs=False
        )
        return chat_history(messages, self.members), following


def _member_runs(service: SessionService, principal: Principal, session: Session) -> frozenset[str]:
    """The ids of runs made inside another run (a team's members), whose messages are not chat."""
    if not session.run_count:
        return frozenset()
    found: set[str] = set()
    after: Run | None = None
    while True:
        page = service.run_page(
            principal, session.id, RunQuery(with_parent=True), after=after, session=session
        )
        found.update(r.id for r in page.items)
        if not page.has_more or not page.items:
            return frozenset(found)
        after = page.items[-1]


def chat_start(
    service: SessionService, principal: Principal, session: Session
) -> tuple[list[JSONObject], ChatPages | None, int | None]:
    """`chat_history`'s first page (nothing for workflows: AgentOS shows them none), and, when
    more follow, what reads the next ones and the `seq` they start after."""
    if session.type == "workflow" or session.message_count == 0:
        return [], None, None
    members = _member_runs(service, principal, session)
    pages = ChatPages(service, principal, session, members)
    first, following = pages.next(0)
    return first, (pages if following is not None else None), following


# --- runs ---------------------------------------------------------------------------------------


class Turns:
    """A session's runs with their messages, in order, read as they are taken."""

    def __init__(
        self, service: SessionService, principal: Principal, session: Session, query: RunQuery
    ) -> None:
        self.service, self.principal, self.session, self.query = service, principal, session, query
        implied = _implied(service, session, _message_stream(service, principal, session))
        self._items = merged(self._recorded(), (t for t in implied if matches(t[0], query)))

    def _recorded(self) -> Iterator[ImpliedRun]:
        if not self.session.run_count:
            return
        after: Run | None = None
        while True:
            page = self.service.run_page(
                self.principal, self.session.id, self.query, after=after, session=self.session
            )
            for run in page.items:
                messages = self.service.all_messages_of(
                    self.principal, self.session, with_refs=False, run_ids=[run.id]
                )
                yield run, messages
            if not page.has_more or not page.items:
                return
            after = page.items[-1]

    def take(self) -> tuple[list[ImpliedRun], Turns | None]:
        """The next chunk of runs, and this reader again while more may follow (None: done)."""
        chunk: list[ImpliedRun] = []
        held = 0
        for run, messages in self._items:
            chunk.append((run, messages))
            held += sum(message_size(m) for m in messages)
            if len(chunk) == RUNS_PER_CHUNK or held >= self.service.limits.max_page_bytes:
                return chunk, self
        return chunk, None


def turns(
    service: SessionService, principal: Principal, session: Session, query: RunQuery
) -> tuple[list[ImpliedRun], Turns | None]:
    """The session's runs with their messages: all of them when a page of runs and a page of
    messages hold the whole session (most sessions, read with two statements), else the first
    chunk and the reader of the rest."""
    runs: list[Run] = []
    more_runs = False
    if session.run_count:
        page = service.run_page(principal, session.id, query, session=session)
        runs, more_runs = page.items, page.has_more
    messages: list[Message] = []
    following: int | None = None
    if session.message_count:
        messages, following = service.messages_after(principal, session, 0, with_refs=False)
    if more_runs or following is not None:
        return Turns(service, principal, session, query).take()
    by_run = messages_by_run(messages)
    recorded = ((r, by_run.get(r.id, [])) for r in runs)
    implied = (t for t in _implied(service, session, messages) if matches(t[0], query))
    return list(merged(recorded, implied)), None


def find_implied(
    service: SessionService, principal: Principal, session: Session, run_id: str
) -> ImpliedRun | None:
    """The run of that id among those the session's messages imply (read until it is found)."""
    stream = _message_stream(service, principal, session)
    return next((t for t in _implied(service, session, stream) if t[0].id == run_id), None)


def _message_stream(
    service: SessionService, principal: Principal, session: Session
) -> Iterator[Message]:
    """Every message of the session in order, read a page at a time as they are taken."""
    after: int | None = 0
    while after is not None and session.message_count:
        page, after = service.messages_after(principal, session, after, with_refs=False)
        yield from page


def _implied(
    service: SessionService, session: Session, messages: Iterable[Message]
) -> Iterator[ImpliedRun]:
    """The runs `messages` imply, none larger than a page of messages."""
    limits = service.limits
    return implied_runs(
        session,
        messages,
        max_messages=limits.max_message_page_size,
        max_bytes=limits.max_page_bytes,
    )
