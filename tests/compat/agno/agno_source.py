"""A real Agno database written through agno's own `SqliteDb` API (no model calls, no network)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from agno.db.schemas.memory import UserMemory
from agno.db.sqlite import SqliteDb
from agno.metrics import MessageMetrics, RunMetrics, SessionMetrics, ToolCallMetrics
from agno.models.message import Message
from agno.models.response import ToolExecution
from agno.reasoning.step import ReasoningStep
from agno.run.agent import RunInput, RunOutput
from agno.run.base import RunStatus
from agno.run.team import TeamRunInput, TeamRunOutput
from agno.run.workflow import WorkflowRunOutput
from agno.session.agent import AgentSession
from agno.session.summary import SessionSummary
from agno.session.team import TeamSession
from agno.session.workflow import WorkflowSession

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


# --- agent, team and workflow sessions with tools, reasoning and member runs ---------------------

VARIED_T0 = 1_757_100_000
SUMMARY_WITH_OFFSET = "2025-09-05T18:02:12.269392+02:00"


def _tool_run(created: int) -> RunOutput:
    """An agent run that called a tool and reasoned, as `Agent.run` stores it."""
    call = {
        "id": "call_weather_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
    }
    return RunOutput(
        run_id="run-tools",
        agent_id="weather-agent",
        session_id="ag-tools",
        user_id="u1",
        content="It is sunny in Paris.",
        content_type="str",
        status=RunStatus.completed,
        input=RunInput(input_content="Weather in Paris?"),
        reasoning_content="The user wants the weather; call the tool.",
        reasoning_steps=[
            ReasoningStep(title="Understand", reasoning="Wants the weather", action="call a tool")
        ],
        tools=[
            ToolExecution(
                tool_call_id="call_weather_1",
                tool_name="get_weather",
                tool_args={"city": "Paris"},
                tool_call_error=False,
                result="sunny",
                metrics=ToolCallMetrics(duration=0.25),
                created_at=created,
            )
        ],
        messages=[
            Message(id="t-u", role="user", content="Weather in Paris?", created_at=created),
            Message(id="t-a1", role="assistant", tool_calls=[call], created_at=created),
            Message(
                id="t-t",
                role="tool",
                content="sunny",
                tool_call_id="call_weather_1",
                tool_name="get_weather",
                tool_args={"city": "Paris"},
                tool_call_error=False,
                created_at=created,
            ),
            Message(
                id="t-a2", role="assistant", content="It is sunny in Paris.", created_at=created
            ),
        ],
        metrics=RunMetrics(input_tokens=50, output_tokens=10, total_tokens=60),
        created_at=created,
    )


def _team_runs(created: int) -> tuple[TeamRunOutput, RunOutput]:
    """A team leader's run that delegated to a member, and the member's own run."""
    member = RunOutput(
        run_id="run-member",
        agent_id="researcher",
        session_id="tm-1",
        user_id="u1",
        parent_run_id="run-leader",
        content="Three sources agree.",
        content_type="str",
        status=RunStatus.completed,
        input=RunInput(input_content="Check the sources"),
        messages=[
            Message(id="mb-u", role="user", content="Check the sources", created_at=created),
            Message(
                id="mb-a", role="assistant", content="Three sources agree.", created_at=created
            ),
        ],
        created_at=created + 1,
    )
    leader = TeamRunOutput(
        run_id="run-leader",
        team_id="claims-team",
        session_id="tm-1",
        user_id="u1",
        content="The claim holds.",
        content_type="str",
        status=RunStatus.completed,
        input=TeamRunInput(input_content="Is the claim true?"),
        messages=[
            Message(id="ld-u", role="user", content="Is the claim true?", created_at=created),
            Message(id="ld-a", role="assistant", content="The claim holds.", created_at=created),
        ],
        created_at=created,
    )
    return leader, member


def _workflow_run(created: int) -> WorkflowRunOutput:
    return WorkflowRunOutput(
        run_id="run-flow",
        workflow_id="pipeline",
        session_id="wf-1",
        user_id="u1",
        input={"topic": "tides"},
        content="A report on tides.",
        content_type="str",
        status=RunStatus.completed,
        created_at=created,
    )


def fill_varied(db: Any) -> None:
    """An agent session with a tool call, reasoning and a summary written with a UTC offset; a
    team session with a member run; a workflow session named by nobody; an empty agent session."""
    t = VARIED_T0
    db.upsert_session(
        AgentSession(
            session_id="ag-tools",
            agent_id="weather-agent",
            user_id="u1",
            session_data={
                "session_state": {},
                "session_metrics": SessionMetrics(
                    input_tokens=50, output_tokens=10, total_tokens=60
                ).to_dict(),
            },
            agent_data={
                "name": "Weather Agent",
                "agent_id": "weather-agent",
                "model": {"provider": "OpenAI", "name": "OpenAIChat", "id": "gpt-4o"},
            },
            summary=SessionSummary(
                summary="weather talk",
                topics=["weather"],
                updated_at=datetime.fromisoformat(SUMMARY_WITH_OFFSET),
            ),
            created_at=t,
            updated_at=t + 5,
        )
    )
    db.upsert_run(_tool_run(t), session_id="ag-tools", user_id="u1", run_index=0)
    db.upsert_session(
        TeamSession(
            session_id="tm-1",
            team_id="claims-team",
            user_id="u1",
            team_data={
                "name": "Research Team",
                "team_id": "claims-team",
                "model": {"provider": "Anthropic", "name": "Claude", "id": "claude-sonnet"},
            },
            session_data={"session_name": "Claim check"},
            created_at=t + 100,
            updated_at=t + 105,
        )
    )
    leader, member = _team_runs(t + 100)
    db.upsert_run(leader, session_id="tm-1", user_id="u1", run_index=0)
    db.upsert_run(member, session_id="tm-1", user_id="u1", run_index=1)
    db.upsert_session(
        WorkflowSession(
            session_id="wf-1",
            workflow_id="pipeline",
            user_id="u1",
            workflow_data={"name": "Pipeline", "workflow_id": "pipeline"},
            session_data={"session_state": {"stage": "done"}},
            created_at=t + 200,
            updated_at=t + 205,
        )
    )
    db.upsert_run(_workflow_run(t + 200), session_id="wf-1", user_id="u1", run_index=0)
    db.upsert_session(
        AgentSession(
            session_id="ag-empty", agent_id="weather-agent", user_id="u2", created_at=t + 300
        )
    )
