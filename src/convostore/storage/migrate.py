"""Applying the Alembic migrations that ship inside the package.

`upgrade(engine)` brings any database to the newest schema. Concurrent starts of several server
processes are safe: on PostgreSQL an advisory lock, on SQLite `BEGIN IMMEDIATE`, lets one migrate
while the others wait and then find nothing left to do.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from convostore.storage.engine import WRITE_OPTION

MIGRATIONS = Path(__file__).parent / "migrations"
_PG_LOCK_ID = 7_405_117_331  # an arbitrary constant naming "convostore migrations"


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """Alembic's configuration for the shipped migrations, run on `connection` when given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: sa.Engine) -> str:
    """Migrate to head; returns the revision the database is at afterwards."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_lock(:id)"), {"id": _PG_LOCK_ID})
            conn.commit()
        else:  # SQLite: take the write lock first, so two starting processes migrate in turn
            conn.execution_options(**{WRITE_OPTION: True})
        try:
            command.upgrade(alembic_config(conn), "head")
            conn.commit()
        finally:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_unlock(:id)"), {"id": _PG_LOCK_ID})
                conn.commit()
    return head_revision()
