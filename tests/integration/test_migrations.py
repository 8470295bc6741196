"""Migrations build exactly the schema that `storage/tables.py` describes, on every backend."""

from __future__ import annotations

import json
from importlib import import_module

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from convostore.ids import to_micros, utcnow
from convostore.models import NewMessage, SearchQuery, SessionQuery
from convostore.storage import (
    AppendRequest,
    IdempotencyClaim,
    make_engine,
    open_store,
    search_index,
)
from convostore.storage.migrate import (
    alembic_config,
    compared_objects,
    current_revision,
    head_revision,
    upgrade,
)
from convostore.storage.tables import metadata


def test_blank_database_migrates_to_head_matching_the_tables(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            options = {"include_object": compared_objects(conn.dialect.name)}
            diff = compare_metadata(MigrationContext.configure(conn, opts=options), metadata)
        assert diff == []
        upgrade(engine)  # a second run changes nothing
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/wal.db")
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        engine.dispose()


def test_titles_stored_before_0002_are_folded_and_found(blank_database_url: str) -> None:
    """A database from before titles kept their folded form: the upgrade folds every stored
    title (over more than one batch), and searches then find them in any case."""
    batch = import_module("convostore.storage.migrations.versions.0002_title_folded").BATCH
    titles = {f"s{i:05d}": f"Straße {i} ÉTUDE" if i % 3 else "" for i in range(batch + 7)}
    engine = make_engine(blank_database_url)
    try:
        with engine.connect() as conn:
            command.upgrade(alembic_config(conn), "0001_initial")
            conn.commit()
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO sessions (tenant_id, id, user_id, type, title, message_count,"
                    " run_count, last_seq, created_at, updated_at)"
                    " VALUES ('default', :id, 'u', 'agent', :title, 0, 0, 0, 1, 1)"
                ),
                [{"id": key, "title": title} for key, title in titles.items()],
            )
        upgrade(engine)
    finally:
        engine.dispose()
    store = open_store(blank_database_url)
    try:

        def found(q: str) -> int | None:
            query = SessionQuery(q=q, include_total=True, brief=True)
            return store.list_sessions("default", query).total

        assert found("STRASSE") == found("étude") == sum(1 for t in titles.values() if t)
        assert found(f"strasse {batch + 5} é") == 1  # a title of the second batch
        assert found(f"strasse {batch + 4} é") == 0  # its title is empty: nothing to fold
    finally:
        store.close()


def test_idempotency_keys_stored_before_0003_still_replay(blank_database_url: str) -> None:
    """Keys remembered under 0002 (one per tenant) belong to their session after the upgrade: a
    retry on that session replays the stored answer, the key on another session is new there;
    down to 0002 and up again keeps every row that fits both."""
    engine = make_engine(blank_database_url)
    now = to_micros(utcnow())
    answer = {
        "session_id": "s1",
        "messages": [
            {"session_id": "s1", "seq": 1, "id": "m1", "role": "user", "content": "stored",
             "created_at": "2026-11-21T00:00:00Z"}
        ],
        "run": None,
    }  # fmt: skip
    try:
        with engine.connect() as conn:
            command.upgrade(alembic_config(conn), "0002_title_folded")
            conn.commit()
        with engine.begin() as conn:
            for session_id in ("s1", "s2"):
                conn.execute(
                    sa.text(
                        "INSERT INTO sessions (tenant_id, id, user_id, type, title, message_count,"
                        " run_count, last_seq, created_at, updated_at)"
                        " VALUES ('t', :id, 'u', 'agent', '', 1, 0, 1, 1, 1)"
                    ),
                    {"id": session_id},
                )
            conn.execute(
                sa.insert(sa.table("idempotency_keys", *(sa.column(c) for c in _KEY_COLUMNS))),
                [
                    {"tenant_id": "t", "key": "k", "scope": "messages:s1", "session_id": "s1",
                     "request_hash": "h", "result": json.dumps(answer), "created_at": now},
                    {"tenant_id": "t", "key": "k2", "scope": "runs:s2", "session_id": "s2",
                     "request_hash": "h", "result": json.dumps(answer), "created_at": now},
                ],
            )  # fmt: skip
        upgrade(engine)
        with engine.connect() as conn:
            command.downgrade(alembic_config(conn), "0002_title_folded")
            conn.commit()
        upgrade(engine)
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()
    store = open_store(blank_database_url)
    try:
        claim = IdempotencyClaim(key="k", scope="messages:s1", request_hash="h")
        new = [NewMessage(role="user", content="retry")]
        replayed = store.append("t", AppendRequest("s1", new, idempotency=claim))
        assert replayed.replayed and [m.content for m in replayed.messages] == ["stored"]
        elsewhere = IdempotencyClaim(key="k", scope="messages:s2", request_hash="h")
        written = store.append("t", AppendRequest("s2", new, idempotency=elsewhere))
        assert not written.replayed and [m.content for m in written.messages] == ["retry"]
        assert store.delete_sessions("t", ["s1", "s2"]) == 2
        with store.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM idempotency_keys")).scalar() == 0
    finally:
        store.close()


_KEY_COLUMNS = ("tenant_id", "key", "scope", "session_id", "request_hash", "result", "created_at")


def test_data_stored_before_0006_is_indexed_for_search(
    blank_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sessions, messages and memories written under 0005 are searchable after the upgrade (in
    batches, oldest first, with progress reported), and later writes keep the index in step."""
    monkeypatch.setattr(search_index, "BACKFILL_SESSIONS", 2)
    engine = make_engine(blank_database_url)
    refs = [
        {
            "source": {"kind": "video", "id": "v1", "name": "clip"},
            "items": [{"kind": "audio_ts", "start": 3.0, "end": 4.0, "text": "old evidence"}],
        }
    ]
    thinkings = [{"title": "step", "content": "old reasoning"}]
    try:
        with engine.connect() as conn:
            command.upgrade(alembic_config(conn), "0005_component_trust")
            conn.commit()
        with engine.begin() as conn:
            for i in range(5):
                conn.execute(
                    sa.text(
                        "INSERT INTO sessions (tenant_id, id, user_id, type, title, summary,"
                        " message_count, run_count, last_seq, created_at, updated_at)"
                        " VALUES ('t', :id, 'u', 'agent', :title, :summary, 1, 0, 1, :at, :at)"
                    ),
                    {"id": f"s{i}", "title": f"old title {i}", "at": 1_000 + i,
                     "summary": json.dumps({"text": f"old summary {i}"})},
                )  # fmt: skip
                conn.execute(
                    sa.text(
                        "INSERT INTO messages (tenant_id, session_id, seq, id, role, content,"
                        " thinkings, refs, from_history, created_at)"
                        " VALUES ('t', :sid, 1, :mid, 'assistant', :content, :thinkings, :refs,"
                        " false, 5)"
                    ),
                    {"sid": f"s{i}", "mid": f"m{i}", "content": f"old content {i}",
                     "thinkings": json.dumps(thinkings), "refs": json.dumps(refs)},
                )  # fmt: skip
                conn.execute(
                    sa.text(
                        "INSERT INTO evidence (tenant_id, source_id, session_id, seq, ref_index,"
                        " source_kind, start_min, end_max) VALUES ('t', 'v1', :sid, 1, 0, 'video',"
                        " 3.0, 4.0)"
                    ),
                    {"sid": f"s{i}"},
                )
            conn.execute(
                sa.text(
                    "INSERT INTO memories (tenant_id, id, user_id, memory, topics, created_at,"
                    " updated_at) VALUES ('t', 'mem', 'u', 'old memory', '[\"topic\"]', 7, 7)"
                )
            )
        reports: list[tuple[int, int]] = []
        upgrade(engine, progress=lambda done, total: reports.append((done, total)))
    finally:
        engine.dispose()
    assert reports[-1] == (6, 6) and len(reports) == 4  # three batches of sessions, one of memories
    store = open_store(blank_database_url)
    try:

        def kinds(q: str) -> list[str]:
            return [hit.kind for hit in store.search("t", SearchQuery(q=q, limit=100)).items]

        assert (
            kinds("old")
            == ["title"] * 5
            + ["summary"] * 5
            + ["memory"]
            + ["content"] * 5
            + ["thinking"] * 5
            + ["evidence"] * 5
        )
        assert [h.session_id for h in store.search("t", SearchQuery(q="old title")).items] == [
            "s4", "s3", "s2", "s1", "s0",
        ]  # fmt: skip
        hit = store.search("t", SearchQuery(q="evidence", source_id="v1", start=4, end=9)).items
        assert [(h.kind, h.session_id, h.seq) for h in hit] == [
            ("evidence", f"s{i}", 1) for i in reversed(range(5))
        ]
        assert store.search("t", SearchQuery(q="topic")).items[0].memory_id == "mem"
    finally:
        store.close()
