"""`convostore import agno`: a database written by agno's own SqliteDb API imports completely."""

from __future__ import annotations

import json
import math
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from agno.db.postgres import PostgresDb
from click.testing import CliRunner
from fastapi.testclient import TestClient

from convostore.cli.main import cli
from convostore.storage import SqlStore
from tests.compat.agno.agno_source import RUNS_PER_SESSION, SESSIONS, build_agno_db, fill_agno_db


def _import(source: Path | str, database_url: str, *extra: str) -> dict[str, int]:
    url = source if isinstance(source, str) else f"sqlite:///{source}"
    result = CliRunner().invoke(
        cli, ["import", "agno", url, "--database", database_url, "--json", *extra]
    )
    assert result.exit_code == 0, result.output
    report: dict[str, int] = json.loads(result.output)
    return report


def test_import_is_complete_and_idempotent(
    tmp_path: Path, database_url: str, store: SqlStore, client: TestClient
) -> None:
    source = tmp_path / "agno.db"
    build_agno_db(source)
    report = _import(source, database_url)
    assert report["sessions_imported"] == SESSIONS
    assert report["runs"] == SESSIONS * RUNS_PER_SESSION
    assert report["messages"] == SESSIONS * RUNS_PER_SESSION * 3
    assert (report["memories_seen"], report["memories_imported"]) == (4, 4)

    again = _import(source, database_url)
    assert (again["sessions_imported"], again["memories_imported"], again["runs"]) == (0, 0, 0)

    sessions = client.get("/sessions?sort_order=asc").json()
    assert sessions["meta"]["total_count"] == SESSIONS
    first, second = sessions["data"][0], sessions["data"][1]
    assert first["session_name"] == "Named"
    assert second["session_name"] == "question 1.0"  # derived from the first user message
    assert second["session_summary"] == {"summary": "summary 1", "topics": ["t"]}
    assert first["metrics"] == {"input_tokens": 201, "output_tokens": 41, "total_tokens": 242}
    assert first["created_at"] == "2025-09-05T16:02:09Z"

    detail = client.get("/sessions/sess-0").json()
    assert detail["agent_data"]["name"] == "Basic Agent"
    assert detail["session_state"] == {"n": 0} and detail["metadata"] == {"source": "test"}
    assert [m["id"] for m in detail["chat_history"]] == [
        "m-0-0-u",
        "m-0-0-a",
        "m-0-1-u",
        "m-0-1-a",
    ]
    runs = client.get("/sessions/sess-0/runs").json()
    assert [r["run_id"] for r in runs] == ["run-0-0", "run-0-1"]
    assert runs[1]["metrics"] == {
        "input_tokens": 101,
        "output_tokens": 21,
        "total_tokens": 122,
        "duration": 0.5,
    }
    assert [m["id"] for m in runs[0]["messages"]] == ["m-0-0-s", "m-0-0-u", "m-0-0-a"]
    assert runs[0]["messages"][2]["metrics"] == {
        "input_tokens": 100,
        "output_tokens": 20,
        "total_tokens": 120,
    }
    assert runs[0]["run_input"] == "question 0.0"

    memories = client.get("/memories?sort_by=created_at&sort_order=asc").json()["data"]
    assert [(m["memory_id"], m["user_id"]) for m in memories] == [
        ("mem-0", "u1"),
        ("mem-1", "u1"),
        ("mem-2", "u1"),
        ("mem-3", "u2"),
    ]
    assert memories[0]["topics"] == ["travel", "japan"]
    assert memories[0]["agent_id"] == "basic-agent"
    native = client.get("/v1/sessions/sess-0").json()
    assert (native["message_count"], native["run_count"]) == (6, 2)


def _legacy_source(path: Path, **columns: object) -> None:
    """An Agno 2.x sessions table (all runs in its `runs` JSON column) with one session; JSON
    values are written as Agno writes them, with Python's `json`."""
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE agno_sessions (session_id VARCHAR PRIMARY KEY, session_type VARCHAR,"
                " agent_id VARCHAR, team_id VARCHAR, workflow_id VARCHAR, user_id VARCHAR,"
                " session_data JSON, agent_data JSON, team_data JSON, workflow_data JSON,"
                " metadata JSON, runs JSON, summary JSON, created_at BIGINT, updated_at BIGINT)"
            )
        )
        names = ", ".join(columns)
        values = ", ".join(f":{name}" for name in columns)
        conn.execute(
            sa.text(f"INSERT INTO agno_sessions ({names}) VALUES ({values})"),
            {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in columns.items()},
        )
    engine.dispose()


def test_legacy_runs_column_is_read(tmp_path: Path, database_url: str, client: TestClient) -> None:
    """Agno 2.x kept all runs in a `runs` JSON column of the sessions table."""
    source = tmp_path / "agno2.db"
    runs = [
        {
            "run_id": "old-1",
            "agent_id": "a",
            "status": "COMPLETED",
            "content": "hi there",
            "created_at": 1_700_000_000,
            "messages": [
                {"role": "user", "content": "hello", "created_at": 1_700_000_000},
                {"role": "assistant", "content": "hi there", "created_at": 1_700_000_000},
            ],
        }
    ]
    _legacy_source(
        source,
        session_id="legacy",
        session_type="agent",
        agent_id="a",
        user_id="u",
        runs=runs,
        created_at=1_700_000_000,
    )
    report = _import(source, database_url)
    assert (report["sessions_imported"], report["runs"], report["messages"]) == (1, 1, 2)
    detail = client.get("/sessions/legacy").json()
    assert detail["session_name"] == "hello"
    assert [m["content"] for m in detail["chat_history"]] == ["hello", "hi there"]


@pytest.mark.parametrize(
    ("columns", "named"),
    [
        ({"session_data": {"session_state": {"x": [math.nan]}}}, "session bad.state.x[0]"),
        ({"session_data": {"session_metrics": {"total_tokens": math.inf}}}, "session bad.metrics"),
        ({"metadata": {"score": -math.inf}}, "session bad.metadata.score"),
        ({"runs": [{"run_id": "r", "content": {"p": math.nan}}]}, "session bad.runs[0].content.p"),
        (
            {"runs": [{"run_id": "r", "metrics": {"total_tokens": math.nan}}]},
            "session bad: NewRun metrics.total_tokens",
        ),
    ],
)
def test_numbers_that_are_not_finite_stop_the_import(
    tmp_path: Path, database_url: str, store: SqlStore, columns: dict[str, object], named: str
) -> None:
    """Python's `json` writes NaN and Infinity, so an Agno database may hold them; they are
    refused as on every surface (naming the value), instead of stored as null."""
    source = tmp_path / "nan.db"
    _legacy_source(source, session_id="bad", session_type="agent", created_at=1, **columns)
    result = CliRunner().invoke(
        cli, ["import", "agno", f"sqlite:///{source}", "--database", database_url]
    )
    assert result.exit_code == 1, result.output
    error = result.output.splitlines()[-1]  # after the progress bar's label
    assert error.startswith("error: ") and named in error, result.output
    assert store.get_session("default", "bad") is None


def test_import_errors_are_one_line(tmp_path: Path, database_url: str) -> None:
    empty = tmp_path / "empty.db"
    sa.create_engine(f"sqlite:///{empty}").connect().close()
    result = CliRunner().invoke(
        cli, ["import", "agno", f"sqlite:///{empty}", "--database", database_url]
    )
    assert result.exit_code == 1
    assert result.output.startswith("error: no Agno tables")


@pytest.fixture
def agno_postgres_url(postgres_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database written by agno's own `PostgresDb` (schema `ai`)."""
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    name = f"agno_src_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    try:
        db = PostgresDb(db_url=url)
        fill_agno_db(db)
        db.db_engine.dispose()
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_import_from_an_agno_postgres_database(
    agno_postgres_url: str, database_url: str, client: TestClient
) -> None:
    report = _import(agno_postgres_url, database_url)
    assert report["sessions_imported"] == SESSIONS
    assert report["runs"] == SESSIONS * RUNS_PER_SESSION
    assert report["messages"] == SESSIONS * RUNS_PER_SESSION * 3
    assert (report["memories_seen"], report["memories_imported"]) == (4, 4)
    assert _import(agno_postgres_url, database_url)["sessions_imported"] == 0
    sessions = client.get("/sessions?sort_order=asc").json()
    assert sessions["meta"]["total_count"] == SESSIONS
    assert sessions["data"][0]["metrics"] == {
        "input_tokens": 201,
        "output_tokens": 41,
        "total_tokens": 242,
    }
    runs = client.get("/sessions/sess-0/runs").json()
    assert [r["run_id"] for r in runs] == ["run-0-0", "run-0-1"]
