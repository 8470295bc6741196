"""The schema, in SQLAlchemy Core.

Every table's key leads with `tenant_id`, so every query of one tenant stays inside one key range
(and inside one shard on a distributed PostgreSQL-compatible engine). Timestamps are integer
microseconds since the Unix epoch. Optional JSON columns hold NULL rather than empty values, so
hot reads skip decoding them. Migrations in `migrations/versions` must produce exactly this schema.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR

metadata = sa.MetaData()

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
ID = sa.String(128)
TIME = sa.BigInteger

tenants = sa.Table(
    "tenants",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("created_at", TIME, nullable=False),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("tenant_id", ID, primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("secret_hash", sa.String(128), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("user_id", ID),
    sa.Column("name", sa.String(200)),
    sa.Column("created_at", TIME, nullable=False),
    sa.Column("revoked_at", TIME),
    sa.Index("ux_api_keys_id", "id", unique=True),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("tenant_id", ID, primary_key=True),
    sa.Column("id", ID, primary_key=True),
    sa.Column("user_id", ID, nullable=False),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("component_id", ID),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("summary", JSON),
    sa.Column("state", JSON),
    sa.Column("metadata", JSON),
    sa.Column("component_data", JSON),
    sa.Column("extra", JSON),
    sa.Column("metrics", JSON),
    sa.Column("message_count", sa.Integer, nullable=False),
    sa.Column("run_count", sa.Integer, nullable=False),
    sa.Column("last_seq", sa.BigInteger, nullable=False),
    sa.Column("created_at", TIME, nullable=False),
    sa.Column("updated_at", TIME, nullable=False),
    sa.Column("last_message_at", TIME),
    # `rules.folded(title)`, what title searches compare with a plain LIKE (see migration 0002)
    sa.Column("title_folded", sa.Text, nullable=False, server_default=""),
    # whether a tenant-wide key wrote the component id and data (0005_component_trust)
    sa.Column("component_trusted", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Index("ix_sessions_updated", "tenant_id", "updated_at", "id"),
    sa.Index("ix_sessions_created", "tenant_id", "created_at", "id"),
    sa.Index("ix_sessions_title", "tenant_id", "title", "id"),
    sa.Index("ix_sessions_user_updated", "tenant_id", "user_id", "updated_at", "id"),
    sa.Index("ix_sessions_user_created", "tenant_id", "user_id", "created_at", "id"),
    sa.Index("ix_sessions_component_updated", "tenant_id", "component_id", "updated_at", "id"),
    sa.Index("ix_sessions_component_created", "tenant_id", "component_id", "created_at", "id"),
    sa.Index("ix_sessions_type_updated", "tenant_id", "type", "updated_at", "id"),
    sa.Index("ix_sessions_type_created", "tenant_id", "type", "created_at", "id"),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("tenant_id", ID, primary_key=True),
    sa.Column("session_id", ID, primary_key=True),
    sa.Column("id", ID, primary_key=True),
    sa.Column("run_index", sa.Integer, nullable=False),
    sa.Column("parent_run_id", ID),
    sa.Column("component_id", ID),
    sa.Column("user_id", ID, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("input", sa.Text),
    sa.Column("content", JSON),
    sa.Column("metrics", JSON),
    sa.Column("extra", JSON),
    sa.Column("created_at", TIME, nullable=False),
    sa.Column("updated_at", TIME, nullable=False),
    sa.Index("ix_runs_session_index", "tenant_id", "session_id", "run_index"),
)

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("tenant_id", ID, primary_key=True),
    sa.Column("session_id", ID, primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("id", ID, nullable=False),
    sa.Column("run_id", ID),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("thinkings", JSON),
    sa.Column("refs", JSON),
    sa.Column("tool_calls", JSON),
    sa.Column("metrics", JSON),
    sa.Column("from_history", sa.Boolean, nullable=False),
    sa.Column("extra", JSON),
    sa.Column("created_at", TIME, nullable=False),
    sa.Index("ux_messages_id", "tenant_id", "session_id", "id", unique=True),
    sa.Index("ix_messages_run", "tenant_id", "session_id", "run_id", "seq"),
)

# One row per (message, cited source): evidence is queryable by source id and time range
# without decoding message JSON.
evidence = sa.Table(
    "evidence",
    metadata,
    sa.Column("tenant_id", ID, primary_key=True),
    sa.Column("source_id", ID, primary_key=True),
    sa.Column("session_id", ID, primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("ref_index", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("source_kind", sa.String(32), nullable=False),
    sa.Column("start_min", sa.Float),
    sa.Column("end_max", sa.Float),
    sa.Index("ix_evidence_session", "tenant_id", "session_id", "seq"),
)

memories = sa.Table(
    "memories",
    metadata,
    sa.Column("tenant_id", ID, primary_key=True),
    sa.Column("id", ID, primary_key=True),
    sa.Column("user_id", ID, nullable=False),
    sa.Column("memory", sa.Text, nullable=False),
    sa.Column("topics", JSON),
    sa.Column("agent_id", ID),
    sa.Column("team_id", ID),
    sa.Column("source", JSON),
    sa.Column("extra", JSON),
    sa.Column("created_at", TIME, nullable=False),
    sa.Column("updated_at", TIME, nullable=False),
    sa.Index("ix_memories_updated", "tenant_id", "updated_at", "id"),
    sa.Index("ix_memories_created", "tenant_id", "created_at", "id"),
    sa.Index("ix_memories_user_updated", "tenant_id", "user_id", "updated_at", "id"),
)

# An Idempotency-Key is remembered per session (migration 0003): only callers who may write to
# the session can reach it, so nobody replays, probes or uses up a key of a session not theirs,
# and the session's deletion takes its keys along. `scope` says which kind of write it was.
idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("tenant_id", ID, primary_key=True),
    sa.Column("session_id", ID, primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("scope", sa.String(300), nullable=False),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("result", JSON, nullable=False),
    sa.Column("created_at", TIME, nullable=False),
    sa.Index("ix_idempotency_created", "tenant_id", "created_at"),
)

# Search (migration 0006): one row per searchable text (a message's content, its reasoning, its
# evidence; a session's title or summary; a memory), holding its search terms
# (`storage/search_index.py`) in `terms`: on SQLite a string that the FTS5 table `search_fts`
# indexes (an external-content table kept in step by triggers, created by the migration), on
# PostgreSQL a tsvector under a GIN index. A new row's id is above every id in the table, so
# "most recently stored first" is `ORDER BY id DESC` and a cursor is an id. (SQLite may give a
# new row the id of the newest row deleted before it, which no cursor can then miss or repeat:
# that row is gone. Without AUTOINCREMENT, which would forbid it, an indexed message costs ~30%
# less to write.) The filter columns are copied from the session or memory (component and type
# follow a session's change).
search_docs = sa.Table(
    "search_docs",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("tenant_id", ID, nullable=False),
    sa.Column("kind", sa.SmallInteger, nullable=False),
    sa.Column("session_id", ID),
    sa.Column("seq", sa.BigInteger),
    sa.Column("memory_id", ID),
    sa.Column("user_id", ID, nullable=False),
    sa.Column("component_id", ID),
    sa.Column("session_type", sa.String(16)),
    sa.Column("created_at", TIME, nullable=False),
    sa.Column("terms", sa.Text().with_variant(TSVECTOR(), "postgresql"), nullable=False),
    sa.Index("ix_search_docs_session", "tenant_id", "session_id", "seq"),
    sa.Index(
        "ix_search_docs_memory",
        "tenant_id",
        "memory_id",
        sqlite_where=sa.text("memory_id IS NOT NULL"),
        postgresql_where=sa.text("memory_id IS NOT NULL"),
    ),
    sa.Index("ix_search_docs_terms", "terms", postgresql_using="gin", info={"only": "postgresql"}),
    sa.Index("ix_search_docs_kind", "tenant_id", "kind", "id", info={"only": "postgresql"}),
    sa.Index(
        "ix_search_docs_user", "tenant_id", "user_id", "kind", "id", info={"only": "postgresql"}
    ),
)
