"""`/v1/sessions/{id}/messages` and `/v1/sessions/{id}/runs`: the append and read paths."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from starlette.responses import Response

from convostore.models import (
    MessageQuery,
    NewRun,
    NewSession,
    Principal,
    Run,
    RunQuery,
    SortOrder,
)
from convostore.server.authn import principal_from
from convostore.server.context import context
from convostore.server.fastpath import LeanRoute
from convostore.server.native.schemas import (
    ERRORS,
    AppendMessagesBody,
    MessageListOut,
    RecordRunBody,
    RunListOut,
    RunOut,
    list_json,
    message_json,
    run_json,
)
from convostore.server.responses import JSONResponse
from convostore.server.streaming import JSONStream, first_and_rest
from convostore.service import SessionService

router = APIRouter(
    route_class=LeanRoute,
    prefix="/v1/sessions/{session_id}",
    tags=["messages and runs"],
    responses=ERRORS,
)
Caller = Annotated[Principal, Depends(principal_from)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="a retry with the same key returns the first answer and writes nothing",
    ),
]


def _replay_headers(replayed: bool) -> dict[str, str]:
    return {"Idempotent-Replayed": "true"} if replayed else {}


@router.post("/messages", status_code=201, response_model=MessageListOut, summary="Append messages")
async def append_messages(
    request: Request,
    session_id: str,
    body: AppendMessagesBody,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    ctx = context(request)
    create = (body.session or NewSession()) if body.create_if_missing else None
    appended = await ctx.db.write(
        ctx.service.append_messages,
        caller,
        session_id,
        body.messages,
        idempotency_key=idempotency_key,
        create_if_missing=create,
    )
    payload = list_json([message_json(m) for m in appended.messages], False, None)
    payload["session_id"] = appended.session_id
    return JSONResponse(payload, status_code=201, headers=_replay_headers(appended.replayed))


@router.get("/messages", response_model=MessageListOut, summary="Read messages by seq")
async def list_messages(
    request: Request,
    session_id: str,
    caller: Caller,
    after: Annotated[int | None, Query(ge=0, description="only messages with seq > after")] = None,
    before: Annotated[
        int | None, Query(ge=1, description="only messages with seq < before")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    order: SortOrder = "asc",
    run_id: Annotated[list[str] | None, Query(description="only messages of these runs")] = None,
) -> JSONResponse:
    ctx = context(request)
    query = MessageQuery(after=after, before=before, limit=limit, order=order, run_ids=run_id)
    service = ctx.service
    page = await ctx.db.read(service.list_messages, caller, session_id, query)
    items = [message_json(m) for m in page.items]
    return JSONResponse(list_json(items, page.has_more, page.next_cursor))


@router.post("/runs", status_code=201, response_model=RunOut, summary="Record a run")
async def record_run(
    request: Request,
    session_id: str,
    body: RecordRunBody,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    ctx = context(request)
    create = (body.session or NewSession()) if body.create_if_missing else None
    run = NewRun.model_validate(body.model_dump(exclude={"create_if_missing", "session"}))
    appended = await ctx.db.write(
        ctx.service.record_run,
        caller,
        session_id,
        run,
        idempotency_key=idempotency_key,
        create_if_missing=create,
    )
    assert appended.run is not None
    return JSONResponse(
        run_json(appended.run, appended.messages),
        status_code=201,
        headers=_replay_headers(appended.replayed),
    )


@router.get("/runs", response_model=RunListOut, summary="List a session's runs")
async def list_runs(
    request: Request,
    session_id: str,
    caller: Caller,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    status: Annotated[list[str] | None, Query(description="repeatable, case-insensitive")] = None,
) -> Response:
    """Every run of the session; a long list is read and sent a page at a time."""
    ctx = context(request)
    query = RunQuery(created_after=created_after, created_before=created_before, statuses=status)
    service = ctx.service
    fetch = functools.partial(_runs_after, service, caller, session_id, query)
    start: tuple[Run, ...] = ()
    first, rest = await first_and_rest(ctx.db, fetch, start)
    if rest is None:
        return JSONResponse({"object": "list", "data": first})
    return JSONStream({"object": "list", "data": rest})


def _runs_after(
    service: SessionService,
    caller: Principal,
    session_id: str,
    query: RunQuery,
    after: tuple[Run, ...],
) -> tuple[list[dict[str, Any]], tuple[Run, ...] | None]:
    """The runs after the one in `after` (from the first with `()`), as JSON, and where the
    next page starts (None: nothing follows)."""
    page = service.run_page(caller, session_id, query, after=after[0] if after else None)
    following = (page.items[-1],) if page.has_more and page.items else None
    return [run_json(r) for r in page.items], following


@router.get("/runs/{run_id}", response_model=RunOut, summary="Read a run with its messages")
async def get_run(request: Request, session_id: str, run_id: str, caller: Caller) -> Response:
    """The run and every message of it; many messages are read and sent a page at a time."""
    ctx = context(request)
    service = ctx.service
    run = await ctx.db.read(service.get_run, caller, session_id, run_id)
    fetch = functools.partial(_run_messages_after, service, caller, session_id, run_id)
    first, rest = await first_and_rest(ctx.db, fetch, 0)
    body = run_json(run)
    if rest is None:
        body["messages"] = first
        return JSONResponse(body)
    body["messages"] = rest
    return JSONStream(body)


def _run_messages_after(
    service: SessionService, caller: Principal, session_id: str, run_id: str, after: int
) -> tuple[list[dict[str, Any]], int | None]:
    """The run's messages after `seq` `after`, as JSON, and the `seq` to continue after."""
    limit = service.limits.max_message_page_size
    query = MessageQuery(after=after, limit=limit, run_ids=[run_id])
    page = service.list_messages(caller, session_id, query)
    following = page.items[-1].seq if page.has_more and page.items else None
    return [message_json(m) for m in page.items], following
