"""Runs for the messages recorded outside any run, so Agno clients can draw them.

Agno's Agent UI rebuilds a chat only from a session's runs. A session written through the native
or memories.ai API (a plain append) has messages and no runs, so on the Agno surface its messages
are presented as runs: a run starts at each user message and holds the replies that follow it,
until the next user message or a message of a recorded run. The run is the id of its first
message (stable: messages never change), and everything Agno shows of a run is read from the
messages: the question as `run_input`, the answers as `content`, their reasoning steps and token
counts, and the tool calls they made. A turn longer than a page of messages (its count or byte
budget) goes on in a new run, so that no implied run is larger than what a response may hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

import orjson

from convostore.models import JSONObject, Message, Run, RunQuery, Session
from convostore.rules import sum_metrics

ImpliedRun = tuple[Run, list[Message]]


def _starts_a_turn(message: Message, turn: Sequence[Message]) -> bool:
    """A user message opens a new turn, unless the turn so far holds only system messages."""
    return message.role == "user" and any(m.role != "system" for m in turn)


def _run_of(session: Session, turn: list[Message]) -> Run:
    first, last = turn[0], turn[-1]
    question = next((m.content for m in turn if m.role == "user"), None)
    answers = [m.content for m in turn if m.role == "assistant" and m.content]
    thinkings = [t for m in turn if m.role == "assistant" for t in m.thinkings]
    extra: JSONObject = {}
    if thinkings:
        extra["reasoning_content"] = "\n\n".join(t.content for t in thinkings)
        extra["reasoning_steps"] = [
            {
                "title": t.title or None,
                "action": None,
                "result": None,
                "reasoning": t.content,
                "next_action": None,
                "confidence": None,
            }
            for t in thinkings
        ]
    return Run(
        session_id=session.id,
        id=first.id,
        index=-1,  # not a stored run: it has no place among their indexes
        component_id=session.component_id,
        user_id=session.user_id,
        status="COMPLETED",
        input=question,
        content="\n\n".join(answers) if answers else None,
        metrics=sum_metrics(m.metrics for m in turn if m.role == "assistant"),
        extra=extra,
        created_at=first.created_at,
        updated_at=last.created_at,
    )


def message_size(message: Message) -> int:
    """About what a message weighs in a response: its text and its JSON parts."""
    size = len(message.content) + sum(len(t.content) + len(t.title) for t in message.thinkings)
    if message.tool_calls:
        size += len(orjson.dumps(message.tool_calls))
    if message.extra:
        size += len(orjson.dumps(message.extra))
    return size


def run_size(run: Run) -> int:
    """About what a run weighs in a response, its messages aside: its input, content and extra."""
    content = run.content
    size = len(run.input or "") + (
        len(content) if isinstance(content, str) else len(orjson.dumps(content))
    )
    return size + (len(orjson.dumps(run.extra)) if run.extra else 0)


def implied_runs(
    session: Session, messages: Iterable[Message], *, max_messages: int, max_bytes: int
) -> Iterator[ImpliedRun]:
    """The runs of `messages` (a session's messages in `seq` order, any of them) that belong to
    no run, each with its messages; yielded as soon as each is complete. A run holds at most
    `max_messages` messages, and none after the one that brings it to `max_bytes`."""
    turn: list[Message] = []
    held = 0
    previous_seq: int | None = None
    for message in messages:
        if message.run_id is not None:
            continue
        adjacent = previous_seq is not None and message.seq == previous_seq + 1
        full = len(turn) >= max_messages or held >= max_bytes
        if turn and (not adjacent or full or _starts_a_turn(message, turn)):
            yield _run_of(session, turn), turn
            turn, held = [], 0
        turn.append(message)
        held += message_size(message)
        previous_seq = message.seq
    if turn:
        yield _run_of(session, turn), turn


Turned = TypeVar("Turned", bound=tuple[Any, ...])


def merged(recorded: Iterable[Turned], implied: Iterable[Turned]) -> Iterator[Turned]:
    """Recorded runs (in their stored order) and implied ones (in the order of their messages),
    each a tuple led by its `Run`, together by when each began; a recorded run first when both
    began at once. Lazy: each side is read only as far as the merge has come."""
    left, right = iter(recorded), iter(implied)
    a, b = next(left, None), next(right, None)
    while a is not None and b is not None:
        if b[0].created_at < a[0].created_at:
            yield b
            b = next(right, None)
        else:
            yield a
            a = next(left, None)
    if a is not None:
        yield a
        yield from left
    if b is not None:
        yield b
        yield from right


def matches(run: Run, query: RunQuery) -> bool:
    """Whether an implied run passes the runs list's filters (inclusive times, statuses)."""
    if query.created_after is not None and run.created_at < query.created_after:
        return False
    if query.created_before is not None and run.created_at > query.created_before:
        return False
    return query.statuses is None or run.status in query.statuses
