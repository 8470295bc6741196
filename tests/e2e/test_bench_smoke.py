"""The benchmark harness, end to end on a tiny data set, so that it cannot rot unnoticed.

One test checks that seeded rows look exactly like rows the store writes when the same turns are
appended through it; the other runs `bench.run` for one second per case against a real server
process and checks that every case was measured and answered without errors.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa

from bench.cases import CASES
from bench.dataset import COLUMNS, TENANT, Spec, session_id
from bench.instructions import compare
from bench.instructions import main as instructions_main
from bench.load import wrk_available
from bench.run import main as bench_main
from bench.seed import drop_dataset, ensure_dataset
from convostore.models import EvidenceRef, NewMessage, NewRun, NewSession, Thinking
from convostore.storage import AppendRequest, open_store
from convostore.storage.tables import metadata

pytestmark = pytest.mark.slow

# Ids and clocks differ between a seeded session and one appended now; everything else must not.
VOLATILE = {"id", "run_id", "session_id", "created_at", "updated_at", "last_message_at"}


def _rows(path: Path, table: str, sid: str) -> list[dict[str, Any]]:
    key = "id" if table == "sessions" else "session_id"
    order = {"sessions": "id", "runs": "run_index", "messages": "seq", "evidence": "seq"}[table]
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        found = conn.execute(
            f"SELECT * FROM {table} WHERE tenant_id = ? AND {key} = ? ORDER BY {order}",
            (TENANT, sid),
        ).fetchall()
    columns = metadata.tables[table].c
    return [
        {
            k: orjson.loads(row[k])
            if isinstance(columns[k].type, sa.JSON) and row[k] is not None
            else row[k]
            for k in row.keys()  # noqa: SIM118 (sqlite3.Row iterates values)
            if k not in VOLATILE
        }
        for row in found
    ]


def _append_like(store: Any, seeded: Path, sid: str, new_id: str) -> None:
    """Record the seeded session's turns again through the store's append path."""
    (session,) = _rows(seeded, "sessions", sid)
    messages = _rows(seeded, "messages", sid)
    runs = _rows(seeded, "runs", sid)
    create = NewSession(
        user_id=session["user_id"],
        type=session["type"],
        component_id=session["component_id"],
        component_data=session["component_data"],
    )
    for turn, run in enumerate(runs):
        user, assistant = messages[2 * turn], messages[2 * turn + 1]
        new = [
            NewMessage(role="user", content=user["content"]),
            NewMessage(
                role="assistant",
                content=assistant["content"],
                thinkings=[Thinking.model_validate(t) for t in assistant["thinkings"]],
                refs=[EvidenceRef.model_validate(r) for r in assistant["refs"]],
                metrics=assistant["metrics"],
            ),
        ]
        request = AppendRequest(
            session_id=new_id,
            messages=new,
            run=NewRun(input=run["input"], content=run["content"], status=run["status"]),
            create=create,
        )
        store.append(TENANT, request)


def test_seeded_rows_match_what_the_store_writes(tmp_path: Path) -> None:
    spec = Spec(sessions=40, turns=3, users=5)
    dataset = ensure_dataset("sqlite", spec, data_dir=tmp_path, log=lambda _: None)
    seeded = Path(dataset.url.removeprefix("sqlite:///"))
    written = tmp_path / "written.db"
    store = open_store(f"sqlite:///{written}")
    try:
        for i in (0, 7, 39):
            _append_like(store, seeded, session_id(spec, i), f"copy-{i}")
    finally:
        store.close()
    for i in (0, 7, 39):
        for table in COLUMNS:
            expected = _rows(written, table, f"copy-{i}")
            assert expected, table
            assert _rows(seeded, table, session_id(spec, i)) == expected, (table, i)


def test_seeded_data_is_reused_when_its_spec_matches(tmp_path: Path) -> None:
    first = ensure_dataset("sqlite", Spec(sessions=30), data_dir=tmp_path, log=lambda _: None)
    again = ensure_dataset("sqlite", Spec(sessions=30), data_dir=tmp_path, log=lambda _: None)
    other = ensure_dataset(
        "sqlite", Spec(sessions=30, users=7), data_dir=tmp_path, log=lambda _: None
    )
    assert (first.reused, again.reused, other.reused) == (False, True, False)
    assert (
        again.rows
        == first.rows
        == {"sessions": 30, "runs": 300, "messages": 600, "evidence": 300, "search_docs": 1230}
    )


def _pg_schema(url: str) -> list[Any]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [
                conn.execute(sa.text(sql)).all()
                for sql in (
                    "SELECT tablename, indexname, indexdef FROM pg_indexes "
                    "WHERE schemaname = 'public' ORDER BY 1, 2",
                    "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), "
                    "convalidated FROM pg_constraint WHERE connamespace = 'public'::regnamespace "
                    "ORDER BY 1, 2",
                    "SELECT version_num FROM alembic_version",
                )
            ]
    finally:
        engine.dispose()


def _table_rows(url: str, table: str) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(url)
    t = metadata.tables[table]
    try:
        with engine.connect() as conn:
            return sorted(
                (tuple(row) for row in conn.execute(sa.select(t))),
                key=lambda row: [row[t.c.keys().index(c.name)] for c in t.primary_key],
            )
    finally:
        engine.dispose()


def test_postgres_seed_has_the_migrated_schema_and_the_sqlite_rows(
    tmp_path: Path, postgres_url: str
) -> None:
    """The PostgreSQL loader drops and rebuilds keys and indexes and writes binary COPY."""
    spec = Spec(sessions=40, turns=3, users=5)
    lite = ensure_dataset("sqlite", spec, data_dir=tmp_path, log=lambda _: None)
    pg = ensure_dataset(
        "postgresql", spec, data_dir=tmp_path, pg_url=postgres_url, log=lambda _: None
    )
    try:
        assert _pg_schema(pg.url) == _pg_schema(postgres_url)
        for table in COLUMNS:
            assert _table_rows(pg.url, table) == _table_rows(lite.url, table), table
    finally:
        drop_dataset(pg.url)


@pytest.mark.skipif(not wrk_available(), reason="needs wrk (/usr/bin/wrk; Debian package wrk)")
def test_every_case_is_measured_against_a_real_server(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    code = bench_main(
        [
            "--sizes", "200", "--backends", "sqlite", "--duration", "1", "--connections", "1",
            "--warmup", "0", "--sql-floor-seconds", "0.1", "--capture-requests", "3",
            "--floor-cases", "list_first,append_1",
            "--data-dir", str(tmp_path / "data"), "--out", str(out),
        ]
    )  # fmt: skip
    assert code == 0
    results = json.loads(out.read_text())
    for case in CASES:
        run = results["runs"][f"sqlite/200/{case.name}/c1"]
        assert run["rps"] > 0, case.name
        assert run["errors"] + run["non_2xx"] == 0, case.name
        assert run["body_bytes"] > 0 and run["rss_mb"] > 0, case.name
        assert results["sql_floors"][f"sqlite/200/{case.name}"]["median_us"] > 0, case.name
    floors = [
        f for k, f in results["asgi_floors"].items() if k.startswith(("list_first/", "append_1/"))
    ]
    assert len(floors) == 2 and all(f["rps"] > 0 for f in floors)
    report = out.with_suffix(".md").read_text()
    assert all(f"| {case.name} | 1 |" in report for case in CASES)


@pytest.mark.skipif(
    shutil.which("valgrind") is None, reason="needs valgrind (Debian package valgrind)"
)
def test_instructions_are_counted_per_case_in_a_real_server(tmp_path: Path) -> None:
    dataset = ensure_dataset("sqlite", Spec(sessions=200), data_dir=tmp_path, log=lambda _: None)
    out = tmp_path / "instructions.json"
    code = instructions_main(
        [
            "--database", dataset.url, "--size", "200", "--cases", "list_first,append_100",
            "--requests", "3", "--warmup", "1", "--out", str(out),
        ]
    )  # fmt: skip
    assert code == 0
    cases = json.loads(out.read_text())["cases"]
    # a page of sessions costs the server hundreds of thousands of instructions at least;
    # a hundred messages, far more than a page
    assert 100_000 < cases["list_first"]["instructions"] < cases["append_100"]["instructions"]
    assert cases["append_100"]["per_message"] == cases["append_100"]["instructions"] / 100
    table = compare(str(out), str(out))
    assert "| list_first |" in table and "| 1.000 |" in table
