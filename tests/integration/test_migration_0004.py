"""Rows that older versions stored with NaN, Infinity or an overflowed total (as null, or as
non-JSON text in SQLite) are readable on every surface before migration 0004, and repaired by it.

The poisoned rows are written with SQL: the only honest way to have "already stored" bad data,
since no surface lets such numbers in any more.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import import_module
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from alembic import command
from click.testing import CliRunner
from fastapi.testclient import TestClient

from convostore.cli.main import cli
from convostore.config import Settings
from convostore.server import create_app
from convostore.storage import SqlStore, make_engine, open_store
from convostore.storage.migrate import alembic_config, current_revision, head_revision
from tests.conftest import LOCAL_URL

MIGRATION = import_module("convostore.storage.migrations.versions.0004_finite_numbers")
VIDEO = "vid-1"
REF = {
    "source": {"kind": "video", "id": VIDEO, "name": "clip", "duration": 30},
    "items": [
        {"kind": "keyframe", "start": 3.0},
        {"kind": "visual_ts", "start": 5.0, "end": 9.0, "text": "a cat"},
    ],
}


@pytest.fixture
def before_0004(blank_database_url: str) -> Iterator[tuple[str, SqlStore, TestClient]]:
    """A database at the revision before 0004, with a session of totals and one of evidence,
    served by an app that does not migrate (and so only reads: this version's writes need this
    version's schema). The sessions are written at the newest revision, then the database is
    taken back to before 0004."""
    written = open_store(blank_database_url)
    try:
        app = create_app(Settings(database_url=blank_database_url), store=written)
        with TestClient(app, base_url=LOCAL_URL) as c:
            run = {"id": "r1", "input": "hi", "metrics": {"total_tokens": 10, "input_tokens": 4}}
            created = c.post("/v1/sessions/tot/runs", json={**run, "create_if_missing": True})
            assert created.status_code == 201, created.text
            message = {"role": "user", "content": "more", "metrics": {"total_tokens": 5}}
            appended = c.post("/v1/sessions/tot/messages", json={"messages": [message]})
            assert appended.status_code == 201, appended.text
            cited = {"role": "assistant", "content": "see", "refs": [REF]}
            body = {"messages": [cited], "create_if_missing": True}
            assert c.post("/v1/sessions/ev/messages", json=body).status_code == 201
    finally:
        written.close()
    engine = make_engine(blank_database_url)
    try:
        with engine.connect() as conn:
            command.downgrade(alembic_config(conn), MIGRATION.down_revision)
            conn.commit()
    finally:
        engine.dispose()
    store = open_store(blank_database_url, migrate=False)
    settings = Settings(database_url=blank_database_url, migrate_on_start=False)
    try:
        with TestClient(create_app(settings, store=store), base_url=LOCAL_URL) as client:
            yield blank_database_url, store, client
    finally:
        store.close()


def _poison(store: SqlStore) -> None:
    """What older versions left: null (NaN, Infinity, an overflowed sum, as orjson writes them),
    non-JSON NaN in SQLite text, and NaN or Infinity in the evidence table's float columns."""
    sqlite = store.engine.dialect.name == "sqlite"
    value = ":v" if sqlite else "CAST(:v AS jsonb)"
    with store.engine.begin() as conn:

        def set_json(table: str, column: str, json: str, where: str) -> None:
            sql = f"UPDATE {table} SET {column} = {value} WHERE {where}"
            conn.execute(sa.text(sql), {"v": json})

        query = "SELECT CAST(refs AS TEXT) FROM messages WHERE session_id = 'ev'"
        ref = conn.execute(sa.text(query)).scalar_one()
        for stored in ('"start":3.0', '"start": 3.0'):  # SQLite's text, PostgreSQL's
            ref = ref.replace(stored, '"start":NaN' if sqlite else '"start":null')
        assert "3.0" not in ref
        set_json("messages", "refs", ref, "session_id = 'ev'")
        set_json("sessions", "metrics", '{"total_tokens": null, "input_tokens": 4}', "id = 'tot'")
        set_json(
            "runs", "metrics", '{"total_tokens": 10, "input_tokens": 4, "ttft": null}', "id = 'r1'"
        )
        set_json(
            "messages",
            "metrics",
            '{"total_tokens": 5, "duration": null}',
            "session_id = 'tot' AND seq = 1",
        )
        # SQLite stores a NaN as NULL and keeps Infinity; PostgreSQL keeps both
        bad_start, bad_end = ("NULL", "9e999") if sqlite else ("'NaN'", "'Infinity'")
        conn.execute(sa.text(f"UPDATE evidence SET start_min = {bad_start}, end_max = {bad_end}"))


def _ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def _read_everything(client: TestClient) -> dict[str, Any]:
    """Every surface's reads of both sessions; each must answer."""
    found = {
        "tot": _ok(client.get("/v1/sessions/tot")),
        "list": _ok(client.get("/v1/sessions")),
        "messages": _ok(client.get("/v1/sessions/tot/messages")),
        "ev": _ok(client.get("/v1/sessions/ev/messages")),
        "evidence": _ok(client.get("/v1/evidence", params={"source_id": VIDEO})),
        "runs": _ok(client.get("/v1/sessions/tot/runs")),
        "agno": _ok(client.get("/sessions/ev")),
        "agno_list": _ok(client.get("/sessions")),
        "agno_runs": _ok(client.get("/sessions/tot/runs")),
    }
    detail = _ok(client.get("/serve/api/v1/get_session_detail", params={"sessionId": "ev"}))
    assert detail["code"] == "0000", detail
    found["memories_ai"] = detail["data"]
    return found


def test_poisoned_rows_are_read_before_and_repaired_by_0004(
    before_0004: tuple[str, SqlStore, TestClient],
) -> None:
    url, store, client = before_0004
    _poison(store)

    before = _read_everything(client)
    assert before["tot"]["metrics"] == {"total_tokens": None, "input_tokens": 4}
    item = before["ev"]["data"][0]["refs"][0]["items"][0]
    assert item["start"] == 0.0  # a start that was not a number reads as the source's start
    hit = before["evidence"]["data"][0]
    assert (hit["start"], hit["end"]) == (None, None)  # an unknown span, not a 500
    assert before["memories_ai"]["messages"][0]["refs"][0]["refItems"][0]["startTime"] == 0

    migrated = CliRunner().invoke(cli, ["db", "migrate", "--database", url])
    assert migrated.exit_code == 0, migrated.output
    assert current_revision(store.engine) == head_revision()

    after = _read_everything(client)
    # the run's 10, and the message outside it: 5
    assert after["tot"]["metrics"] == {"total_tokens": 15, "input_tokens": 4}
    assert [m["metrics"] for m in after["messages"]["data"]] == [{"total_tokens": 5}]
    assert after["runs"]["data"][0]["metrics"] == {"total_tokens": 10, "input_tokens": 4}
    assert after["ev"]["data"][0]["refs"][0]["items"][0]["start"] == 0.0
    hit = after["evidence"]["data"][0]
    assert (hit["start"], hit["end"]) == (0.0, 9.0)
    near_start = {"source_id": VIDEO, "start": 0, "end": 1}
    assert len(_ok(client.get("/v1/evidence", params=near_start))["data"]) == 1

    with store.engine.connect() as conn:
        refs = conn.execute(
            sa.text("SELECT CAST(refs AS TEXT) FROM messages WHERE session_id = 'ev'")
        )
        stored = orjson.loads(refs.scalar_one())
        spans = conn.execute(sa.text("SELECT start_min, end_max FROM evidence")).all()
    assert stored[0]["items"][0]["start"] == 0.0
    assert [tuple(s) for s in spans] == [(0.0, 9.0)]

    # and appends carry on, summed from the repaired total
    message = {
        "role": "user",
        "content": "again",
        "metrics": {"total_tokens": 1, "input_tokens": 2},
    }
    assert client.post("/v1/sessions/tot/messages", json={"messages": [message]}).status_code == 201
    assert _ok(client.get("/v1/sessions/tot"))["metrics"] == {"total_tokens": 16, "input_tokens": 6}


def test_an_append_to_a_damaged_total_succeeds_and_leaves_it_for_0004(
    database_url: str, client: TestClient, store: SqlStore
) -> None:
    """A total stored as null (an older version's overflow) stays unknown through appends (this
    version's writes need this version's schema, so this runs at the newest revision)."""
    run = {"id": "r1", "input": "hi", "metrics": {"total_tokens": 10, "input_tokens": 4}}
    assert (
        client.post("/v1/sessions/tot/runs", json={**run, "create_if_missing": True}).status_code
        == 201
    )
    sqlite = store.engine.dialect.name == "sqlite"
    value = ":v" if sqlite else "CAST(:v AS jsonb)"
    with store.engine.begin() as conn:
        conn.execute(
            sa.text(f"UPDATE sessions SET metrics = {value} WHERE id = 'tot'"),
            {"v": '{"total_tokens": null, "input_tokens": 4}'},
        )
    message = {
        "role": "user",
        "content": "again",
        "metrics": {"total_tokens": 1, "input_tokens": 2},
    }
    appended = client.post("/v1/sessions/tot/messages", json={"messages": [message]})
    assert appended.status_code == 201, appended.text
    assert _ok(client.get("/v1/sessions/tot"))["metrics"] == {
        "total_tokens": None,
        "input_tokens": 6,
    }
