"""`/memories`, `/memory_topics` and `/user_memory_stats`: user memories, AgentOS-style."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from convostore.compat.agno.memories_map import (
    parse_topics,
    to_agno_memory,
    to_agno_user_stats,
)
from convostore.compat.agno.schemas import DeleteMemoriesRequest, UserMemoryCreateSchema
from convostore.errors import NotFound
from convostore.models import Memory, MemoryQuery, NewMemory, SortOrder
from convostore.server.compat.agno.access import Target, memory_target
from convostore.server.compat.agno.errors import AgnoError, bad_request, not_found
from convostore.server.fastpath import LeanRoute
from convostore.server.responses import JSONResponse

router = APIRouter(route_class=LeanRoute, tags=["Memory"])
Agno = Annotated[Target, Depends(memory_target)]
_SORTS = ("updated_at", "created_at")


def _owner(target: Target, requested: str | None) -> str:
    owner = target.principal.user_id or requested
    if owner is None:
        raise bad_request("User ID is required")
    return owner


def _meta(page: int, limit: int, total: int) -> dict[str, object]:
    return {
        "page": page,
        "limit": limit,
        "total_pages": math.ceil(total / limit),
        "total_count": total,
        "search_time_ms": 0.0,
    }


@router.post("/memories", operation_id="create_memory", summary="Create Memory")
async def create_memory(
    target: Agno, body: UserMemoryCreateSchema, db_id: str | None = None, table: str | None = None
) -> JSONResponse:
    new = NewMemory(
        memory=body.memory, user_id=_owner(target, body.user_id), topics=body.topics or []
    )
    memory = await target.db.write(target.service.create_memory, target.principal, new)
    return JSONResponse(to_agno_memory(memory))


@router.get("/memories", operation_id="get_memories", summary="List Memories")
async def get_memories(
    target: Agno,
    user_id: str | None = None,
    agent_id: str | None = None,
    team_id: str | None = None,
    topics: Annotated[list[str] | None, Query()] = None,
    search_content: str | None = None,
    limit: Annotated[int, Query(ge=1)] = 20,
    page: Annotated[int, Query(ge=1)] = 1,
    sort_by: str = "updated_at",
    sort_order: SortOrder = "desc",
    db_id: str | None = None,
    table: str | None = None,
) -> JSONResponse:
    if sort_by not in _SORTS:
        raise bad_request(f"Invalid sort_by '{sort_by}'; expected one of updated_at, created_at")
    query = MemoryQuery(
        user_id=user_id,
        agent_id=agent_id,
        team_id=team_id,
        topics=parse_topics(topics),
        search=search_content or None,
        sort=sort_by,
        order=sort_order,
        limit=limit,
        offset=(page - 1) * limit,
        include_total=True,
    )
    found = await target.db.read(target.service.list_memories, target.principal, query)
    items = [to_agno_memory(m) for m in found.items]
    return JSONResponse({"data": items, "meta": _meta(page, limit, found.total or 0)})


def _memory(target: Target, memory_id: str, user_id: str | None) -> Memory:
    try:
        return target.service.get_memory(target.for_user(user_id), memory_id)
    except NotFound:
        raise not_found(f"Memory with ID {memory_id} not found") from None


@router.get("/memories/{memory_id}", operation_id="get_memory", summary="Get Memory by ID")
async def get_memory(
    target: Agno,
    memory_id: str,
    user_id: str | None = None,
    db_id: str | None = None,
    table: str | None = None,
) -> JSONResponse:
    return JSONResponse(to_agno_memory(await target.db.read(_memory, target, memory_id, user_id)))


@router.patch("/memories/{memory_id}", operation_id="update_memory", summary="Update Memory")
async def update_memory(
    target: Agno,
    memory_id: str,
    body: UserMemoryCreateSchema,
    db_id: str | None = None,
    table: str | None = None,
) -> JSONResponse:
    """A full replace, as in AgentOS: topics left out become empty; an unknown id is created."""
    owner = _owner(target, body.user_id)
    new = NewMemory(memory=body.memory, user_id=owner, topics=body.topics or [])
    try:
        memory = await target.db.write(target.service.put_memory, target.principal, memory_id, new)
    except NotFound:
        raise AgnoError(404, "Memory not found") from None
    return JSONResponse(to_agno_memory(memory))


@router.delete(
    "/memories/{memory_id}", status_code=204, operation_id="delete_memory", summary="Delete"
)
async def delete_memory(
    target: Agno,
    memory_id: str,
    user_id: str | None = None,
    db_id: str | None = None,
    table: str | None = None,
) -> Response:
    await target.db.write(
        target.service.delete_memories, target.principal, [memory_id], user_id=user_id
    )
    return Response(status_code=204)


@router.delete("/memories", status_code=204, operation_id="delete_memories", summary="Delete")
async def delete_memories(
    target: Agno, body: DeleteMemoriesRequest, db_id: str | None = None, table: str | None = None
) -> Response:
    await target.db.write(
        target.service.delete_memories, target.principal, body.memory_ids, user_id=body.user_id
    )
    return Response(status_code=204)


@router.get("/memory_topics", operation_id="get_memory_topics", summary="Get Memory Topics")
async def get_memory_topics(
    target: Agno, user_id: str | None = None, db_id: str | None = None, table: str | None = None
) -> JSONResponse:
    return JSONResponse(
        await target.db.read(target.service.memory_topics, target.principal, user_id)
    )


@router.get(
    "/user_memory_stats", operation_id="get_user_memory_stats", summary="Get User Memory Stats"
)
async def get_user_memory_stats(
    target: Agno,
    limit: Annotated[int, Query(ge=1)] = 20,
    page: Annotated[int, Query(ge=1)] = 1,
    user_id: str | None = None,
    db_id: str | None = None,
    table: str | None = None,
) -> JSONResponse:
    stats, total = await target.db.read(
        target.service.user_memory_stats,
        target.principal,
        user_id=user_id,
        limit=limit,
        offset=(page - 1) * limit,
    )
    data = [to_agno_user_stats(s) for s in stats]
    return JSONResponse({"data": data, "meta": _meta(page, limit, total)})
