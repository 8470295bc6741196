"""Components named by sessions: one row per distinct component id, read from the sessions table.

The group-by rides the `(tenant_id, component_id, updated_at, id)` index; the component data is
taken from each component's most recently updated session.
"""

from __future__ import annotations

import sqlalchemy as sa

from convostore.components import Component
from convostore.models import SessionType
from convostore.storage.sql_base import SqlBase
from convostore.storage.tables import sessions


class ComponentsPart(SqlBase):
    def list_components(
        self,
        tenant_id: str,
        component_type: SessionType,
        *,
        user_id: str | None = None,
        limit: int = 500,
    ) -> list[Component]:
        conditions = [
            sessions.c.tenant_id == tenant_id,
            sessions.c.type == component_type,
            sessions.c.component_id.is_not(None),
        ]
        if user_id is not None:
            conditions.append(sessions.c.user_id == user_id)
        latest = sa.func.max(sessions.c.updated_at).label("latest")
        grouped = (
            sa.select(sessions.c.component_id, latest, sa.func.count().label("n"))
            .where(*conditions)
            .group_by(sessions.c.component_id)
            .order_by(latest.desc(), sessions.c.component_id)
            .limit(limit)
            .subquery()
        )
        stmt = (
            sa.select(
                grouped.c.component_id,
                grouped.c.n,
                grouped.c.latest,
                sessions.c.component_data,
            )
            .join(
                sessions,
                sa.and_(
                    sessions.c.tenant_id == tenant_id,
                    sessions.c.component_id == grouped.c.component_id,
                    sessions.c.updated_at == grouped.c.latest,
                    sessions.c.type == component_type,
                ),
            )
            .order_by(grouped.c.latest.desc(), grouped.c.component_id)
        )
        if user_id is not None:
            stmt = stmt.where(sessions.c.user_id == user_id)
        seen: dict[str, Component] = {}
        with self.read() as conn:
            for row in conn.execute(stmt):
                if row.component_id not in seen:
                    seen[row.component_id] = Component(
                        id=row.component_id,
                        type=component_type,
                        data=row.component_data,
                        session_count=row.n,
                    )
        return list(seen.values())
