"""Components named by sessions: one row per distinct component id, read from the sessions table.

The group-by rides the `(tenant_id, component_id, updated_at, id)` index. A component is described
by the component data of its most recently updated session among those that may describe it (see
`components.py`): for a tenant-wide view, sessions whose component a tenant-wide key wrote; for a
view confined to one user, that user's own sessions. A component no such session describes is
listed by its id alone.
"""

from __future__ import annotations

import sqlalchemy as sa

from convostore.models import Component, SessionType
from convostore.storage.sql_base import SqlBase
from convostore.storage.tables import sessions


class ComponentsPart(SqlBase):
    def list_components(
        self,
        tenant_id: str,
        component_type: SessionType,
        *,
        user_id: str | None = None,
        component_id: str | None = None,
        limit: int = 500,
    ) -> list[Component]:
        conditions = [
            sessions.c.tenant_id == tenant_id,
            sessions.c.type == component_type,
            sessions.c.component_id.is_not(None),
        ]
        if user_id is not None:
            conditions.append(sessions.c.user_id == user_id)
        if component_id is not None:
            conditions.append(sessions.c.component_id == component_id)
        latest = sa.func.max(sessions.c.updated_at).label("latest")
        grouped = (
            sa.select(sessions.c.component_id, latest, sa.func.count().label("n"))
            .where(*conditions)
            .group_by(sessions.c.component_id)
            .order_by(latest.desc(), sessions.c.component_id)
            .limit(limit)
            .subquery()
        )
        describing = [*conditions]
        if user_id is None:
            describing.append(sessions.c.component_trusted.is_(True))
        described_at = sa.func.max(sessions.c.updated_at).label("at")
        described = (
            sa.select(sessions.c.component_id, described_at)
            .where(*describing)
            .group_by(sessions.c.component_id)
            .subquery()
        )
        source = sessions.alias("source")
        matches = [
            source.c.tenant_id == tenant_id,
            source.c.component_id == grouped.c.component_id,
            source.c.updated_at == described.c.at,
            source.c.type == component_type,
        ]
        if user_id is not None:
            matches.append(source.c.user_id == user_id)
        else:
            matches.append(source.c.component_trusted.is_(True))
        stmt = (
            sa.select(grouped.c.component_id, grouped.c.n, source.c.component_data)
            .select_from(
                grouped.outerjoin(
                    described, described.c.component_id == grouped.c.component_id
                ).outerjoin(source, sa.and_(*matches))
            )
            .order_by(grouped.c.latest.desc(), grouped.c.component_id)
        )
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
