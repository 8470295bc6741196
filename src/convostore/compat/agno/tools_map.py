"""A run's `tools` (Agno's `ToolExecution.to_dict` list) built from the run's messages.

Agno stores the tools a run executed beside its messages, and that list is sent back as it was.
A run recorded through another surface has only the messages: the assistant's `tool_calls`
(OpenAI's `{id, type, function: {name, arguments}}`, or a flat `{id, name, arguments}`) and the
`tool` messages answering them (matched by `tool_call_id`). Those are paired here into the same
shape, so Agno clients (Agent UI's tool chips) see the calls either way.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from convostore.compat.agno.wire import epoch
from convostore.models import JSONObject, Message

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


@dataclass
class _Waiting:
    body: JSONObject
    answered: bool = False
    size: int = 0


class ToolPairing:
    """Pairs tool calls with the `tool` messages answering them, fed a run's messages in order
    (in as many pieces as it takes), and hands out each finished execution in call order.

    A call waits for its answer while the answers held behind it stay within `max_bytes`; past
    that it is handed out unanswered (an answer that comes later is listed on its own), so a call
    never answered cannot make the pairing hold a run's every result. Decided message by
    message, so how the messages are cut into pieces changes nothing.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._waiting: deque[_Waiting] = deque()  # in call order
        self._calls: dict[str, _Waiting] = {}  # the unanswered ones, by call id
        self._held = 0  # bytes of the answered results still waiting

    def feed(self, messages: Iterable[Message]) -> list[JSONObject]:
        """The executions these messages finish (or give up on), in call order."""
        ready: list[JSONObject] = []
        for message in messages:
            if message.role == "assistant":
                for call in message.tool_calls:
                    self._call(call, message)
            elif message.role == "tool":
                self._answer(message)
            else:
                continue
            ready += self._ready()
        return ready

    def finish(self) -> list[JSONObject]:
        """Every execution still waiting (calls never answered stay unanswered)."""
        rest = [w.body for w in self._waiting]
        self._waiting.clear()
        self._calls.clear()
        self._held = 0
        return rest

    def _call(self, call: JSONObject, message: Message) -> None:
        function = call.get("function")
        spec = function if isinstance(function, dict) else call
        call_id = call.get("id") or call.get("tool_call_id")
        waiting = _Waiting(
            _execution(
                tool_call_id=call_id,
                tool_name=spec.get("name") or call.get("tool_name"),
                tool_args=_arguments(spec.get("arguments", call.get("tool_args"))),
                created_at=epoch(message.created_at),
            )
        )
        self._waiting.append(waiting)
        if isinstance(call_id, str):
            self._calls[call_id] = waiting

    def _answer(self, message: Message) -> None:
        call_id = message.extra.get("tool_call_id")
        waiting = self._calls.pop(call_id, None) if isinstance(call_id, str) else None
        if waiting is None:  # an answer to no call waiting here: listed on its own
            waiting = _Waiting(_execution(tool_call_id=call_id))
            self._waiting.append(waiting)
        _result(waiting.body, message)
        waiting.answered = True
        waiting.size = len(waiting.body["result"] or "")
        self._held += waiting.size

    def _ready(self) -> list[JSONObject]:
        ready: list[JSONObject] = []
        while self._waiting:
            head = self._waiting[0]
            if not head.answered and self._held <= self.max_bytes:
                break
            self._waiting.popleft()
            self._held -= head.size
            if not head.answered:
                self._calls.pop(str(head.body["tool_call_id"]), None)
            ready.append(head.body)
        return ready


def tools_from_messages(messages: Sequence[Message], max_bytes: int) -> list[JSONObject]:
    """One `ToolExecution` dict per tool call, in the order the calls were made, each with the
    result of the `tool` message that answered it; an answer without a call is listed too."""
    pairing = ToolPairing(max_bytes)
    return pairing.feed(messages) + pairing.finish()
