"""Full-text search: the `search_docs` table, its index, and every stored text indexed.

SQLite: an FTS5 table over `search_docs.terms` (external content, the `ascii` tokenizer: the
terms are already tokens, see `storage/search_index.py`), kept in step by two triggers.
PostgreSQL: `terms` is a tsvector under a GIN index, plus b-trees on (tenant, kind, id) and
(tenant, user, kind, id) for the "newest first" walk of common words, tenant-wide or a user's.
Existing sessions and memories are indexed in this revision (a progress callback, when the
caller passed one, hears how far it got); on PostgreSQL the indexes are built after the rows are
in, which is several times faster than growing them.

Revision ID: 0006_search
Revises: 0005_component_trust
Create Date: 2026-12-03
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

from convostore.storage.search_index import Progress, index_existing

revision = "0006_search"
down_revision = "0005_component_trust"
branch_labels = None
depends_on = None

log = logging.getLogger("convostore.migrate")

_SQLITE_FTS = (
    "CREATE VIRTUAL TABLE search_fts USING fts5("
    "terms, content='search_docs', content_rowid='id', tokenize='ascii', columnsize=0)",
    "CREATE TRIGGER search_docs_insert AFTER INSERT ON search_docs BEGIN"
    " INSERT INTO search_fts(rowid, terms) VALUES (new.id, new.terms); END",
    "CREATE TRIGGER search_docs_delete AFTER DELETE ON search_docs BEGIN"
    " INSERT INTO search_fts(search_fts, rowid, terms) VALUES ('delete', old.id, old.terms); END",
)


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    if postgres:  # indexing a large database takes longer than a request may
        op.execute("SET LOCAL statement_timeout = 0")
    op.create_table(
        "search_docs",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
            autoincrement=True,
        ),
        sa.Column("tenant_id", sa.String(128), nullable=False),
        sa.Column("kind", sa.SmallInteger, nullable=False),
        sa.Column("session_id", sa.String(128)),
        sa.Column("seq", sa.BigInteger),
        sa.Column("memory_id", sa.String(128)),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("component_id", sa.String(128)),
        sa.Column("session_type", sa.String(16)),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("terms", TSVECTOR() if postgres else sa.Text(), nullable=False),
    )  # fmt: skip
    config = op.get_context().config
    progress = (config.attributes.get("progress") if config else None) or _log_progress()
    written = index_existing(bind, progress)
    log.info("search: %d documents indexed", written)
    if not postgres:  # the FTS index built in one pass over the rows, then kept in step
        op.execute(_SQLITE_FTS[0])
        op.execute("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
        for statement in _SQLITE_FTS[1:]:
            op.execute(statement)
    op.create_index("ix_search_docs_session", "search_docs", ["tenant_id", "session_id", "seq"])
    op.create_index(
        "ix_search_docs_memory", "search_docs", ["tenant_id", "memory_id"],
        sqlite_where=sa.text("memory_id IS NOT NULL"),
        postgresql_where=sa.text("memory_id IS NOT NULL"),
    )  # fmt: skip
    if postgres:
        op.create_index("ix_search_docs_terms", "search_docs", ["terms"], postgresql_using="gin")
        op.create_index("ix_search_docs_kind", "search_docs", ["tenant_id", "kind", "id"])
        op.create_index(
            "ix_search_docs_user", "search_docs", ["tenant_id", "user_id", "kind", "id"]
        )
        # the planner chooses between the GIN index and the b-tree walk by the terms' statistics
        op.execute("ANALYZE search_docs")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TRIGGER search_docs_delete")
        op.execute("DROP TRIGGER search_docs_insert")
        op.execute("DROP TABLE search_fts")
    op.drop_table("search_docs")


def _log_progress() -> Progress:
    """Without a caller's callback: a log line at every tenth of the way."""
    reported = [0]

    def report(done: int, total: int) -> None:
        tenth = done * 10 // max(total, 1)
        if tenth > reported[0]:
            reported[0] = tenth
            log.info("search: indexed %d of %d sessions and memories", done, total)

    return report
