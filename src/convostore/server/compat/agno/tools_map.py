"""A run's `tools` (Agno's `ToolExecution.to_dict` list) built from the run's messages.

Agno stores the tools a run executed beside its messages, and that list is sent back as it was.
A run recorded through another surface has only the messages: the assistant's `tool_calls`
(OpenAI's `{id, type, function: {name, arguments}}`, or a flat `{id, name, arguments}`) and the
`tool` messages answering them (matched by `tool_call_id`). Those are paired here into the same
shape, so Agno clients (Agent UI's tool chips) see the calls either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from convostore.models import JSONObject, Message
from convostore.server.compat.agno.wire import epoch

# `ToolExecution.to_dict`'s keys, in its order; those not derived from messages stay null.
_KEYS = (
    "tool_call_id",
    "tool_name",
    "tool_args",
    "tool_call_error",
    "result",
    "metrics",
    "child_run_id",
    "stop_after_tool_call",
    "created_at",
    "requires_confirmation",
    "confirmed",
    "confirmation_note",
    "requires_user_input",
    "user_input_schema",
    "user_feedback_schema",
    "answered",
    "external_execution_required",
    "external_execution_silent",
    "approval_type",
    "approval_id",
    "parent_tool_call_id",
)
_TOOL_METRICS = ("start_time", "end_time", "duration")


def _arguments(raw: Any) -> JSONObject | None:
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str) and raw:
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
        return parsed if isinstance(parsed, dict) else None
    return None


def _execution(**values: Any) -> JSONObject:
    body: JSONObject = dict.fromkeys(_KEYS)
    body["stop_after_tool_call"] = False
    body.update(values)
    return body


def _result(body: JSONObject, answer: Message) -> None:
    """Fill in what the `tool` message answering a call says about it."""
    extra = answer.extra
    content = extra.get("content", answer.content)
    body["result"] = content if isinstance(content, str) or content is None else str(content)
    body["tool_call_error"] = bool(extra.get("tool_call_error", False))
    body["stop_after_tool_call"] = bool(extra.get("stop_after_tool_call", False))
    timing = {**answer.metrics, **(extra.get("metrics") or {})}
    metrics = {k: timing[k] for k in _TOOL_METRICS if timing.get(k)}
    body["metrics"] = metrics or None
    body["created_at"] = epoch(answer.created_at)
    if body["tool_name"] is None and isinstance(extra.get("tool_name"), str):
        body["tool_name"] = extra["tool_name"]
    if body["tool_args"] is None:
        body["tool_args"] = _arguments(extra.get("tool_args"))


def tools_from_messages(messages: Sequence[Message]) -> list[JSONObject]:
    """One `ToolExecution` dict per tool call, in the order the calls were made, each with the
    result of the `tool` message that answered it; an answer without a call is listed too."""
    calls: dict[str, JSONObject] = {}
    out: list[JSONObject] = []
    for message in messages:
        if message.role == "assistant":
            for call in message.tool_calls:
                function = call.get("function")
                spec = function if isinstance(function, dict) else call
                call_id = call.get("id") or call.get("tool_call_id")
                body = _execution(
                    tool_call_id=call_id,
                    tool_name=spec.get("name") or call.get("tool_name"),
                    tool_args=_arguments(spec.get("arguments", call.get("tool_args"))),
                    created_at=epoch(message.created_at),
                )
                out.append(body)
                if isinstance(call_id, str):
                    calls[call_id] = body
        elif message.role == "tool":
            call_id = message.extra.get("tool_call_id")
            answered = calls.pop(call_id, None) if isinstance(call_id, str) else None
            if answered is None:
                answered = _execution(tool_call_id=call_id)
                out.append(answered)
            _result(answered, message)
    return out
