"""`/v1/evidence`: which messages cited a source (a video, a document), and where in it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from convostore.models import EvidenceHit, EvidenceQuery, EvidenceRef, Principal
from convostore.server.authn import principal_from
from convostore.server.context import context
from convostore.server.fastpath import LeanRoute
from convostore.server.native.schemas import ERRORS
from convostore.server.responses import JSONResponse

router = APIRouter(
    route_class=LeanRoute, prefix="/v1/evidence", tags=["evidence"], responses=ERRORS
)
Caller = Annotated[Principal, Depends(principal_from)]


class EvidenceHitOut(BaseModel):
    object: Literal["evidence"] = "evidence"
    session_id: str
    seq: int
    message_id: str | None
    ref_index: int
    source_kind: str
    source_id: str
    start: float | None
    end: float | None
    ref: EvidenceRef | None


class EvidenceListOut(BaseModel):
    object: Literal["list"] = "list"
    data: list[EvidenceHitOut]
    has_more: bool
    next_cursor: str | None


def evidence_json(hit: EvidenceHit) -> dict[str, Any]:
    return {
        "object": "evidence",
        "session_id": hit.session_id,
        "seq": hit.seq,
        "message_id": hit.message_id,
        "ref_index": hit.ref_index,
        "source_kind": hit.source_kind,
        "source_id": hit.source_id,
        "start": hit.start,
        "end": hit.end,
        "ref": hit.ref.model_dump() if hit.ref is not None else None,
    }


@router.get("", response_model=EvidenceListOut, summary="Find evidence by source and time range")
async def find_evidence(
    request: Request,
    caller: Caller,
    source_id: Annotated[str, Query(min_length=1, description="the cited source's id")],
    session_id: Annotated[str | None, Query(description="only citations in this session")] = None,
    start: Annotated[
        float | None, Query(description="seconds; citations ending at or after this")
    ] = None,
    end: Annotated[
        float | None, Query(description="seconds; citations starting at or before this")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    after: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> JSONResponse:
    ctx = context(request)
    query = EvidenceQuery(
        source_id=source_id,
        session_id=session_id,
        start=start,
        end=end,
        limit=limit,
        after=after,
    )
    service = ctx.service
    page = await ctx.db.read(service.find_evidence, caller, query)
    return JSONResponse(
        {
            "object": "list",
            "data": [evidence_json(hit) for hit in page.items],
            "has_more": page.has_more,
            "next_cursor": page.next_cursor,
        }
    )
