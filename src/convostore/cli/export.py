"""`convostore export jsonl|markdown`: sessions out of the database, for backups and for people.

JSONL holds one session per line in the native API's JSON shape, with all its `messages` and
`runs`, so a line is everything needed to restore or analyse that session. Markdown renders one
session as a transcript. Both read through the service, a page at a time.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import IO, Any

import click

from convostore.cli.common import (
    admin_of,
    cli_store,
    database_option,
    format_time,
    handles_errors,
    tenant_option,
)
from convostore.cli.conversation import timestamp, tokens
from convostore.models import (
    EvidenceRef,
    Message,
    Principal,
    RunQuery,
    Session,
    SessionQuery,
)
from convostore.server.json_wire import dumps
from convostore.server.native.schemas import message_json, run_json, session_json
from convostore.service import SessionService

PROGRESS_FROM = 20  # sessions; fewer are written before a progress bar would be worth drawing

output_option = click.option(
    "--output",
    "-o",
    type=click.File("w", encoding="utf-8", lazy=True),
    default="-",
    show_default=True,
    help="File to write ('-' for standard output).",
)


@click.group("export")
def export_group() -> None:
    """Write sessions out as JSONL (one session per line) or a Markdown transcript."""


@export_group.command("jsonl")
@database_option
@tenant_option
@click.option("--user-id", help="Only this end user's sessions.")
@click.option(
    "--session-id", "session_ids", multiple=True, help="Only these sessions (repeatable)."
)
@output_option
@handles_errors
def export_jsonl(
    database: str,
    tenant: str,
    user_id: str | None,
    session_ids: tuple[str, ...],
    output: IO[str],
) -> None:
    """One JSON object per session: the session, its "messages" and its "runs", oldest first."""
    principal = admin_of(tenant)
    with cli_store(database) as store:
        service = SessionService(store)
        if session_ids:
            chosen = [service.get_session(principal, sid) for sid in dict.fromkeys(session_ids)]
            if user_id is not None:
                chosen = [s for s in chosen if s.user_id == user_id]
            sessions: Iterator[Session] = iter(chosen)
            total = len(chosen)
        else:
            counting = SessionQuery(user_id=user_id, limit=1, include_total=True)
            total = service.list_sessions(principal, counting).total or 0
            sessions = _all_sessions(service, principal, user_id)
        if total >= PROGRESS_FROM:
            with click.progressbar(
                sessions, length=total, label="Exporting sessions", file=sys.stderr
            ) as bar:
                _write_jsonl(service, principal, bar, output)
        else:
            _write_jsonl(service, principal, sessions, output)
    output.flush()


@export_group.command("markdown")
@click.option("--session-id", required=True, help="The session to write.")
@database_option
@tenant_option
@output_option
@handles_errors
def export_markdown(session_id: str, database: str, tenant: str, output: IO[str]) -> None:
    """A readable transcript: roles, reasoning steps, tool calls, evidence with timestamps."""
    principal = admin_of(tenant)
    with cli_store(database) as store:
        service = SessionService(store)
        session = service.get_session(principal, session_id)
        messages = list(service.all_messages_of(principal, session))
    output.write("\n".join(markdown_lines(session, messages)) + "\n")
    output.flush()


# --- reading ----------------------------------------------------------------------------------


def _all_sessions(
    service: SessionService, principal: Principal, user_id: str | None
) -> Iterator[Session]:
    """Every session, oldest first; a cursor walk yields each exactly once."""
    after = None
    while True:
        query = SessionQuery(
            user_id=user_id,
            sort="created_at",
            order="asc",
            limit=service.limits.max_page_size,
            after=after,
        )
        page = service.list_sessions(principal, query)
        yield from page.items
        if not page.has_more or not page.next_cursor:
            return
        after = page.next_cursor


def _write_jsonl(
    service: SessionService, principal: Principal, sessions: Iterable[Session], output: IO[str]
) -> None:
    for session in sessions:
        document = _session_document(service, principal, session)
        output.write(dumps(document).decode() + "\n")


def _session_document(
    service: SessionService, principal: Principal, session: Session
) -> dict[str, Any]:
    document = session_json(session)
    document["messages"] = [message_json(m) for m in service.all_messages_of(principal, session)]
    runs = service.runs_of(principal, session, RunQuery())
    document["runs"] = [run_json(r) for r in runs]
    return document


# --- markdown ---------------------------------------------------------------------------------


def markdown_lines(session: Session, messages: list[Message]) -> Iterator[str]:
    """A session as Markdown. Pure, so the rendering is tested without a database."""
    yield f"# {_inline(session.title) or 'Session ' + session.id}"
    yield ""
    kind = session.type + (f" `{session.component_id}`" if session.component_id else "")
    yield f"- **Session:** `{session.id}`"
    yield f"- **User:** `{session.user_id}`"
    yield f"- **Kind:** {kind}"
    size = f"{session.message_count} messages, {session.run_count} runs"
    if session.metrics.get("total_tokens"):
        size += f", {tokens(session.metrics)}"
    yield f"- **Size:** {size}"
    yield f"- **Created:** {format_time(session.created_at, seconds=True)} UTC"
    yield f"- **Updated:** {format_time(session.updated_at, seconds=True)} UTC"
    if session.summary is not None:
        yield ""
        yield f"> **Summary:** {_inline(session.summary.text)}"
    for message in messages:
        yield ""
        yield from _message_markdown(message)


def _message_markdown(message: Message) -> Iterator[str]:
    details = [format_time(message.created_at, seconds=True) + " UTC"]
    if message.metrics.get("total_tokens"):
        details.append(tokens(message.metrics))
    yield f"## #{message.seq} {message.role} · {' · '.join(details)}"
    for step in message.thinkings:
        yield ""
        title = f"**Reasoning: {_inline(step.title)}**" if step.title else "**Reasoning**"
        yield f"> {title}"
        for line in step.content.splitlines():
            yield f"> {line}".rstrip()
    for call in message.tool_calls:
        function = call.get("function") if isinstance(call.get("function"), dict) else call
        name = function.get("name", "?") if isinstance(function, dict) else "?"
        arguments = function.get("arguments", "") if isinstance(function, dict) else ""
        yield ""
        yield f"Tool call `{name}`: `{_inline(str(arguments))}`"
    if message.content:
        yield ""
        yield message.content
    for ref in message.refs:
        yield ""
        yield from _evidence_markdown(ref)


def _evidence_markdown(ref: EvidenceRef) -> Iterator[str]:
    source = ref.source
    about = [f"`{source.id}`"]
    if source.duration:
        about.append(timestamp(source.duration))
    label = f"{_inline(source.name)} " if source.name else ""
    yield f"**Evidence:** {source.kind} {label}({', '.join(about)})"
    for item in ref.items:
        span = timestamp(item.start)
        if item.end is not None and item.end != item.start:
            span += f"-{timestamp(item.end)}"
        text = f" — {_inline(item.text)}" if item.text else ""
        yield f"- {item.kind} {span}{text}"


def _inline(text: str | None) -> str:
    return " ".join((text or "").split())
