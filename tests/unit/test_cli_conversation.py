"""How the CLI writes a conversation for people."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from convostore.cli.conversation import message_lines, timestamp
from convostore.models import EvidenceItem, EvidenceRef, EvidenceSource, Message, Thinking


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0:00"), (5, "0:05"), (245, "4:05"), (3725.4, "1:02:05")]
)
def test_video_timestamps(seconds: float, text: str) -> None:
    assert timestamp(seconds) == text


def test_a_message_shows_role_reasoning_tool_calls_and_evidence() -> None:
    message = Message(
        session_id="1",
        seq=3,
        id="m3",
        role="assistant",
        content="First line.\n\nSecond paragraph.",
        thinkings=[Thinking(title="Information Retrieval", content="Search the clip.")],
        tool_calls=[{"function": {"name": "search", "arguments": '{"q": "deer"}'}}],
        refs=[
            EvidenceRef(
                source=EvidenceSource(id="VI9", name="trailcam", duration=1800),
                items=[
                    EvidenceItem(kind="keyframe", start=560),
                    EvidenceItem(kind="visual_ts", start=558, end=600, text="A deer."),
                ],
            )
        ],
        metrics={"total_tokens": 1234},
        created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    assert list(message_lines(message)) == [
        "--- #3 assistant · 2026-01-02 03:04:05 · 1,234 tokens",
        "  [reasoning] Information Retrieval: Search the clip.",
        '  [tool call] search({"q": "deer"})',
        "First line.",
        "",
        "Second paragraph.",
        "  [evidence] video trailcam (VI9, 30:00)",
        "    keyframe   9:20",
        "    visual_ts  9:18-10:00   A deer.",
    ]
