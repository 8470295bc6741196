"""A real Agno database written through agno's own `SqliteDb` API (no model calls, no network)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agno.db.schemas.memory import UserMemory
from agno.db.sqlite import SqliteDb
from agno.metrics import MessageMetrics, RunMetrics, SessionMetrics
from agno.models.message import Message
from agno.run.agent import RunInput, RunOutput
from agno.run.base import RunStatus
from agno.session.agent import AgentSession
from agno.session.summary import SessionSummary

T0 = 1_757_088_129
SESSIONS = 3
RUNS_PER_SESSION = 2


def _run(session: int, turn: int) -> RunOutput:
    created = T0 + session * 100 + turn * 10
    question = f"question {session}.{turn}"
    answer = f"answer {session}.{turn}"
    usage = {"input_tokens": 100 + turn, "output_tokens": 20 + turn}
    usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]
    return RunOutput(
        run_id=f"run-{session}-{turn}",
        agent_id="basic-agent",
        session_id=f"sess-{session}",
        user_id="u1",
        content=answer,
        content_type="str",
        status=RunStatus.completed,
        input=RunInput(input_content=question),
        messages=[
            Message(
                id=f"m-{session}-{turn}-s", role="system", content="be brief", created_at=created
            ),
            Message(id=f"m-{session}-{turn}-u", role="user", content=question, created_at=created),
            Message(
                id=f"m-{session}-{turn}-a",
                role="assistant",
                content=answer,
                created_at=created,
                metrics=MessageMetrics(**usage),
            ),
        ],
        metrics=RunMetrics(**usage, duration=0.5),
        created_at=created,
    )


def build_agno_db(path: Path) -> SqliteDb:
    """An Agno SQLite database filled by `fill_agno_db`."""
    db = SqliteDb(db_file=str(path))
    fill_agno_db(db)
    return db


def fill_agno_db(db: Any) -> None:
    """Three agent sessions of two runs each, a summary, state, and four memories of two users,
    written through any of agno's database classes (`SqliteDb`, `PostgresDb`)."""
    for s in range(SESSIONS):
        runs = [_run(s, t) for t in range(RUNS_PER_SESSION)]
        totals = {
            key: sum(getattr(r.metrics, key) for r in runs)
            for key in ("input_tokens", "output_tokens", "total_tokens")
        }
        db.upsert_session(
            AgentSession(
                session_id=f"sess-{s}",
                agent_id="basic-agent",
                user_id="u1",
                session_data={
                    "session_name": "Named" if s == 0 else None,
                    "session_state": {"n": s},
                    "session_metrics": SessionMetrics(**totals).to_dict(),
                },
                agent_data={
                    "name": "Basic Agent",
                    "agent_id": "basic-agent",
                    "model": {"provider": "OpenAI", "name": "OpenAIChat", "id": "gpt-4o"},
                },
                metadata={"source": "test"},
                summary=SessionSummary(summary=f"summary {s}", topics=["t"]) if s == 1 else None,
                created_at=T0 + s * 100,
                updated_at=T0 + s * 100 + 50,
            )
        )
        for index, run in enumerate(runs):
            db.upsert_run(run, session_id=f"sess-{s}", user_id="u1", run_index=index)
    for i in range(4):
        db.upsert_user_memory(
            UserMemory(
                memory_id=f"mem-{i}",
                memory=f"fact {i}",
                topics=["food"] if i % 2 else ["travel", "japan"],
                user_id="u1" if i < 3 else "u2",
                agent_id="basic-agent",
                created_at=T0 + i,
                updated_at=T0 + i,
            )
        )
