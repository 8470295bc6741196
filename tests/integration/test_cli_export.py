"""`convostore export jsonl|markdown` against real databases (SQLite file and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from convostore.cli.main import cli
from convostore.models import (
    EvidenceItem,
    EvidenceRef,
    EvidenceSource,
    MessageQuery,
    NewMessage,
    NewRun,
    NewSession,
    Principal,
    Thinking,
)
from convostore.service import SessionService
from convostore.storage import open_store


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def assert_one_line_error(result: Result, fragment: str) -> None:
    assert result.exit_code == 1, result.output
    assert fragment in result.stderr and "Traceback" not in result.output
    assert result.stderr.strip().count("\n") == 0, result.stderr


@pytest.fixture
def video_chat(database_url: str) -> str:
    """One session with reasoning steps, evidence and a run, written through the service."""
    store = open_store(database_url)
    try:
        service = SessionService(store)
        principal = Principal(tenant_id="default", role="admin")
        service.create_session(
            principal, NewSession(id="chat", user_id="alice", title="Cooking questions")
        )
        service.append_messages(
            principal, "chat", [NewMessage(role="user", content="When is the pan hot?")]
        )
        answer = NewMessage(
            role="assistant",
            content="Right after the oil shimmers.",
            thinkings=[
                Thinking(title="Look at the frames", content="The oil moves at 0:30."),
                Thinking(title="Check the audio", content="Sizzling starts later."),
            ],
            refs=[
                EvidenceRef(
                    source=EvidenceSource(id="vid-1", name="Pan video", duration=754),
                    items=[
                        EvidenceItem(kind="keyframe", start=30, text="oil shimmers"),
                        EvidenceItem(kind="audio_ts", start=100, end=125, text="sizzle"),
                    ],
                )
            ],
            metrics={"total_tokens": 42},
        )
        service.record_run(principal, "chat", NewRun(input="When?", messages=[answer]))
    finally:
        store.close()
    return database_url


def _stored_messages(database_url: str, session_id: str) -> list[Any]:
    store = open_store(database_url)
    try:
        page = store.list_messages("default", session_id, MessageQuery(limit=1000))
        assert page is not None and not page.has_more
        return page.items
    finally:
        store.close()


def test_jsonl_round_trips_every_message_in_order(database_url: str, tmp_path: Path) -> None:
    assert run("demo", "--database", database_url).exit_code == 0
    out = tmp_path / "all.jsonl"
    result = run("export", "jsonl", "--database", database_url, "--output", str(out))
    assert result.exit_code == 0, result.output
    assert "Exporting sessions" in result.stderr and result.stdout == ""  # progress on stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    documents = [json.loads(line) for line in lines]
    assert len(documents) == 36 and len({d["id"] for d in documents}) == 36
    created = [d["created_at"] for d in documents]
    assert created == sorted(created)
    for document in documents:
        assert document["object"] == "session" and document["created_at"].endswith("Z")
        assert len(document["messages"]) == document["message_count"]
        assert len(document["runs"]) == document["run_count"]
        stored = _stored_messages(database_url, document["id"])
        assert [m["seq"] for m in document["messages"]] == [m.seq for m in stored]
        for exported, message in zip(document["messages"], stored, strict=True):
            assert exported["id"] == message.id and exported["content"] == message.content
            assert exported["refs"] == [r.model_dump(mode="json") for r in message.refs]
            assert exported["thinkings"] == [t.model_dump(mode="json") for t in message.thinkings]
    assert any(m["refs"] for d in documents for m in d["messages"])


def test_jsonl_of_chosen_sessions_to_stdout(video_chat: str) -> None:
    result = run("export", "jsonl", "--database", video_chat, "--session-id", "chat")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""  # too few sessions for a progress bar
    (line,) = result.stdout.splitlines()
    document = json.loads(line)
    assert document["id"] == "chat" and document["user_id"] == "alice"
    assert [m["role"] for m in document["messages"]] == ["user", "assistant"]
    assert document["messages"][1]["refs"][0]["items"][1]["end"] == 125
    (run_doc,) = document["runs"]
    assert run_doc["input"] == "When?" and document["messages"][1]["run_id"] == run_doc["id"]

    other = run("export", "jsonl", "--database", video_chat, "--user-id", "bob")
    assert other.exit_code == 0 and other.stdout == ""


def test_markdown_transcript(video_chat: str, tmp_path: Path) -> None:
    out = tmp_path / "chat.md"
    result = run(
        "export", "markdown", "--session-id", "chat", "--database", video_chat, "-o", str(out)
    )
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Cooking questions\n")
    assert "## #1 user" in text and "## #2 assistant" in text and "42 tokens" in text
    assert "**Reasoning: Look at the frames**" in text
    assert "**Reasoning: Check the audio**" in text
    assert text.index("Look at the frames") < text.index("Right after the oil shimmers.")
    assert "**Evidence:** video Pan video (`vid-1`, 12:34)" in text
    assert "- keyframe 0:30 — oil shimmers" in text
    assert "- audio_ts 1:40-2:05 — sizzle" in text

    to_stdout = run("export", "markdown", "--session-id", "chat", "--database", video_chat)
    assert to_stdout.exit_code == 0 and to_stdout.stdout == text


def test_unknown_session_is_a_one_line_error(video_chat: str, tmp_path: Path) -> None:
    out = tmp_path / "never.jsonl"
    chosen = ("--session-id", "chat", "--session-id", "nope")
    result = run("export", "jsonl", "--database", video_chat, *chosen, "--output", str(out))
    assert_one_line_error(result, "session 'nope' not found")
    assert not out.exists()  # nothing half-written
    result = run("export", "markdown", "--session-id", "nope", "--database", video_chat)
    assert_one_line_error(result, "session 'nope' not found")
    missing = run("export", "markdown", "--database", video_chat)
    assert missing.exit_code == 2 and "--session-id" in missing.stderr
