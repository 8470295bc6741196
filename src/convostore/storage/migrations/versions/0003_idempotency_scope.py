"""Idempotency keys are remembered per session, no longer per tenant.

A key was the tenant's: its replay was looked up before the session was locked and its owner
checked, so a key confined to one end user could replay another user's request (and read its
stored answer), learn from a 409 that another user's session exists, or claim another user's keys
first and make their appends fail for a day. Now a key belongs to the session it was used on
(primary key `(tenant_id, session_id, key)`) and is looked up only once the caller has been found
allowed to write to that session. Rows kept from before stay valid: each already names its
session (rows without one, never written by any release, are dropped).

Revision ID: 0003_idempotency_scope
Revises: 0002_title_folded
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_idempotency_scope"
down_revision = "0002_title_folded"
branch_labels = None
depends_on = None

TABLE = "idempotency_keys"
ID = sa.String(128)


def upgrade() -> None:
    op.execute(f"DELETE FROM {TABLE} WHERE session_id IS NULL")
    op.drop_index("ix_idempotency_session", table_name=TABLE)
    _primary_key(["tenant_id", "session_id", "key"], session_required=True)


def downgrade() -> None:
    # The same key may now be in use on several sessions of a tenant; those rows cannot all stay
    # under a key of the tenant alone. They are dropped (a retry of theirs may then write again).
    op.execute(
        f"DELETE FROM {TABLE} WHERE (tenant_id, key) IN"
        f" (SELECT tenant_id, key FROM {TABLE} GROUP BY tenant_id, key HAVING count(*) > 1)"
    )
    _primary_key(["tenant_id", "key"], session_required=False)
    op.create_index("ix_idempotency_session", TABLE, ["tenant_id", "session_id"])


def _primary_key(columns: list[str], *, session_required: bool) -> None:
    """Replace the table's primary key: in place on PostgreSQL; on SQLite, which cannot alter a
    key, by copying the rows into a new table that takes the old one's place."""
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(f"{TABLE}_pkey", TABLE, type_="primary")
        op.alter_column(TABLE, "session_id", existing_type=ID, nullable=not session_required)
        op.create_primary_key(f"{TABLE}_pkey", TABLE, columns)
        return
    copy = f"_{TABLE}_{revision}"
    op.create_table(
        copy,
        sa.Column("tenant_id", ID, nullable=False),
        sa.Column("session_id", ID, nullable=not session_required),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("scope", sa.String(300), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(*columns),
    )
    names = "tenant_id, session_id, key, scope, request_hash, result, created_at"
    op.execute(f"INSERT INTO {copy} ({names}) SELECT {names} FROM {TABLE}")
    op.drop_table(TABLE)
    op.rename_table(copy, TABLE)
    op.create_index("ix_idempotency_created", TABLE, ["tenant_id", "created_at"])
