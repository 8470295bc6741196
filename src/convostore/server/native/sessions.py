"""`/v1/sessions`: create, list, read, patch and delete sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from convostore.errors import NotFound
from convostore.models import (
    Message,
    MessageQuery,
    Page,
    Principal,
    Session,
    SessionPatch,
    SessionQuery,
    SessionType,
    SortField,
    SortOrder,
)
from convostore.server.authn import principal_from
from convostore.server.context import context
from convostore.server.fastpath import LeanRoute
from convostore.server.native.schemas import (
    ERRORS,
    CreateSessionBody,
    DeletedOut,
    SessionDetailOut,
    SessionListOut,
    SessionOut,
    list_json,
    message_json,
    session_item_json,
    session_json,
)
from convostore.server.responses import JSONResponse
from convostore.service import SessionService

router = APIRouter(
    route_class=LeanRoute, prefix="/v1/sessions", tags=["sessions"], responses=ERRORS
)
Caller = Annotated[Principal, Depends(principal_from)]


@router.post("", status_code=201, response_model=SessionOut, summary="Create a session")
async def create_session(request: Request, body: CreateSessionBody, caller: Caller) -> JSONResponse:
    ctx = context(request)
    session = await ctx.db.write(ctx.service.create_session, caller, body)
    return JSONResponse(session_json(session), status_code=201)


class ListSessionsParams(BaseModel):
    """The query parameters of `GET /v1/sessions`, validated in one pass."""

    model_config = ConfigDict(extra="ignore")

    user_id: str | None = None
    type: SessionType | None = None
    component_id: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    q: str | None = Field(
        None, description="title substring, caseless (Unicode case folding: strasse finds Straße)"
    )
    sort: SortField = "updated_at"
    order: SortOrder = "desc"
    limit: int = Field(20, ge=1, le=200)
    after: str | None = Field(None, description="next_cursor of the previous page")
    include_total: bool = False


@router.get("", response_model=SessionListOut, summary="List sessions")
async def list_sessions(
    request: Request, caller: Caller, params: Annotated[ListSessionsParams, Query()]
) -> JSONResponse:
    ctx = context(request)
    query = SessionQuery(**params.__dict__, brief=True)  # its fields, without model_dump's walk
    service = ctx.service
    page = await ctx.db.read(service.list_sessions, caller, query)
    body = list_json([session_item_json(s) for s in page.items], page.has_more, page.next_cursor)
    if params.include_total:
        body["total_count"] = page.total
    return JSONResponse(body)


@router.get("/{session_id}", response_model=SessionDetailOut, summary="Read a session")
async def get_session(
    request: Request,
    session_id: str,
    caller: Caller,
    include_messages: Annotated[
        int, Query(ge=0, le=1000, description="also return the first N messages")
    ] = 0,
) -> JSONResponse:
    ctx = context(request)
    service = ctx.service
    session, page = await ctx.db.read(_detail, service, caller, session_id, include_messages)
    body = session_json(session)
    if page is not None:
        body["messages"] = list_json(
            [message_json(m) for m in page.items], page.has_more, page.next_cursor
        )
    return JSONResponse(body)


def _detail(
    service: SessionService, caller: Principal, session_id: str, include_messages: int
) -> tuple[Session, Page[Message] | None]:
    """The session and its first messages, in one call (one thread hop on a network database)."""
    session = service.get_session(caller, session_id)
    if not include_messages:
        return session, None
    return session, service.messages_of(caller, session, MessageQuery(limit=include_messages))


@router.patch("/{session_id}", response_model=SessionOut, summary="Update a session")
async def update_session(
    request: Request, session_id: str, body: SessionPatch, caller: Caller
) -> JSONResponse:
    ctx = context(request)
    session = await ctx.db.write(ctx.service.update_session, caller, session_id, body)
    return JSONResponse(session_json(session))


@router.delete("/{session_id}", response_model=DeletedOut, summary="Delete a session")
async def delete_session(request: Request, session_id: str, caller: Caller) -> JSONResponse:
    ctx = context(request)
    if not await ctx.db.write(ctx.service.delete_sessions, caller, [session_id]):
        raise NotFound(f"session {session_id!r} not found", param="session_id")
    return JSONResponse({"object": "session", "id": session_id, "deleted": True})
