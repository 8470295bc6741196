"""`/v1/search`: full-text search over messages, reasoning, evidence, titles, summaries and
memories (the query language and the order: docs/search.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from convostore.errors import InvalidRequest
from convostore.models import (
    SEARCH_KINDS,
    Principal,
    Role,
    SearchEvidence,
    SearchKind,
    SearchQuery,
    SessionType,
)
from convostore.server.authn import principal_from
from convostore.server.context import context
from convostore.server.fastpath import LeanRoute
from convostore.server.native.schemas import ERRORS, search_result_json
from convostore.server.responses import JSONResponse

router = APIRouter(route_class=LeanRoute, prefix="/v1/search", tags=["search"], responses=ERRORS)
Caller = Annotated[Principal, Depends(principal_from)]


class SearchResultOut(BaseModel):
    object: Literal["search_result"] = "search_result"
    kind: SearchKind
    session_id: str | None
    session_title: str | None
    seq: int | None
    message_id: str | None
    role: Role | None
    memory_id: str | None
    user_id: str
    created_at: datetime
    snippet: str
    score: float
    evidence: SearchEvidence | None


class SearchListOut(BaseModel):
    object: Literal["list"] = "list"
    data: list[SearchResultOut]
    has_more: bool
    next_cursor: str | None


def parse_kinds(values: list[str] | None) -> list[SearchKind] | None:
    """`kind` repeated or comma-separated; unknown kinds are a 400 naming the known ones."""
    if not values:
        return None
    kinds: list[SearchKind] = []
    for value in values:
        for name in value.split(","):
            name = name.strip()
            if not name:
                continue
            if name not in SEARCH_KINDS:
                raise InvalidRequest(
                    f"kind must be one of {', '.join(SEARCH_KINDS)}, not {name[:40]!r}",
                    param="kind",
                )
            if name not in kinds:
                kinds.append(name)
    return kinds or None


@router.get("", response_model=SearchListOut, summary="Search what was said, reasoned and cited")
async def search(
    request: Request,
    caller: Caller,
    q: Annotated[
        str,
        Query(
            description='words (all must be found); "quoted phrases"; prefix* '
            "(caseless, accent-blind; other characters are taken literally)"
        ),
    ],
    kind: Annotated[
        list[str] | None,
        Query(description="title, summary, memory, content, thinking, evidence (default: all)"),
    ] = None,
    user_id: Annotated[str | None, Query(description="only this end user's data")] = None,
    component_id: Annotated[str | None, Query(description="only this agent, team, workflow")] = (
        None
    ),
    type: Annotated[SessionType | None, Query(description="only sessions of this type")] = None,
    created_after: Annotated[datetime | None, Query()] = None,
    created_before: Annotated[datetime | None, Query()] = None,
    source_id: Annotated[
        str | None, Query(description="only messages citing this source (a video)")
    ] = None,
    start: Annotated[
        float | None, Query(description="seconds; with source_id: citations ending at or after")
    ] = None,
    end: Annotated[
        float | None, Query(description="seconds; with source_id: citations starting at or before")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    after: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> JSONResponse:
    ctx = context(request)
    query = SearchQuery(
        q=q,
        kinds=parse_kinds(kind),
        user_id=user_id,
        component_id=component_id,
        type=type,
        created_after=created_after,
        created_before=created_before,
        source_id=source_id,
        start=start,
        end=end,
        limit=limit,
        after=after,
    )
    page = await ctx.db.read(ctx.service.search, caller, query)
    return JSONResponse(
        {
            "object": "list",
            "data": [search_result_json(hit) for hit in page.items],
            "has_more": page.has_more,
            "next_cursor": page.next_cursor,
        }
    )
