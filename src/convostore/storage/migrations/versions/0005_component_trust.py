"""Sessions record whether their component was described by a tenant-wide key.

`/agents`, `/teams` and `/config` describe each component (its name, its model) from the
component data of a session that names it. A key confined to one end user (safe to hand to a
browser) may write any component id and data into its own sessions; such descriptions must not
reach the rest of the tenant. Each session now says whether its component id and data were last
written by a tenant-wide key (`component_trusted`); tenant-wide views describe components only from
those. Sessions stored before this revision are taken as trusted: who wrote them is not known.

Revision ID: 0005_component_trust
Revises: 0004_finite_numbers
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_component_trust"
down_revision = "0004_finite_numbers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "sessions",
        sa.Column("component_trusted", sa.Boolean, nullable=False, server_default=sa.true()),
    )


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("component_trusted")
