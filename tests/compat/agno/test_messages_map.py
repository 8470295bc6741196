"""`to_agno_message` against the rule it implements, written out plainly, for any Agno keys."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from convostore.compat.agno.messages_map import _HEAD, _TAIL, to_agno_message
from convostore.compat.agno.wire import epoch
from convostore.models import Message, Thinking

FLAGS = ("from_history", "stop_after_tool_call")


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, list | dict) and not value)


def expected(message: Message) -> dict[str, Any]:
    """Agno's `Message.to_dict`: its own keys in its order, then the media block, then any other
    key Agno sent, all without nulls or empty collections (the two flags always stay); metrics
    and the epoch timestamp last."""
    extra = message.extra
    values = dict(extra)
    values["id"] = message.id
    values["content"] = extra.get("content", message.content)
    values["role"] = extra.get("role", message.role)
    values["from_history"] = message.from_history
    values["stop_after_tool_call"] = bool(extra.get("stop_after_tool_call", False))
    if message.thinkings:
        values["reasoning_content"] = "\n\n".join(t.content for t in message.thinkings)
    values["tool_calls"] = message.tool_calls or None
    body = {}
    for key in _HEAD:
        if key in values and (key in FLAGS or not _empty(values[key])):
            body[key] = values[key]
    for key in _TAIL:
        if key in values and not _empty(values[key]):
            body[key] = values[key]
    for key, value in values.items():
        skip = key in body or key in _HEAD or key in ("metrics", "created_at")
        if not skip and not _empty(value):
            body[key] = value
    metrics = {k: v for k, v in message.metrics.items() if v}
    metrics.update(extra.get("metrics") or {})
    if metrics:
        body["metrics"] = metrics
    body["created_at"] = epoch(message.created_at)
    return body


keys = st.sampled_from([*_HEAD, *_TAIL, "metrics", "created_at"]) | st.text(min_size=1, max_size=6)
values = st.none() | st.booleans() | st.integers(0, 3) | st.text(max_size=3)
values = (
    values | st.lists(values, max_size=2) | st.dictionaries(st.text(max_size=2), values, max_size=2)
)
messages = st.builds(
    Message,
    session_id=st.just("s"),
    seq=st.integers(1, 100),
    id=st.text(min_size=1, max_size=5),
    role=st.sampled_from(["user", "assistant", "tool", "system"]),
    content=st.text(max_size=5),
    thinkings=st.lists(st.builds(Thinking, content=st.text(max_size=5)), max_size=2),
    tool_calls=st.lists(
        st.dictionaries(st.text(max_size=2), st.integers(), max_size=2), max_size=2
    ),
    metrics=st.dictionaries(st.sampled_from(["input_tokens", "total_tokens"]), st.integers(0, 9)),
    from_history=st.booleans(),
    extra=st.dictionaries(keys, values, max_size=6).filter(
        lambda x: isinstance(x.get("metrics", {}), dict)  # as the Agno import keeps them
    ),
    created_at=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
)


@given(messages)
def test_keys_values_and_their_order_follow_agno(message: Message) -> None:
    body = to_agno_message(message)
    reference = expected(message)
    assert body == reference
    assert list(body) == list(reference)
