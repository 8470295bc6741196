"""`/sessions/{id}/runs`, `/run-previews` and `/runs/{run_id}`: a session's runs, AgentOS-style.

A long list is sent as it is read, a chunk of runs at a time (`reading`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from convostore.compat.agno.runs_map import RUN_STATUSES, to_run
from convostore.errors import NotFound
from convostore.models import JSONObject, RunQuery, Session, SessionType
from convostore.server.compat.agno.access import Target, session_target
from convostore.server.compat.agno.errors import bad_request, not_found
from convostore.server.compat.agno.reading import Shape, Turns, find_implied, recorded_run, turns
from convostore.server.fastpath import LeanRoute
from convostore.server.responses import JSONResponse
from convostore.server.streaming import JSONStream, Streamed, read_chunks

router = APIRouter(route_class=LeanRoute, tags=["Sessions"])
Agno = Annotated[Target, Depends(session_target)]
TypeParam = Annotated[SessionType | None, Query(alias="type")]
Statuses = Annotated[list[str] | None, Query()]


def _session(target: Target, session_id: str, user_id: str | None) -> Session:
    try:
        return target.service.get_session(target.for_user(user_id), session_id)
    except NotFound:
        raise not_found(f"Session with ID {session_id} not found") from None


def _query(after: int | None, before: int | None, status: list[str] | None) -> RunQuery:
    """Inclusive epoch-second bounds and a case-insensitive status list (400 on unknown ones)."""
    wanted = sorted({s.upper() for s in status}) if status else None
    unknown = [s for s in wanted or () if s not in RUN_STATUSES]
    if unknown:
        raise bad_request(
            f"Invalid status value(s) {unknown}; expected one of {sorted(RUN_STATUSES)}"
        )
    return RunQuery(
        created_after=_moment(after, "created_after"),
        created_before=_moment(before, "created_before", end_of_second=True),
        statuses=wanted,
    )


def _moment(epoch: int | None, name: str, *, end_of_second: bool = False) -> datetime | None:
    """Epoch seconds as a datetime; one outside the years 1 to 9999 is a 400, not a crash."""
    if epoch is None:
        return None
    try:
        moment = datetime.fromtimestamp(epoch, UTC)
        return moment + timedelta(microseconds=999_999) if end_of_second else moment
    except (OverflowError, OSError, ValueError):
        raise bad_request(f"{name} must be epoch seconds within the years 1 to 9999") from None


@dataclass(frozen=True)
class _Listing:
    """How a streamed runs answer goes on: the reader of the rest."""

    rest: Turns


def _first_runs(
    target: Target,
    session_id: str,
    session_type: str | None,
    user_id: str | None,
    after: int | None,
    before: int | None,
    status: list[str] | None,
    previews: bool,
) -> tuple[list[JSONObject], _Listing | None]:
    """The first runs of the answer (all of them for most sessions), and how the rest is read."""
    query = _query(after, before, status)
    session = _session(target, session_id, user_id)
    shape = Shape(session_type or session.type, previews)
    first, rest = turns(target.db, target.service, target.for_user(user_id), session, query, shape)
    return first, (_Listing(rest) if rest is not None else None)


def _more_runs(listing: _Listing) -> tuple[list[JSONObject], _Listing | None]:
    chunk, rest = listing.rest.take()
    return chunk, (listing if rest is not None else None)


async def _runs_answer(
    target: Target,
    session_id: str,
    session_type: str | None,
    filters: tuple[str | None, int | None, int | None, list[str] | None],
    *,
    previews: bool,
) -> Response:
    """The runs list (or its previews): at once when small, else sent as it is read."""
    first, rest = await target.db.read(
        _first_runs, target, session_id, session_type, *filters, previews
    )
    if rest is None and not any(_holds_streams(b) for b in first):
        return JSONResponse(first)
    more = read_chunks(target.db, _more_runs, rest) if rest is not None else None
    return JSONStream(Streamed(first, more))


@router.get(
    "/sessions/{session_id}/runs", operation_id="get_session_runs", summary="Get Session Runs"
)
async def get_session_runs(
    target: Agno,
    session_id: str,
    session_type: TypeParam = None,
    user_id: str | None = None,
    created_after: int | None = None,
    created_before: int | None = None,
    status: Statuses = None,
    db_id: str | None = None,
    table: str | None = None,
) -> Response:
    filters = (user_id, created_after, created_before, status)
    return await _runs_answer(target, session_id, session_type, filters, previews=False)


@router.get(
    "/sessions/{session_id}/run-previews",
    operation_id="get_session_run_previews",
    summary="Get Session Run Previews",
)
async def get_session_run_previews(
    target: Agno,
    session_id: str,
    session_type: TypeParam = None,
    user_id: str | None = None,
    created_after: int | None = None,
    created_before: int | None = None,
    status: Statuses = None,
    db_id: str | None = None,
    table: str | None = None,
) -> Response:
    filters = (user_id, created_after, created_before, status)
    return await _runs_answer(target, session_id, session_type, filters, previews=True)


@router.get(
    "/sessions/{session_id}/runs/{run_id}",
    operation_id="get_session_run",
    summary="Get Run by ID",
)
async def get_session_run(
    target: Agno,
    session_id: str,
    run_id: str,
    session_type: TypeParam = None,
    user_id: str | None = None,
    db_id: str | None = None,
    table: str | None = None,
) -> Response:
    """A recorded run, or one its session's messages imply; a long one sent as it is read."""
    body = await target.db.read(_one_run, target, session_id, run_id, user_id)
    return JSONStream(body) if _holds_streams(body) else JSONResponse(body)


def _one_run(target: Target, session_id: str, run_id: str, user_id: str | None) -> JSONObject:
    session = _session(target, session_id, user_id)
    if not session.run_count and not session.message_count:
        raise not_found(f"Session with ID {session_id} has no runs")
    principal = target.for_user(user_id)
    service = target.service
    if session.run_count:
        try:
            run = service.get_run(principal, session_id, run_id)
        except NotFound:
            pass
        else:
            return recorded_run(target.db, service, principal, session, run)
    implied = find_implied(service, principal, session, run_id)
    if implied is None:
        raise not_found(f"Run with ID {run_id} not found in session {session_id}")
    return to_run(*implied, session)


def _holds_streams(body: JSONObject) -> bool:
    return any(isinstance(v, Streamed) for v in body.values())
