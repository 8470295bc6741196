"""A session as text for people: header, then each message with its reasoning steps and evidence.

Pure functions from domain values to lines, so the rendering is tested without a terminal.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

from convostore.cli.common import format_time
from convostore.models import EvidenceRef, Message, Session

WIDTH = 100


def timestamp(seconds: float) -> str:
    """Seconds into a video as `m:ss` or `h:mm:ss`."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def tokens(metrics: dict[str, int | float]) -> str:
    total = metrics.get("total_tokens")
    return f"{int(total):,} tokens" if total else ""


def session_header(session: Session) -> Iterator[str]:
    yield f"Session {session.id}"
    if session.title:
        yield f"  title      {_cut(session.title, WIDTH - 13)}"
    kind = session.type + (f" {session.component_id}" if session.component_id else "")
    yield f"  user       {session.user_id}"
    yield f"  kind       {kind}"
    counts = f"{session.message_count} messages, {session.run_count} runs"
    if session.metrics.get("total_tokens"):
        counts += f", {tokens(session.metrics)}"
    yield f"  size       {counts}"
    yield f"  created    {format_time(session.created_at)} UTC"
    yield f"  updated    {format_time(session.updated_at)} UTC"
    if session.summary is not None:
        topics = f" [{', '.join(session.summary.topics)}]" if session.summary.topics else ""
        yield from _wrapped(f"summary{topics}: {session.summary.text}", "  ")


def message_lines(message: Message) -> Iterator[str]:
    details = [format_time(message.created_at, seconds=True)]
    if message.metrics.get("total_tokens"):
        details.append(tokens(message.metrics))
    yield f"--- #{message.seq} {message.role} · {' · '.join(details)}"
    for step in message.thinkings:
        title = f"{step.title}: " if step.title else ""
        yield from _wrapped(f"[reasoning] {title}{step.content}", "  ")
    for call in message.tool_calls:
        function = call.get("function") if isinstance(call.get("function"), dict) else call
        name = function.get("name", "?") if isinstance(function, dict) else "?"
        arguments = function.get("arguments", "") if isinstance(function, dict) else ""
        yield from _wrapped(f"[tool call] {name}({_cut(str(arguments), 200)})", "  ")
    if message.content:
        for paragraph in message.content.splitlines() or [""]:
            yield from _wrapped(paragraph, "", hang="") if paragraph.strip() else [""]
    for ref in message.refs:
        yield from _evidence(ref)


def _evidence(ref: EvidenceRef) -> Iterator[str]:
    source = ref.source
    label = source.name or source.id
    extra = [source.id] if source.name else []
    if source.duration:
        extra.append(timestamp(source.duration))
    yield f"  [evidence] {source.kind} {label}" + (f" ({', '.join(extra)})" if extra else "")
    for item in ref.items:
        span = timestamp(item.start)
        if item.end is not None and item.end != item.start:
            span += f"-{timestamp(item.end)}"
        text = f"  {_cut(item.text, 70)}" if item.text else ""
        yield f"    {item.kind:<10} {span:<11}{text}".rstrip()


def _wrapped(text: str, indent: str, *, hang: str = "  ") -> list[str]:
    lines = textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent + hang)
    return lines or [indent]


def _cut(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
