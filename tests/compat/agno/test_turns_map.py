"""`turns_map` and `tools_map`: runs implied by run-less messages, and tools from tool calls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from agno.models.response import ToolExecution
from agno.os.schema import RunSchema

from convostore.compat.agno.runs_map import to_agent_run
from convostore.compat.agno.tools_map import tools_from_messages
from convostore.compat.agno.turns_map import implied_runs, merged
from convostore.models import Message, Role, Run, Session, Thinking

T0 = datetime(2025, 9, 5, 16, 2, 9, tzinfo=UTC)
SESSION = Session(
    id="s", user_id="u", type="agent", component_id="video-chat", created_at=T0, updated_at=T0
)
BIG = 10**9


def _message(
    seq: int, role: Role, content: str = "", run_id: str | None = None, **kw: Any
) -> Message:
    return Message(
        session_id="s",
        seq=seq,
        id=f"m{seq}",
        run_id=run_id,
        role=role,
        content=content,
        created_at=T0 + timedelta(seconds=seq),
        **kw,
    )


def test_a_run_per_user_turn_with_the_replies_that_follow() -> None:
    messages = [
        _message(1, "system", "be brief"),
        _message(2, "user", "q1"),
        _message(3, "assistant", "a1", thinkings=[Thinking(title="Look", content="frames")]),
        _message(4, "user", "q2"),
        _message(5, "assistant", "part"),
        _message(6, "assistant", "rest", metrics={"total_tokens": 3}),
        _message(7, "user", "recorded", run_id="r1"),
        _message(8, "assistant", "after a recorded run"),
    ]
    found = list(implied_runs(SESSION, messages, max_messages=BIG, max_bytes=BIG))
    assert [(r.id, [m.seq for m in ms]) for r, ms in found] == [
        ("m1", [1, 2, 3]),  # a leading system message joins the first turn
        ("m4", [4, 5, 6]),
        ("m8", [8]),  # a recorded run's message in between ends a turn
    ]
    first, second, third = (r for r, _ in found)
    assert (first.input, first.content, first.extra["reasoning_content"]) == ("q1", "a1", "frames")
    assert first.extra["reasoning_steps"][0]["title"] == "Look"
    assert (second.content, second.metrics) == ("part\n\nrest", {"total_tokens": 3})
    assert (third.input, third.created_at, third.index) == (None, T0 + timedelta(seconds=8), -1)
    body = to_agent_run(first, found[0][1], SESSION)
    assert RunSchema.model_validate(body).run_input == "q1"
    assert body["agent_id"] == "video-chat" and body["extra_data"]["reasoning_steps"]


def test_a_turn_is_cut_at_a_page_of_messages() -> None:
    messages = [
        _message(1, "user", "go"),
        *(_message(i, "assistant", "x" * 10) for i in range(2, 9)),
    ]
    by_count = list(implied_runs(SESSION, messages, max_messages=3, max_bytes=BIG))
    assert [[m.seq for m in ms] for _, ms in by_count] == [[1, 2, 3], [4, 5, 6], [7, 8]]
    by_bytes = list(implied_runs(SESSION, messages, max_messages=BIG, max_bytes=25))
    assert [[m.seq for m in ms] for _, ms in by_bytes] == [[1, 2, 3, 4], [5, 6, 7], [8]]


def test_merged_by_start_recorded_first_on_a_tie() -> None:
    def run(seq: int, name: str) -> tuple[Run, list[Message]]:
        ((implied, messages),) = implied_runs(
            SESSION, [_message(seq, "user", name)], max_messages=BIG, max_bytes=BIG
        )
        return implied.model_copy(update={"id": name}), messages

    recorded = [run(1, "r1"), run(5, "r5")]
    implied = [run(0, "i0"), run(5, "i5"), run(9, "i9")]
    assert [r.id for r, _ in merged(recorded, implied)] == ["i0", "r1", "r5", "i5", "i9"]


def test_tools_from_calls_and_results_in_agnos_shape() -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}
    flat = {"id": "c2", "name": "g", "arguments": {"b": 2}}
    messages = [
        _message(1, "assistant", tool_calls=[call, flat]),
        _message(2, "tool", "r1", extra={"tool_call_id": "c1", "tool_call_error": True}),
        _message(3, "tool", "orphan", extra={"tool_call_id": "c9", "tool_name": "h"}),
    ]
    tools = tools_from_messages(messages, 10**9)
    at = int(T0.timestamp())
    assert tools == [
        ToolExecution(
            tool_call_id="c1",
            tool_name="f",
            tool_args={"a": 1},
            tool_call_error=True,
            result="r1",
            created_at=at + 2,
        ).to_dict(),
        ToolExecution(
            tool_call_id="c2", tool_name="g", tool_args={"b": 2}, created_at=at + 1
        ).to_dict(),
        ToolExecution(
            tool_call_id="c9",
            tool_name="h",
            tool_call_error=False,
            result="orphan",
            created_at=at + 3,
        ).to_dict(),
    ]
