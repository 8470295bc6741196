"""The demo data is deterministic and every derived field agrees with the rules of the store."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from convostore.config import Limits
from convostore.demo import DEFAULT_SESSIONS, USERS, build_demo
from convostore.demo_scripts import demo_scripts, scripts_from_json
from convostore.models import NewMessage
from convostore.rules import derive_title, sum_metrics
from convostore.storage.base import SessionBundle

NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
SCRIPTS = demo_scripts()
EXPLICIT_TITLES = {chat.title for chat in (*SCRIPTS.agent_chats, *SCRIPTS.team_chats) if chat.title}


def test_same_inputs_give_the_same_data() -> None:
    first = build_demo(now=NOW)
    again = build_demo(now=NOW)
    assert [b.session.model_dump() for b in first.bundles] == [
        b.session.model_dump() for b in again.bundles
    ]
    assert [m.model_dump() for b in first.bundles for m in b.messages] == [
        m.model_dump() for b in again.bundles for m in b.messages
    ]


def test_ids_do_not_depend_on_the_day_it_runs() -> None:
    today = build_demo(now=NOW)
    later = build_demo(now=NOW + timedelta(days=40))
    assert [b.session.id for b in today.bundles] == [b.session.id for b in later.bundles]
    assert [m.id for m in today.memories] == [m.id for m in later.memories]
    # a smaller demo is a prefix of a bigger one, so loading more later only adds
    small = build_demo(now=NOW, sessions=5)
    assert [b.session.id for b in small.bundles] == [b.session.id for b in today.bundles[:5]]


def test_the_default_demo_covers_every_kind_of_session_and_user() -> None:
    data = build_demo(now=NOW)
    sessions = [b.session for b in data.bundles]
    assert len(sessions) == DEFAULT_SESSIONS
    assert len({s.id for s in sessions}) == len(sessions)
    assert all(s.id.isdigit() and len(s.id) == 18 for s in sessions)
    assert sorted(sessions, key=lambda s: int(s.id)) == sessions  # time-ordered ids
    assert {s.type for s in sessions} == {"agent", "team", "workflow"}
    assert Counter(s.component_id for s in sessions)["video-chat"] >= 15
    assert {s.user_id for s in sessions} == set(USERS)
    assert {m.user_id for m in data.memories} == set(USERS)
    assert len({len(b.messages) for b in data.bundles}) >= 5  # varied lengths


def test_the_default_demo_keeps_its_size() -> None:
    """What the server log reports when it loads the demo; a change here changes every demo."""
    data = build_demo(now=NOW)
    assert len(data.bundles) == 36
    assert sum(len(b.messages) for b in data.bundles) == 149
    assert sum(len(b.runs) for b in data.bundles) == 31
    assert len(data.memories) == 14


def test_the_scripts_refuse_keys_they_do_not_know() -> None:
    """A typo in `demo_content.json` fails loudly instead of dropping the text."""
    memory = {"user": "alice", "memory": "likes tea", "topics": [], "agent": "basic-agent"}
    empty = {k: [] for k in ("components", "video_chats", "agent_chats", "team_chats")}
    with pytest.raises(TypeError, match="agent"):
        scripts_from_json({**empty, "workflow_chats": [], "memories": [memory]})


def test_video_chats_carry_reasoning_and_timed_evidence() -> None:
    data = build_demo(now=NOW)
    answers = [
        m
        for b in data.bundles
        if b.session.component_id == "video-chat"
        for m in b.messages
        if m.role == "assistant"
    ]
    assert answers and all(m.thinkings and m.refs for m in answers)
    kinds = {item.kind for m in answers for ref in m.refs for item in ref.items}
    assert {"keyframe", "visual_ts", "audio_ts"} <= kinds
    for ref in (r for m in answers for r in m.refs):
        assert ref.source.kind == "video" and ref.source.id.startswith("VI")
        assert ref.source.duration is not None
        for item in ref.items:
            assert 0 <= item.start <= ref.source.duration
            assert item.end is None or item.start <= item.end <= ref.source.duration


def test_agent_team_and_workflow_sessions_look_like_agno() -> None:
    data = build_demo(now=NOW)
    by_type = {b.session.type: b for b in reversed(data.bundles)}
    team = by_type["team"]
    assert team.session.component_data is not None
    assert team.session.component_data["team_id"] == team.session.component_id
    members = [r for r in team.runs if r.parent_run_id is not None]
    assert members and all(r.parent_run_id in {x.id for x in team.runs} for r in members)
    agent = next(b for b in data.bundles if b.session.component_id == "basic-agent")
    assert agent.session.component_data == {
        "name": "Basic Agent",
        "agent_id": "basic-agent",
        "model": {"provider": "OpenAI", "name": "OpenAIChat", "id": "gpt-4o"},
    }
    assert any(b.session.summary and b.session.summary.topics for b in data.bundles)
    assert any(b.session.state for b in data.bundles)
    assert any(m.tool_calls for b in data.bundles for m in b.messages)


def test_every_derived_field_is_consistent() -> None:
    for bundle in build_demo(now=NOW).bundles:
        _check_consistent(bundle)


def _check_consistent(bundle: SessionBundle) -> None:
    session, messages, runs = bundle.session, bundle.messages, bundle.runs
    assert session.message_count == len(messages) > 0
    assert [m.seq for m in messages] == list(range(1, len(messages) + 1))
    assert all(m.session_id == session.id for m in messages)
    assert session.run_count == len(runs)
    assert [r.index for r in runs] == list(range(len(runs)))
    assert all(r.user_id == session.user_id for r in runs)
    run_ids = {r.id for r in runs}
    assert {m.run_id for m in messages if m.run_id is not None} <= run_ids
    for run in runs:
        own = [m.metrics for m in messages if m.run_id == run.id]
        assert sum_metrics([run.metrics]) == sum_metrics(own)
    if runs:
        expected = sum_metrics(r.metrics for r in runs)
    else:
        expected = sum_metrics(m.metrics for m in messages)
    assert session.metrics == expected and session.metrics["total_tokens"] > 0
    derived = derive_title(
        (NewMessage(role=m.role, content=m.content) for m in messages), Limits().max_title_chars
    )
    assert session.title == derived or session.title in EXPLICIT_TITLES
    times = [m.created_at for m in messages]
    assert times == sorted(times)
    assert session.created_at <= times[0]
    assert session.last_message_at == times[-1]
    assert session.updated_at >= times[-1]
    assert NOW - timedelta(days=30) < session.created_at and session.updated_at <= NOW
