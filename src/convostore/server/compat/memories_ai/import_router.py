"""`POST /v1/import/memories-ai`: store saved memories.ai session details under one unique_id.

A native endpoint (native errors, native auth rules): it needs a write key, and a user-scoped key
may import only into its own user. Importing is idempotent; see `convostore.importers.memories_ai`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from convostore.importers.memories_ai import import_documents
from convostore.models import Principal
from convostore.server.authn import principal_from
from convostore.server.compat.memories_ai.router import resolve_unique_id
from convostore.server.context import context
from convostore.server.fastpath import LeanRoute
from convostore.server.native.schemas import ERRORS
from convostore.server.responses import JSONResponse
from convostore.service import require_write

router = APIRouter(route_class=LeanRoute, prefix="/v1/import", tags=["import"], responses=ERRORS)
Caller = Annotated[Principal, Depends(principal_from)]


class MemoriesAiImportBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unique_id: str | None = Field(
        None, description='the end user to file the sessions under; default "default"'
    )
    sessions: list[Any] = Field(
        min_length=1,
        description="saved get_session_detail responses, or their data objects",
    )
    on_conflict: Literal["skip", "replace"] = Field(
        "skip", description="what to do with a session id that already exists for this user"
    )


class MemoriesAiImportOut(BaseModel):
    object: Literal["import.result"] = "import.result"
    unique_id: str
    sessions: int
    imported: int
    skipped: int
    messages: int
    missing_details: list[str]


@router.post(
    "/memories-ai",
    response_model=MemoriesAiImportOut,
    summary="Import saved memories.ai sessions (idempotent)",
)
async def import_memories_ai(
    request: Request, body: MemoriesAiImportBody, caller: Caller
) -> JSONResponse:
    require_write(caller)
    ctx = context(request)
    unique_id = resolve_unique_id(caller, body.unique_id, ctx.service.limits)
    result = await ctx.db.write(
        import_documents,
        ctx.service,
        caller,
        unique_id,
        body.sessions,
        on_conflict=body.on_conflict,
    )
    return JSONResponse({"object": "import.result", "unique_id": unique_id, **result.as_json()})
