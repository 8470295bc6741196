"""Sessions keep their title's caseless form beside it, for searches by title.

A search compared `lower(title)` (SQLite, ASCII letters only) or `title ILIKE` (PostgreSQL,
about three times the cost per row of a plain LIKE) with the words sought. Now both backends
compare `title_folded LIKE` with the folded words (`rules.folded`): caseless beyond ASCII, and
the same on both. Existing titles are folded here, in Python, in batches (1M sessions: see
bench/RESULTS.md for the time it takes).

Revision ID: 0002_title_folded
Revises: 0001_initial
Create Date: 2026-11-21
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from convostore.rules import folded

revision = "0002_title_folded"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

BATCH = 5_000


def upgrade() -> None:
    op.add_column("sessions", sa.Column("title_folded", sa.Text, nullable=False, server_default=""))
    _fold_titles(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("title_folded")


def _fold_titles(conn: sa.Connection) -> None:
    """Every stored title's folded form, a batch of sessions at a time in key order."""
    sessions = sa.table(
        "sessions", sa.column("tenant_id"), sa.column("id"), sa.column("title"),
        sa.column("title_folded"),
    )  # fmt: skip
    read = (
        sa.select(sessions.c.tenant_id, sessions.c.id, sessions.c.title)
        .where(sessions.c.title != "")
        .order_by(sessions.c.tenant_id, sessions.c.id)
        .limit(BATCH)
    )
    write = (
        sessions.update()
        .where(sessions.c.tenant_id == sa.bindparam("t"), sessions.c.id == sa.bindparam("i"))
        .values(title_folded=sa.bindparam("f"))
    )
    after: tuple[Any, Any] | None = None
    while True:
        page = read
        if after is not None:
            page = read.where(sa.tuple_(sessions.c.tenant_id, sessions.c.id) > sa.tuple_(*after))
        rows = conn.execute(page).all()
        if not rows:
            return
        conn.execute(write, [{"t": t, "i": i, "f": folded(title)} for t, i, title in rows])
        after = (rows[-1][0], rows[-1][1])
