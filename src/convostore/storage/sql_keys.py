"""Tenants and API keys."""

from __future__ import annotations

import sqlalchemy as sa

from convostore.ids import to_micros, utcnow
from convostore.models import ApiKey
from convostore.storage.row_reads import key_from_row
from convostore.storage.sql_base import Filters, SqlBase
from convostore.storage.tables import api_keys, tenants

_KEY_FILTERS: Filters = {"id": lambda v: api_keys.c.id == v}


class KeysPart(SqlBase):
    def ensure_tenant(self, tenant_id: str) -> None:
        with self.write() as conn:
            self._ensure_tenant(conn, tenant_id)

    def _ensure_tenant(self, conn: sa.Connection, tenant_id: str) -> None:
        stmt = self.insert(tenants).values(id=tenant_id, created_at=to_micros(utcnow()))
        conn.execute(stmt.on_conflict_do_nothing(index_elements=["id"]))

    def create_key(self, record: ApiKey, secret_hash: str) -> None:
        with self.write() as conn:
            self._ensure_tenant(conn, record.tenant_id)
            conn.execute(
                api_keys.insert().values(
                    tenant_id=record.tenant_id,
                    id=record.id,
                    secret_hash=secret_hash,
                    role=record.role,
                    user_id=record.user_id,
                    name=record.name,
                    created_at=to_micros(record.created_at),
                )
            )

    def find_key(self, key_id: str) -> tuple[ApiKey, str] | None:
        # a prepared read, like the hot ones: a key lookup never leaves the event loop for it
        rows = self.select_where(
            "key by id", lambda: sa.select(*api_keys.c), _KEY_FILTERS, {"id": key_id}
        )
        row = rows[0] if rows else None
        return (key_from_row(row), row["secret_hash"]) if row else None

    def list_keys(self, tenant_id: str) -> list[ApiKey]:
        stmt = (
            sa.select(api_keys)
            .where(api_keys.c.tenant_id == tenant_id)
            .order_by(api_keys.c.created_at, api_keys.c.id)
        )
        with self.read() as conn:
            return [key_from_row(row) for row in conn.execute(stmt).mappings()]

    def revoke_key(self, tenant_id: str, key_id: str) -> ApiKey | None:
        where = sa.and_(api_keys.c.tenant_id == tenant_id, api_keys.c.id == key_id)
        with self.write() as conn:
            conn.execute(
                api_keys.update()
                .where(where, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=to_micros(utcnow()))
            )
            row = conn.execute(sa.select(api_keys).where(where)).mappings().first()
        return key_from_row(row) if row else None

    def has_keys(self) -> bool:
        """Whether any key was ever created here: revoked keys count, since they are kept."""
        return bool(self.select_where("any key", lambda: sa.select(api_keys.c.id), {}, {}, limit=1))

    def erase_keys(self) -> int:
        """Delete every key record of every tenant, revoked ones too; returns how many."""
        with self.write() as conn:
            return conn.execute(api_keys.delete()).rowcount
