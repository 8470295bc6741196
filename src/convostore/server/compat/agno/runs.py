"""`/sessions/{id}/runs`, `/run-previews` and `/runs/{run_id}`: a session's runs, AgentOS-style."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from convostore.errors import NotFound
from convostore.models import JSONObject, RunQuery, Session, SessionType
from convostore.server.compat.agno.access import Target, reads, session_target
from convostore.server.compat.agno.errors import bad_request, not_found
from convostore.server.compat.agno.runs_map import (
    RUN_STATUSES,
    messages_by_run,
    to_run,
    to_run_preview,
    to_session_run,
)
from convostore.server.compat.agno.turns_map import ImpliedRun, implied_runs, in_order, matches
from convostore.server.responses import JSONResponse
from convostore.server.routing import LeanRoute

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


def _runs(
    target: Target,
    session_id: str,
    user_id: str | None,
    after: int | None,
    before: int | None,
    status: list[str] | None,
) -> tuple[Session, list[ImpliedRun]]:
    """The session's runs with their messages, in order: the recorded runs, and those its
    messages recorded outside any run imply (`turns_map`)."""
    query = _query(after, before, status)
    session = _session(target, session_id, user_id)
    principal = target.for_user(user_id)
    service = target.service
    runs = service.runs_of(principal, session, query) if session.run_count else []
    if not session.message_count:
        return session, [(r, []) for r in runs]
    messages = service.all_messages_of(principal, session, with_refs=False)
    by_run = messages_by_run(messages)
    recorded = [(r, by_run.get(r.id, [])) for r in runs]
    implied = [t for t in implied_runs(session, messages) if matches(t[0], query)]
    return session, in_order(recorded, implied)


def _listed(
    target: Target,
    session_id: str,
    session_type: str | None,
    user_id: str | None,
    after: int | None,
    before: int | None,
    status: list[str] | None,
) -> list[JSONObject]:
    """The runs list's items (the previews are made from them, as AgentOS makes them)."""
    session, runs = _runs(target, session_id, user_id, after, before, status)
    kind = session_type or session.type
    body = [to_session_run(r, messages, session, kind) for r, messages in runs]
    return [b for b in body if b is not None]


@router.get(
    "/sessions/{session_id}/runs", operation_id="get_session_runs", summary="Get Session Runs"
)
@reads
def get_session_runs(
    target: Agno,
    session_id: str,
    session_type: TypeParam = None,
    user_id: str | None = None,
    created_after: int | None = None,
    created_before: int | None = None,
    status: Statuses = None,
    db_id: str | None = None,
    table: str | None = None,
) -> JSONResponse:
    runs = _listed(target, session_id, session_type, user_id, created_after, created_before, status)
    return JSONResponse(runs)


@router.get(
    "/sessions/{session_id}/run-previews",
    operation_id="get_session_run_previews",
    summary="Get Session Run Previews",
)
@reads
def get_session_run_previews(
    target: Agno,
    session_id: str,
    session_type: TypeParam = None,
    user_id: str | None = None,
    created_after: int | None = None,
    created_before: int | None = None,
    status: Statuses = None,
    db_id: str | None = None,
    table: str | None = None,
) -> JSONResponse:
    runs = _listed(target, session_id, session_type, user_id, created_after, created_before, status)
    return JSONResponse([to_run_preview(r) for r in runs])


@router.get(
    "/sessions/{session_id}/runs/{run_id}",
    operation_id="get_session_run",
    summary="Get Run by ID",
)
@reads
def get_session_run(
    target: Agno,
    session_id: str,
    run_id: str,
    session_type: TypeParam = None,
    user_id: str | None = None,
    db_id: str | None = None,
    table: str | None = None,
) -> JSONResponse:
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
            messages = service.all_messages_of(
                principal, session, with_refs=False, run_ids=[run_id]
            )
            return JSONResponse(to_run(run, messages, session))
    if session.message_count:
        messages = service.all_messages_of(principal, session, with_refs=False)
        for implied, own in implied_runs(session, messages):
            if implied.id == run_id:
                return JSONResponse(to_run(implied, own, session))
    raise not_found(f"Run with ID {run_id} not found in session {session_id}")
