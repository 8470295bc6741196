"""Memories: facts about end users, listed by keyset or offset, with topic and text filters."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from convostore.errors import Conflict
from convostore.ids import from_micros, to_micros
from convostore.models import Memory, MemoryQuery, Page, UserMemoryStats
from convostore.storage.row_reads import memory_from_row
from convostore.storage.row_writes import memory_to_row
from convostore.storage.search_index import delete_memory_docs, write_docs
from convostore.storage.sql_base import Filters, PageRequest, SqlBase, like_pattern
from convostore.storage.tables import memories


def _scoped(stmt: Any, scope_user: str | None) -> Any:
    return stmt if scope_user is None else stmt.where(memories.c.user_id == scope_user)


MEMORY_FILTERS: Filters = {
    "tenant_id": lambda v: memories.c.tenant_id == v,
    "user_id": lambda v: memories.c.user_id == v,
    "agent_id": lambda v: memories.c.agent_id == v,
    "team_id": lambda v: memories.c.team_id == v,
    "search": lambda v: memories.c.memory.ilike(v, escape="\\"),
}


# what a page of memories counts against its byte budget
_LARGE_MEMORY_COLUMNS = ("memory", "topics", "source", "extra")


def _topic_filter(value: sa.BindParameter[Any]) -> sa.ColumnElement[bool]:
    return sa.cast(memories.c.topics, sa.Text).like(value, escape="\\")


class MemoriesPart(SqlBase):
    def create_memory(self, tenant_id: str, memory: Memory) -> Memory:
        with self.write() as conn:
            done = conn.execute(
                self.insert(memories)
                .values(**memory_to_row(tenant_id, memory))
                .on_conflict_do_nothing(index_elements=["tenant_id", "id"])
                .returning(memories.c.id)
            ).first()
            if done is None:
                raise Conflict(f"memory {memory.id!r} already exists", param="id")
            created = to_micros(memory.created_at)
            write_docs(conn, self.doc_rows.memory_rows(tenant_id, memory, created))
        return memory

    def get_memory(
        self, tenant_id: str, memory_id: str, *, scope_user: str | None = None
    ) -> Memory | None:
        stmt = _scoped(
            sa.select(memories).where(
                memories.c.tenant_id == tenant_id, memories.c.id == memory_id
            ),
            scope_user,
        )
        with self.read() as conn:
            row = conn.execute(stmt).mappings().first()
        return memory_from_row(row) if row else None

    def replace_memory(
        self, tenant_id: str, memory: Memory, *, scope_user: str | None = None
    ) -> Memory | None:
        values = memory_to_row(tenant_id, memory)
        values.pop("created_at")
        stmt = _scoped(
            memories.update().where(memories.c.tenant_id == tenant_id, memories.c.id == memory.id),
            scope_user,
        )
        with self.write() as conn:
            if conn.execute(stmt.values(**values)).rowcount == 0:
                return None
            row = (
                conn.execute(
                    sa.select(memories).where(
                        memories.c.tenant_id == tenant_id, memories.c.id == memory.id
                    )
                )
                .mappings()
                .one()
            )
            replaced = memory_from_row(row)
            delete_memory_docs(conn, tenant_id, [memory.id])
            created = to_micros(replaced.created_at)
            write_docs(conn, self.doc_rows.memory_rows(tenant_id, replaced, created))
        return replaced

    def delete_memories(
        self, tenant_id: str, memory_ids: list[str], *, scope_user: str | None = None
    ) -> int:
        if not memory_ids:
            return 0
        stmt = _scoped(
            memories.delete().where(
                memories.c.tenant_id == tenant_id, memories.c.id.in_(memory_ids)
            ),
            scope_user,
        )
        with self.write() as conn:
            deleted = [r[0] for r in conn.execute(stmt.returning(memories.c.id))]
            if deleted:
                delete_memory_docs(conn, tenant_id, deleted)
            return len(deleted)

    def list_memories(
        self, tenant_id: str, query: MemoryQuery, *, max_bytes: int | None = None
    ) -> Page[Memory]:
        values: dict[str, Any] = {"tenant_id": tenant_id}
        for name in ("user_id", "agent_id", "team_id"):
            value = getattr(query, name)
            if value is not None:
                values[name] = value
        if query.search:
            values["search"] = like_pattern(query.search)
        filters = dict(MEMORY_FILTERS)
        for index, topic in enumerate(query.topics or ()):
            # topics are a JSON array of strings; match the quoted element as text
            quoted = '"' + topic.replace("\\", "\\\\").replace('"', '\\"') + '"'
            values[f"topic_{index}"] = like_pattern(quoted)
            filters[f"topic_{index}"] = _topic_filter
        request = PageRequest.of(query)
        if max_bytes is not None and query.offset is None and not query.include_total:
            return self.budgeted_page(
                memories,
                filters,
                values,
                request,
                memory_from_row,
                large=_LARGE_MEMORY_COLUMNS,
                max_bytes=max_bytes,
            )
        return self.page(memories, filters, values, request, memory_from_row)

    def memory_topics(self, tenant_id: str, *, user_id: str | None = None) -> list[str]:
        stmt = sa.select(memories.c.topics).where(
            memories.c.tenant_id == tenant_id, memories.c.topics.is_not(None)
        )
        if user_id is not None:
            stmt = stmt.where(memories.c.user_id == user_id)
        topics: set[str] = set()
        with self.read() as conn:
            for (value,) in conn.execute(stmt):
                topics.update(t for t in value or () if isinstance(t, str))
        return sorted(topics)

    def user_memory_stats(
        self, tenant_id: str, *, user_id: str | None, limit: int, offset: int
    ) -> tuple[list[UserMemoryStats], int]:
        conditions: list[Any] = [memories.c.tenant_id == tenant_id]
        if user_id is not None:
            conditions.append(memories.c.user_id == user_id)
        last = sa.func.max(memories.c.updated_at)
        grouped = (
            sa.select(memories.c.user_id, sa.func.count().label("n"), last.label("last"))
            .where(*conditions)
            .group_by(memories.c.user_id)
        )
        stmt = grouped.order_by(last.desc(), memories.c.user_id).limit(limit).offset(offset)
        count = sa.select(sa.func.count(sa.distinct(memories.c.user_id))).where(*conditions)
        with self.read() as conn:
            rows = conn.execute(stmt).all()
            total = conn.execute(count).scalar_one()
        stats = [
            UserMemoryStats(
                user_id=r.user_id,
                total_memories=r.n,
                last_memory_updated_at=from_micros(r.last) if r.last else None,
            )
            for r in rows
        ]
        return stats, total
