"""`/v1/memories`: facts about end users that agents keep between sessions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from convostore.errors import NotFound
from convostore.models import MemoryQuery, NewMemory, Principal, SortOrder
from convostore.server.authn import principal_from
from convostore.server.context import context
from convostore.server.fastpath import LeanRoute
from convostore.server.native.schemas import (
    ERRORS,
    DeletedOut,
    MemoryBody,
    MemoryOut,
    list_json,
    memory_json,
)
from convostore.server.responses import JSONResponse

router = APIRouter(
    route_class=LeanRoute, prefix="/v1/memories", tags=["memories"], responses=ERRORS
)
Caller = Annotated[Principal, Depends(principal_from)]


@router.post("", status_code=201, response_model=MemoryOut, summary="Create a memory")
async def create_memory(request: Request, body: MemoryBody, caller: Caller) -> JSONResponse:
    ctx = context(request)
    new = NewMemory(**body.model_dump())
    memory = await ctx.db.write(ctx.service.create_memory, caller, new)
    return JSONResponse(memory_json(memory), status_code=201)


@router.get("", summary="List memories")
async def list_memories(
    request: Request,
    caller: Caller,
    user_id: str | None = None,
    agent_id: str | None = None,
    team_id: str | None = None,
    topic: Annotated[list[str] | None, Query(description="repeatable; all must match")] = None,
    search: str | None = None,
    order: SortOrder = "desc",
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    after: str | None = None,
) -> JSONResponse:
    ctx = context(request)
    query = MemoryQuery(
        user_id=user_id,
        agent_id=agent_id,
        team_id=team_id,
        topics=topic,
        search=search,
        order=order,
        limit=limit,
        after=after,
    )
    service = ctx.service
    page = await ctx.db.read(service.list_memories, caller, query, budgeted=True)
    items = [memory_json(m) for m in page.items]
    return JSONResponse(list_json(items, page.has_more, page.next_cursor))


@router.get("/{memory_id}", response_model=MemoryOut, summary="Read a memory")
async def get_memory(request: Request, memory_id: str, caller: Caller) -> JSONResponse:
    ctx = context(request)
    service = ctx.service
    memory = await ctx.db.read(service.get_memory, caller, memory_id)
    return JSONResponse(memory_json(memory))


@router.put("/{memory_id}", response_model=MemoryOut, summary="Replace a memory")
async def replace_memory(
    request: Request, memory_id: str, body: MemoryBody, caller: Caller
) -> JSONResponse:
    ctx = context(request)
    new = NewMemory(**body.model_dump(exclude={"id"}))
    memory = await ctx.db.write(ctx.service.replace_memory, caller, memory_id, new)
    return JSONResponse(memory_json(memory))


@router.delete("/{memory_id}", response_model=DeletedOut, summary="Delete a memory")
async def delete_memory(request: Request, memory_id: str, caller: Caller) -> JSONResponse:
    ctx = context(request)
    if not await ctx.db.write(ctx.service.delete_memories, caller, [memory_id]):
        raise NotFound(f"memory {memory_id!r} not found", param="memory_id")
    return JSONResponse({"object": "memory", "id": memory_id, "deleted": True})
