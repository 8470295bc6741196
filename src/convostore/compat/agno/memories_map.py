"""Agno user memories (`UserMemorySchema`, `UserStatsSchema`) to and from convostore memories."""

from __future__ import annotations

import json
from typing import Any

from convostore.compat.agno.wire import from_epoch, iso_z
from convostore.models import JSONObject, Memory, NewMemory, UserMemoryStats


def to_agno_memory(memory: Memory) -> JSONObject:
    """`UserMemorySchema`: every key, nulls included."""
    return {
        "memory_id": memory.id,
        "memory": memory.memory,
        "topics": memory.topics,
        "agent_id": memory.agent_id,
        "team_id": memory.team_id,
        "user_id": memory.user_id,
        "updated_at": iso_z(memory.updated_at),
    }


def to_agno_user_stats(stats: UserMemoryStats) -> JSONObject:
    return {
        "user_id": stats.user_id,
        "total_memories": stats.total_memories,
        "last_memory_updated_at": iso_z(stats.last_memory_updated_at),
    }


def parse_topics(values: list[str] | None) -> list[str] | None:
    """`topics=a,b` (Agno's form) and repeated `topics=a&topics=b` (its client's form)."""
    topics = [t.strip() for value in values or () for t in value.split(",") if t.strip()]
    return topics or None


def _memory_text(raw: Any) -> str:
    """Memories migrated from Agno 1.x may hold `{"memory": ...}` instead of a string."""
    if isinstance(raw, dict):
        if raw.get("memory") is not None:
            return str(raw["memory"])
        return json.dumps(raw, default=str)
    return "" if raw is None else str(raw)


def memory_from_agno_row(row: JSONObject) -> NewMemory:
    """An `agno_memories` row as a memory to store (the importer's path)."""
    topics = row.get("topics")
    extra: JSONObject = {}
    for key in ("input", "feedback"):
        if row.get(key) is not None:
            extra[key] = row[key]
    return NewMemory(
        id=str(row["memory_id"]),
        user_id=row.get("user_id") or None,
        memory=_memory_text(row.get("memory")),
        topics=[str(t) for t in topics] if isinstance(topics, list) else [],
        agent_id=row.get("agent_id") or None,
        team_id=row.get("team_id") or None,
        extra=extra,
        created_at=from_epoch(row.get("created_at")),
        updated_at=from_epoch(row.get("updated_at")),
    )
