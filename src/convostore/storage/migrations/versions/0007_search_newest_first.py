"""Search walks the newest documents first without reading a word's whole posting list.

SQLite: FTS5 reads a posting list lazily only in ascending rowid order; in descending order it
first loads the whole list of every term of the query (for a word in millions of documents,
every search). So the FTS5 index now numbers each document by its id negated (`fts_rowid`, a
virtual column of `search_docs`), and "newest first" is its ascending order. The index is built
again from `search_docs`.

PostgreSQL: `search_sources` lists, for every message document citing a source, the source's
marker term and the document's id, under a b-tree on (tenant, source, document). A search with
`source_id` walks it down from the newest document, checking each document's terms, instead of
intersecting the words' and the source's posting lists in GIN and sorting every match (a cited
word and a much-cited video left ~10,000 rows to fetch and sort per page). Rows go with their
document (a foreign key that cascades). It is filled from the documents' own terms.

Revision ID: 0007_search_newest_first
Revises: 0006_search
Create Date: 2026-12-03
"""

from __future__ import annotations

import logging

from alembic import op

from convostore.storage.search_index import index_all_sources

revision = "0007_search_newest_first"
down_revision = "0006_search"
branch_labels = None
depends_on = None

log = logging.getLogger("convostore.migrate")

# SQLite: the FTS5 index of the documents' terms, kept in step by two triggers.
# It numbers each document by its id negated (`fts_rowid`): FTS5 reads posting lists lazily only
# in ascending rowid order, so "newest first" must be that order.
_SQLITE_FTS = (
    "CREATE VIRTUAL TABLE search_fts USING fts5("
    "terms, content='search_docs', content_rowid='fts_rowid', tokenize='ascii', columnsize=0)",
    "CREATE TRIGGER search_docs_insert AFTER INSERT ON search_docs BEGIN"
    " INSERT INTO search_fts(rowid, terms) VALUES (-new.id, new.terms); END",
    "CREATE TRIGGER search_docs_delete AFTER DELETE ON search_docs BEGIN"
    " INSERT INTO search_fts(search_fts, rowid, terms) VALUES ('delete', -old.id, old.terms); END",
)
# PostgreSQL: the documents citing each source, by id; rows go with their document.
_PG_SEARCH_SOURCES = (
    "CREATE TABLE search_sources ("
    " tenant_id VARCHAR(128) NOT NULL, source TEXT NOT NULL,"
    " doc_id BIGINT NOT NULL REFERENCES search_docs (id) ON DELETE CASCADE,"
    " PRIMARY KEY (tenant_id, source, doc_id))",
    "CREATE INDEX ix_search_sources_doc ON search_sources (doc_id)",
)
_SQLITE_BEFORE = (
    "DROP TRIGGER search_docs_insert",
    "DROP TRIGGER search_docs_delete",
    "DROP TABLE search_fts",
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        for statement in _SQLITE_BEFORE:
            op.execute(statement)
        op.execute("ALTER TABLE search_docs ADD COLUMN fts_rowid INTEGER GENERATED ALWAYS AS (-id)")
        op.execute(_SQLITE_FTS[0])
        op.execute("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
        for statement in _SQLITE_FTS[1:]:
            op.execute(statement)
        return
    op.execute("SET LOCAL statement_timeout = 0")  # filling it reads every message document
    for statement in _PG_SEARCH_SOURCES:
        op.execute(statement)
    log.info("search: %d source citations indexed", index_all_sources(bind))
    op.execute("ANALYZE search_sources")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE search_sources")
        return
    op.execute("DROP TRIGGER search_docs_delete")
    op.execute("DROP TRIGGER search_docs_insert")
    op.execute("DROP TABLE search_fts")
    op.execute("ALTER TABLE search_docs DROP COLUMN fts_rowid")
    # the FTS5 index of 0006 (ascending ids), built again
    op.execute(
        "CREATE VIRTUAL TABLE search_fts USING fts5(terms, content='search_docs',"
        " content_rowid='id', tokenize='ascii', columnsize=0)"
    )
    op.execute("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
    op.execute(
        "CREATE TRIGGER search_docs_insert AFTER INSERT ON search_docs BEGIN"
        " INSERT INTO search_fts(rowid, terms) VALUES (new.id, new.terms); END"
    )
    op.execute(
        "CREATE TRIGGER search_docs_delete AFTER DELETE ON search_docs BEGIN"
        " INSERT INTO search_fts(search_fts, rowid, terms) VALUES ('delete', old.id, old.terms);"
        " END"
    )
