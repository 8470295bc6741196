"""`/sessions`: list, create, read, rename, update and delete sessions, AgentOS-style."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query
from starlette.responses import Response

from convostore.errors import Conflict, NotFound
from convostore.models import (
    JSONObject,
    Page,
    Principal,
    Session,
    SessionQuery,
    SessionType,
    SortOrder,
)
from convostore.server.compat.agno.access import Target, reads, session_target, writes
from convostore.server.compat.agno.errors import AgnoError, bad_request, not_found
from convostore.server.compat.agno.reading import session_chat
from convostore.server.compat.agno.schemas import (
    CreateSessionRequest,
    DeleteSessionRequest,
    UpdateSessionRequest,
)
from convostore.server.compat.agno.sessions_map import (
    new_session_from_create,
    patch_from_update,
    to_session_detail,
    to_session_item,
)
from convostore.server.responses import JSONResponse
from convostore.server.routing import LeanRoute

router = APIRouter(route_class=LeanRoute, tags=["Sessions"])
Agno = Annotated[Target, Depends(session_target)]
TypeParam = Annotated[SessionType | None, Query(alias="type")]
_SORTS = {"created_at": "created_at", "updated_at": "updated_at", "session_name": "title"}


def _missing(session_id: str, session_type: str | None = None) -> AgnoError:
    prefix = f"{session_type.title()} Session" if session_type else "Session"
    return not_found(f"{prefix} with id '{session_id}' not found")


def _read(target: Target, session_id: str, user_id: str | None, kind: str | None) -> Session:
    try:
        return target.service.get_session(target.for_user(user_id), session_id)
    except NotFound:
        raise _missing(session_id, kind) from None


def _detail(
    target: Target, session: Session, kind: str | None, *, with_nulls: bool = False
) -> JSONObject:
    chat = session_chat(target.service, target.principal, session)
    return to_session_detail(session, chat, as_type=kind, with_nulls=with_nulls)


def _page(target: Target, query: SessionQuery, limit: int) -> Page[Session]:
    """A page of `limit` sessions, read in chunks the service accepts."""
    chunk = target.service.limits.max_page_size
    first = target.service.list_sessions(
        target.principal, query.model_copy(update={"limit": min(limit, chunk)})
    )
    items = list(first.items)
    offset = query.offset or 0
    while len(items) < limit and first.has_more:
        more = target.service.list_sessions(
            target.principal,
            query.model_copy(
                update={
                    "limit": min(limit - len(items), chunk),
                    "offset": offset + len(items),
                    "include_total": False,
                }
            ),
        )
        items.extend(more.items)
        if not more.has_more:
            break
    return Page(items=items, has_more=False, total=first.total)


@router.get("/sessions", operation_id="get_sessions", summary="List Sessions")
@reads
def get_sessions(
    target: Agno,
    session_type: TypeParam = None,
    component_id: str | None = None,
    user_id: str | None = None,
    session_name: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 20,
    page: Annotated[int, Query(ge=1)] = 1,
    sort_by: str = "created_at",
    sort_order: SortOrder = "desc",
    db_id: str | None = None,
    table: str | None = None,
) -> JSONResponse:
    sort = _SORTS.get(sort_by)
    if sort is None:
        raise bad_request(
            f"Invalid sort_by '{sort_by}'; expected one of created_at, updated_at, session_name"
        )
    user = target.principal.user_id or user_id
    query = SessionQuery(
        user_id=user,
        type=session_type,
        component_id=component_id,
        q=session_name or None,
        sort=sort,
        order=sort_order,
        offset=(page - 1) * limit,
        include_total=True,
    )
    found = _page(target, query, limit)
    total = found.total or 0
    meta = {
        "page": page,
        "limit": limit,
        "total_pages": math.ceil(total / limit),
        "total_count": total,
        "search_time_ms": 0.0,
    }
    return JSONResponse({"data": [to_session_item(s) for s in found.items], "meta": meta})


@router.post(
    "/sessions", status_code=201, operation_id="create_session", summary="Create New Session"
)
@writes
def create_session(
    target: Agno,
    session_type: Annotated[SessionType, Query(alias="type")] = "agent",
    body: Annotated[CreateSessionRequest | None, Body()] = None,
    db_id: str | None = None,
) -> JSONResponse:
    request = (body or CreateSessionRequest()).model_dump()
    principal = target.principal
    owner = principal.user_id or request.get("user_id")
    new = new_session_from_create(request, session_type, user_id=owner)
    if new.id is not None and _exists(target, principal, new.id):
        raise _duplicate(new.id)
    try:
        session = target.service.create_session(principal, new)
    except Conflict:
        if principal.user_id is not None:
            raise AgnoError(
                409,
                "Could not create a session with the supplied session_id. "
                "Omit session_id to have one generated, or choose a different one.",
            ) from None
        raise _duplicate(new.id or "") from None
    body_json = to_session_detail(session, [], fallback_component=None)
    return JSONResponse(body_json, status_code=201)


def _exists(target: Target, principal: Principal, session_id: str) -> bool:
    try:
        target.service.get_session(principal, session_id)
    except NotFound:
        return False
    return True


def _duplicate(session_id: str) -> AgnoError:
    return AgnoError(
        409,
        f"Session with id '{session_id}' already exists. "
        f"Use PATCH /sessions/{session_id} to update it.",
    )


@router.get("/sessions/{session_id}", operation_id="get_session_by_id", summary="Get Session by ID")
@reads
def get_session_by_id(
    target: Agno,
    session_id: str,
    session_type: TypeParam = None,
    user_id: str | None = None,
    db_id: str | None = None,
    table: str | None = None,
) -> JSONResponse:
    session = _read(target, session_id, user_id, session_type)
    return JSONResponse(_detail(target, session, session_type))


@router.post(
    "/sessions/{session_id}/rename", operation_id="rename_session", summary="Rename Session"
)
@writes
def rename_session(
    target: Agno,
    session_id: str,
    session_name: Annotated[str, Body(embed=True)],
    session_type: TypeParam = None,
    user_id: str | None = None,
    db_id: str | None = None,
    table: str | None = None,
) -> JSONResponse:
    principal = target.for_user(user_id)
    _read(target, session_id, user_id, None)
    session = _update(target, principal, session_id, {"session_name": session_name})
    return JSONResponse(_detail(target, session, session_type, with_nulls=True))


@router.patch("/sessions/{session_id}", operation_id="update_session", summary="Update Session")
@writes
def update_session(
    target: Agno,
    session_id: str,
    body: UpdateSessionRequest,
    session_type: TypeParam = None,
    user_id: str | None = None,
    db_id: str | None = None,
    table: str | None = None,
) -> JSONResponse:
    principal = target.for_user(user_id)
    _read(target, session_id, user_id, None)
    session = _update(target, principal, session_id, body.model_dump())
    return JSONResponse(_detail(target, session, session_type, with_nulls=True))


def _update(target: Target, principal: Principal, session_id: str, fields: JSONObject) -> Session:
    patch = patch_from_update(fields)
    try:
        return target.service.update_session(principal, session_id, patch)
    except NotFound:
        raise _missing(session_id) from None


def _refuse_media(delete_media: bool) -> None:
    if delete_media:
        raise AgnoError(503, "Media storage is not configured on AgentOS")


@router.delete(
    "/sessions/{session_id}", status_code=204, operation_id="delete_session", summary="Delete"
)
@writes
def delete_session(
    target: Agno,
    session_id: str,
    user_id: str | None = None,
    db_id: str | None = None,
    table: str | None = None,
    delete_media: bool = False,
) -> Response:
    _refuse_media(delete_media)
    target.service.delete_sessions(target.for_user(user_id), [session_id])
    return Response(status_code=204)


@router.delete(
    "/sessions", status_code=204, operation_id="delete_sessions", summary="Delete Sessions"
)
@writes
def delete_sessions(
    target: Agno,
    body: DeleteSessionRequest,
    user_id: str | None = None,
    db_id: str | None = None,
    table: str | None = None,
    delete_media: bool = False,
) -> Response:
    if len(body.session_ids) != len(body.session_types):
        raise bad_request("Session IDs and session types must have the same length")
    _refuse_media(delete_media)
    target.service.delete_sessions(target.for_user(user_id), body.session_ids)
    return Response(status_code=204)
