"""Search within one source (a video) walks that source's documents newest first.

PostgreSQL only: `search_sources` lists, for every message document citing a source, the
source's marker term and the document's id, under a b-tree on (tenant, source, document). A
search with `source_id` walks it down from the newest document, checking each document's terms,
instead of intersecting the words' and the source's posting lists in GIN and sorting every match
(a cited word and a much-cited video left ~10,000 rows to fetch and sort per page). Rows go with
their document (a foreign key that cascades). SQLite needs none of this: FTS5 already returns a
query's matches newest first. The table is filled from the documents' own terms.

Revision ID: 0007_search_sources
Revises: 0006_search
Create Date: 2026-12-03
"""

from __future__ import annotations

import logging

from alembic import op

from convostore.storage.search_index import PG_SEARCH_SOURCES, index_all_sources

revision = "0007_search_sources"
down_revision = "0006_search"
branch_labels = None
depends_on = None

log = logging.getLogger("convostore.migrate")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute("SET LOCAL statement_timeout = 0")  # filling it reads every message document
    for statement in PG_SEARCH_SOURCES:
        op.execute(statement)
    log.info("search: %d source citations indexed", index_all_sources(bind))
    op.execute("ANALYZE search_sources")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE search_sources")
