"""Migrations build exactly the schema that `storage/tables.py` describes, on every backend."""

from __future__ import annotations

from importlib import import_module

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from convostore.models import SessionQuery
from convostore.storage import make_engine, open_store
from convostore.storage.migrate import alembic_config, current_revision, head_revision, upgrade
from convostore.storage.tables import metadata


def test_blank_database_migrates_to_head_matching_the_tables(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
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
