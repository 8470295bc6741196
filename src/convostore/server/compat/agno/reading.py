"""What the Agno surface reads of one session, a page at a time.

A session's `chat_history` and its runs (each with its messages) can be far larger than anything a
response should hold at once. Each is read as the common case needs (one page of messages, one
page of runs: the whole of most sessions) and, when more follow, handed out in chunks that the
routes stream (`server.streaming`): a page of messages of the chat history at a time, and a run
with its messages at a time.

The runs of a session are those it recorded, and those its messages recorded outside any run
imply (`turns_map`), merged by when each began. An implied run is cut at a page of messages (its
count and byte budget), so none is ever held larger than a page; a recorded run longer than a page
has its messages, and the tools they show, sent a page at a time too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from convostore.compat.agno.messages_map import chat_history, to_agno_message
from convostore.compat.agno.runs_map import (
    TOOL_RESULTS_HELD,
    input_from_messages,
    messages_by_run,
    to_run,
    to_run_preview,
    to_session_run,
)
from convostore.compat.agno.tools_map import ToolPairing
from convostore.compat.agno.turns_map import (
    ImpliedRun,
    implied_runs,
    matches,
    merged,
    message_size,
    run_size,
)
from convostore.compat.agno.wire import without_nulls
from convostore.models import JSONObject, Message, Principal, Run, RunQuery, Session
from convostore.server.database import Database
from convostore.server.streaming import Streamed, read_chunks
from convostore.service import SessionService

__all__ = ["ChatPages", "Shape", "Turns", "chat_start", "find_implied", "recorded_run", "turns"]

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

# A run, the first page of its messages, and the `seq` after which more of them follow (None: all
# of them are there).
Turn = tuple[Run, list[Message], int | None]
# How a run is shown: from the run and (the first page of) its messages, every key kept.
Render = Callable[[Run, Sequence[Message]], JSONObject | None]


@dataclass(frozen=True)
class _RunPages:
    """The pages of one run's messages after the first, as an answer streams them."""

    service: SessionService
    principal: Principal
    session: Session
    run_id: str

    def read(self, after: int) -> tuple[list[Message], int | None]:
        return self.service.messages_after(
            self.principal, self.session, after, with_refs=False, run_ids=[self.run_id]
        )

    def messages(self, after: int) -> tuple[list[JSONObject], int | None]:
        page, following = self.read(after)
        return [to_agno_message(m) for m in page], following

    def tools(
        self, position: tuple[ToolPairing, int]
    ) -> tuple[list[JSONObject], tuple[ToolPairing, int] | None]:
        pairing, after = position
        page, following = self.read(after)
        ready = pairing.feed(page)
        if following is None:
            return ready + pairing.finish(), None
        return ready, (pairing, following)

    def survey(self, first: list[Message], after: int | None) -> tuple[str | None, bool]:
        """The last user message's text, and whether any tool was called or answered, over
        every page of the run (one page held at a time)."""
        last_user: str | None = None
        tools = False
        page: list[Message] = first
        while True:
            for message in page:
                if message.role == "user":
                    last_user = message.content
                tools = tools or message.role == "tool" or bool(message.tool_calls)
            if after is None:
                return last_user, tools
            page, after = self.read(after)


def run_body(
    db: Database,
    service: SessionService,
    principal: Principal,
    session: Session,
    turn: Turn,
    render: Render,
    *,
    streamed: bool = True,
) -> JSONObject | None:
    """A run as `render` shows it (nulls kept). A run longer than a page of messages has its
    `messages` and derived `tools` sent as they are read (`streamed`; without, they are left
    out: a preview shows neither), and its `run_input` found over all of its messages."""
    run, first, after = turn
    body = render(run, first)
    if body is None or after is None:
        return body
    pages = _RunPages(service, principal, session, run.id)
    derive_tools = streamed and "tools" in body and not run.extra.get("tools")
    if input_from_messages(run) or derive_tools:
        last_user, tool_traffic = pages.survey(first, after)
        if input_from_messages(run) and "run_input" in body:
            body["run_input"] = last_user or ""
        if derive_tools:
            body["tools"] = None
            if tool_traffic:
                pairing = ToolPairing(TOOL_RESULTS_HELD)
                ready = pairing.feed(first)
                tools = read_chunks(db, pages.tools, (pairing, after))
                body["tools"] = Streamed(ready, tools)
    if streamed and "messages" in body:
        rest = read_chunks(db, pages.messages, after)
        body["messages"] = Streamed([to_agno_message(m) for m in first], rest)
    return body


@dataclass(frozen=True)
class Shape:
    """How a runs answer shows its runs: as the list does in a session of `kind`, or previews."""

    kind: str
    previews: bool


class Turns:
    """A session's runs with their messages, in order, read and shown as they are taken."""

    def __init__(
        self,
        db: Database,
        service: SessionService,
        principal: Principal,
        session: Session,
        query: RunQuery,
        shape: Shape,
    ) -> None:
        self.db = db
        self.service, self.principal, self.session, self.query = service, principal, session, query
        self.shape = shape
        implied = _implied(service, session, _message_stream(service, principal, session))
        matching = ((r, m, None) for r, m in implied if matches(r, query))
        self._items: Iterator[Turn] = merged(self._recorded(), matching)

    def _recorded(self) -> Iterator[Turn]:
        if not self.session.run_count:
            return
        after: Run | None = None
        while True:
            page = self.service.run_page(
                self.principal, self.session.id, self.query, after=after, session=self.session
            )
            for run in page.items:
                first, following = self.service.messages_after(
                    self.principal, self.session, 0, with_refs=False, run_ids=[run.id]
                )
                yield run, first, following
            if not page.has_more or not page.items:
                return
            after = page.items[-1]

    def take(self) -> tuple[list[JSONObject], Turns | None]:
        """The next chunk of runs as the answer shows them, and this reader again while more
        may follow (None: done)."""
        chunk: list[JSONObject] = []
        held = 0
        for turn in self._items:
            body = show(self.db, self.service, self.principal, self.session, turn, self.shape)
            if body is not None:
                chunk.append(body)
            held += run_size(turn[0]) + sum(message_size(m) for m in turn[1])
            if len(chunk) == RUNS_PER_CHUNK or held >= self.service.limits.max_page_bytes:
                return chunk, self
        return chunk, None


def show(
    db: Database,
    service: SessionService,
    principal: Principal,
    session: Session,
    turn: Turn,
    shape: Shape,
) -> JSONObject | None:
    """One run of a runs answer: the list's item (nulls left out), or its preview."""

    def render(run: Run, messages: Sequence[Message]) -> JSONObject | None:
        return to_session_run(run, messages, session, shape.kind, with_nulls=True)

    body = run_body(db, service, principal, session, turn, render, streamed=not shape.previews)
    if body is None:
        return None
    body = without_nulls(body)
    return to_run_preview(body) if shape.previews else body


def turns(
    db: Database,
    service: SessionService,
    principal: Principal,
    session: Session,
    query: RunQuery,
    shape: Shape,
) -> tuple[list[JSONObject], Turns | None]:
    """The session's runs as the answer shows them: all of them when a page of runs and a page
    of messages hold the whole session (most sessions, read with two statements), else the
    first chunk and the reader of the rest."""
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
        return Turns(db, service, principal, session, query, shape).take()
    by_run = messages_by_run(messages)
    recorded: Iterator[Turn] = ((r, by_run.get(r.id, []), None) for r in runs)
    implied = ((r, m, None) for r, m in _implied(service, session, messages) if matches(r, query))
    shown = (show(db, service, principal, session, t, shape) for t in merged(recorded, implied))
    return [b for b in shown if b is not None], None


def recorded_run(
    db: Database, service: SessionService, principal: Principal, session: Session, run: Run
) -> JSONObject:
    """A recorded run alone, in the schema of its own kind, every key kept; a run longer than a
    page of messages is sent as it is read."""
    first, following = service.messages_after(
        principal, session, 0, with_refs=False, run_ids=[run.id]
    )

    def render(shown: Run, messages: Sequence[Message]) -> JSONObject | None:
        return to_run(shown, messages, session)

    body = run_body(db, service, principal, session, (run, first, following), render)
    assert body is not None  # a run alone is always shown
    return body


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
