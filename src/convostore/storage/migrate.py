"""Applying the Alembic migrations that ship inside the package.

`upgrade(engine)` brings any database to the newest schema. Concurrent starts of several server
processes are safe: on PostgreSQL an advisory lock, on SQLite `BEGIN IMMEDIATE`, lets one migrate
while the others wait and then find nothing left to do.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from convostore.storage.engine import WRITE_OPTION
from convostore.storage.search_index import Progress

MIGRATIONS = Path(__file__).parent / "migrations"
_PG_LOCK_ID = 7_405_117_331  # an arbitrary constant naming "convostore migrations"


def alembic_config(
    connection: sa.Connection | None = None, progress: Progress | None = None
) -> Config:
    """Alembic's configuration for the shipped migrations, run on `connection` when given;
    `progress(done, total)` is handed to migrations that go through stored data."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    config.attributes["progress"] = progress
    return config


# Tables a dialect keeps beside `tables.py` (SQLite's FTS5 index of `search_docs` and its
# shadow tables, made by migration 0006; PostgreSQL's `search_sources`, made by 0007), which no
# comparison with the metadata should report.
_DIALECT_TABLES = ("search_fts", "search_sources")
# Columns likewise: the FTS5 index's number for a document (SQLite, a virtual column; 0007).
_DIALECT_COLUMNS = ("fts_rowid",)


def compared_objects(dialect: str) -> Callable[..., bool]:
    """Alembic's `include_object` for comparing a `dialect` database with `tables.py`: leaves
    out the dialect's own tables and the indexes `tables.py` marks as another dialect's only
    (`info={"only": ...}`)."""

    def include(obj: Any, name: str | None, kind: str, reflected: bool, compare_to: Any) -> bool:
        if kind == "table" and name is not None and name.startswith(_DIALECT_TABLES):
            return False
        if kind == "column" and reflected and name in _DIALECT_COLUMNS:
            return False
        if kind == "index" and not reflected:
            only = obj.info.get("only")
            return only is None or only == dialect
        return True

    return include


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: sa.Engine, progress: Progress | None = None) -> str:
    """Migrate to head; returns the revision the database is at afterwards."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_lock(:id)"), {"id": _PG_LOCK_ID})
            conn.commit()
        else:  # SQLite: take the write lock first, so two starting processes migrate in turn
            conn.execution_options(**{WRITE_OPTION: True})
        try:
            command.upgrade(alembic_config(conn, progress), "head")
            conn.commit()
        finally:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_unlock(:id)"), {"id": _PG_LOCK_ID})
                conn.commit()
    return head_revision()
