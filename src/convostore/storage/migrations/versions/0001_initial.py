"""Initial schema: tenants, keys, sessions, runs, messages, evidence, memories, idempotency keys.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("tenant_id", sa.String(128), primary_key=True),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("secret_hash", sa.String(128), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("user_id", sa.String(128)),
        sa.Column("name", sa.String(200)),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger()),
    )
    op.create_index("ux_api_keys_id", "api_keys", ["id"], unique=True)
    op.create_table(
        "evidence",
        sa.Column("tenant_id", sa.String(128), primary_key=True),
        sa.Column("source_id", sa.String(128), primary_key=True),
        sa.Column("session_id", sa.String(128), primary_key=True),
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("ref_index", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("source_kind", sa.String(32), nullable=False),
        sa.Column("start_min", sa.Float()),
        sa.Column("end_max", sa.Float()),
    )
    op.create_index("ix_evidence_session", "evidence", ["tenant_id", "session_id", "seq"])
    op.create_table(
        "idempotency_keys",
        sa.Column("tenant_id", sa.String(128), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("scope", sa.String(300), nullable=False),
        sa.Column("session_id", sa.String(128)),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("result", JSON, nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_idempotency_created", "idempotency_keys", ["tenant_id", "created_at"])
    op.create_index("ix_idempotency_session", "idempotency_keys", ["tenant_id", "session_id"])
    op.create_table(
        "memories",
        sa.Column("tenant_id", sa.String(128), primary_key=True),
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("memory", sa.Text(), nullable=False),
        sa.Column("topics", JSON),
        sa.Column("agent_id", sa.String(128)),
        sa.Column("team_id", sa.String(128)),
        sa.Column("source", JSON),
        sa.Column("extra", JSON),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_memories_created", "memories", ["tenant_id", "created_at", "id"])
    op.create_index("ix_memories_updated", "memories", ["tenant_id", "updated_at", "id"])
    op.create_index(
        "ix_memories_user_updated", "memories", ["tenant_id", "user_id", "updated_at", "id"]
    )
    op.create_table(
        "messages",
        sa.Column("tenant_id", sa.String(128), primary_key=True),
        sa.Column("session_id", sa.String(128), primary_key=True),
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("id", sa.String(128), nullable=False),
        sa.Column("run_id", sa.String(128)),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("thinkings", JSON),
        sa.Column("refs", JSON),
        sa.Column("tool_calls", JSON),
        sa.Column("metrics", JSON),
        sa.Column("from_history", sa.Boolean(), nullable=False),
        sa.Column("extra", JSON),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_messages_run", "messages", ["tenant_id", "session_id", "run_id", "seq"])
    op.create_index("ux_messages_id", "messages", ["tenant_id", "session_id", "id"], unique=True)
    op.create_table(
        "runs",
        sa.Column("tenant_id", sa.String(128), primary_key=True),
        sa.Column("session_id", sa.String(128), primary_key=True),
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("run_index", sa.Integer(), nullable=False),
        sa.Column("parent_run_id", sa.String(128)),
        sa.Column("component_id", sa.String(128)),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("input", sa.Text()),
        sa.Column("content", JSON),
        sa.Column("metrics", JSON),
        sa.Column("extra", JSON),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_runs_session_index", "runs", ["tenant_id", "session_id", "run_index"])
    op.create_table(
        "sessions",
        sa.Column("tenant_id", sa.String(128), primary_key=True),
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("component_id", sa.String(128)),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("summary", JSON),
        sa.Column("state", JSON),
        sa.Column("metadata", JSON),
        sa.Column("component_data", JSON),
        sa.Column("extra", JSON),
        sa.Column("metrics", JSON),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("run_count", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("last_message_at", sa.BigInteger()),
    )
    op.create_index(
        "ix_sessions_component_created",
        "sessions",
        ["tenant_id", "component_id", "created_at", "id"],
    )
    op.create_index(
        "ix_sessions_component_updated",
        "sessions",
        ["tenant_id", "component_id", "updated_at", "id"],
    )
    op.create_index("ix_sessions_created", "sessions", ["tenant_id", "created_at", "id"])
    op.create_index("ix_sessions_title", "sessions", ["tenant_id", "title", "id"])
    op.create_index(
        "ix_sessions_type_created", "sessions", ["tenant_id", "type", "created_at", "id"]
    )
    op.create_index(
        "ix_sessions_type_updated", "sessions", ["tenant_id", "type", "updated_at", "id"]
    )
    op.create_index("ix_sessions_updated", "sessions", ["tenant_id", "updated_at", "id"])
    op.create_index(
        "ix_sessions_user_created", "sessions", ["tenant_id", "user_id", "created_at", "id"]
    )
    op.create_index(
        "ix_sessions_user_updated", "sessions", ["tenant_id", "user_id", "updated_at", "id"]
    )
    op.create_table(
        "tenants",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "idempotency_keys",
        "memories",
        "evidence",
        "messages",
        "runs",
        "sessions",
        "api_keys",
        "tenants",
    ):
        op.drop_table(table)
