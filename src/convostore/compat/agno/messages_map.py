"""Agno message dicts (`Message.to_dict`) to and from convostore messages.

A message keeps its role, text, reasoning, tool calls, metrics and `from_history` in convostore's
own columns; every Agno-only key (`stop_after_tool_call`, `name`, `tool_call_id`, media, ...) is
kept in `extra` so the dict comes back as it was sent. Non-text content (None, multimodal lists)
is kept in `extra["content"]`.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from operator import itemgetter

from convostore.compat.agno.wire import epoch, from_epoch, split_metrics
from convostore.models import JSONObject, Message, NewMessage, Role, Thinking

_ROLES: dict[str, Role] = {
    "system": "system",
    "developer": "system",
    "user": "user",
    "assistant": "assistant",
    "model": "assistant",
    "tool": "tool",
}
# Message.to_dict's key order; keys after `checkpoint_created_at` follow the media block.
_HEAD = (
    "id",
    "content",
    "reasoning_content",
    "from_history",
    "compressed_content",
    "stop_after_tool_call",
    "role",
    "name",
    "tool_call_id",
    "tool_name",
    "tool_args",
    "tool_call_error",
    "tool_calls",
    "redacted_reasoning_content",
    "provider_data",
    "checkpoint_status",
    "checkpoint_created_at",
)
_TAIL = ("images", "audio", "videos", "files", "audio_output", "references")
_RANK = {key: rank for rank, key in enumerate(_HEAD + _TAIL)}
_UNRANKED = len(_RANK)
_LAST_KEYS = frozenset({"metrics", "created_at"})  # written last, from their own sources
_OWN = frozenset(
    {"id", "role", "content", "reasoning_content", "tool_calls", "metrics", "from_history"}
    | {"created_at"}
)


def from_agno_message(data: JSONObject, *, run_id: str | None = None) -> NewMessage:
    """An Agno message dict as a message to store."""
    raw_role = str(data.get("role") or "user")
    role = _ROLES.get(raw_role, "user")
    extra: JSONObject = {k: v for k, v in data.items() if k not in _OWN}
    if raw_role != role:
        extra["role"] = raw_role
    content = data.get("content")
    if not isinstance(content, str):
        extra["content"] = content
        content = ""
    numbers, rest = split_metrics(data.get("metrics"))
    if rest:
        extra["metrics"] = rest
    reasoning = data.get("reasoning_content")
    thinkings = [Thinking(content=reasoning)] if isinstance(reasoning, str) and reasoning else []
    tool_calls = data.get("tool_calls")
    return NewMessage(
        id=str(data["id"]) if data.get("id") else None,
        run_id=run_id,
        role=role,
        content=content,
        thinkings=thinkings,
        tool_calls=list(tool_calls) if isinstance(tool_calls, list) else [],
        metrics=numbers,
        from_history=bool(data.get("from_history", False)),
        extra=extra,
        created_at=from_epoch(data.get("created_at")),
    )


def to_agno_message(message: Message) -> JSONObject:
    """A stored message in `Message.to_dict` form: nulls and empty collections left out (but
    never the two flags), keys in `_HEAD` then `_TAIL` order, Agno's other keys after them."""
    extra = message.extra
    if not extra:
        return _plain_message(message)
    values: JSONObject = dict(extra)
    values["id"] = message.id
    values["content"] = extra.get("content", message.content)
    values["role"] = extra.get("role", message.role)
    values["from_history"] = message.from_history
    values["stop_after_tool_call"] = bool(extra.get("stop_after_tool_call", False))
    if message.thinkings:
        values["reasoning_content"] = "\n\n".join(t.content for t in message.thinkings)
    values["tool_calls"] = message.tool_calls or None
    kept = []
    for key, value in values.items():  # one pass: a page of runs maps many messages
        if key in _LAST_KEYS or value is None:
            continue
        if not value and isinstance(value, list | dict):
            continue
        kept.append((_RANK.get(key, _UNRANKED), key, value))
    kept.sort(key=itemgetter(0))  # stable: Agno's other keys keep their order
    body: JSONObject = {key: value for _, key, value in kept}
    metrics = {k: v for k, v in message.metrics.items() if v}
    metrics.update(extra.get("metrics") or {})
    if metrics:
        body["metrics"] = metrics
    body["created_at"] = epoch(message.created_at)
    return body


def _plain_message(message: Message) -> JSONObject:
    """`to_agno_message` of a message with no Agno keys kept (one written by another surface):
    the same body, built directly."""
    body: JSONObject = {"id": message.id, "content": message.content}
    if message.thinkings:
        body["reasoning_content"] = "\n\n".join(t.content for t in message.thinkings)
    body["from_history"] = message.from_history
    body["stop_after_tool_call"] = False
    body["role"] = message.role
    if message.tool_calls:
        body["tool_calls"] = message.tool_calls
    metrics = {k: v for k, v in message.metrics.items() if v}
    if metrics:
        body["metrics"] = metrics
    body["created_at"] = epoch(message.created_at)
    return body


def chat_history(messages: Iterable[Message], member_runs: AbstractSet[str]) -> list[JSONObject]:
    """User and assistant messages, not replayed from history, outside team members' runs."""
    return [
        to_agno_message(m)
        for m in messages
        if m.role in ("user", "assistant")
        and not m.from_history
        and (m.run_id is None or m.run_id not in member_runs)
    ]
