"""`/sessions`: list, create, read, rename, update and delete sessions, AgentOS-style."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query
from starlette.responses import Response

from convostore.compat.agno.schemas import (
    CreateSessionRequest,
    DeleteSessionRequest,
    UpdateSessionRequest,
)
from convostore.compat.agno.sessions_map import (
    new_session_from_create,
    patch_from_update,
    to_session_detail,
    to_session_item,
)
from convostore.errors import Conflict, NotFound
from convostore.models import (
    JSONObject,
    Principal,
    Session,
    SessionQuery,
    SessionType,
    SortOrder,
)
from convostore.server.compat.agno.access import Target, session_target
from convostore.server.compat.agno.errors import AgnoError, bad_request, not_found
from convostore.server.compat.agno.reading import ChatPages, chat_start
from convostore.server.fastpath import LeanRoute
from convostore.server.responses import JSONResponse
from convostore.server.streaming import JSONStream, Streamed, read_chunks

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
    target: Target, session: Session, kind: str | None, with_nulls: bool = False
) -> tuple[JSONObject, ChatPages | None, int | None]:
    """The detail body with the first page of its `chat_history`, and, when more follow, what
    reads the next pages and the `seq` they start after."""
    chat, pages, after = chat_start(target.service, target.principal, session)
    return to_session_detail(session, chat, as_type=kind, with_nulls=with_nulls), pages, after


def _read_detail(
    target: Target, session_id: str, user_id: str | None, kind: str | None
) -> tuple[JSONObject, ChatPages | None, int | None]:
    return _detail(target, _read(target, session_id, user_id, kind), kind)


async def _detail_answer(target: Target, session: Session, kind: str | None) -> Response:
    """A detail with every key, nulls included (rename and PATCH answer so)."""
    read_detail = await target.db.read(_detail, target, session, kind, True)
    return _answer(target, *read_detail)


def _answer(
    target: Target, body: JSONObject, pages: ChatPages | None, after: int | None
) -> Response:
    """The detail at once, or with its long `chat_history` sent as it is read."""
    if pages is None or after is None or "chat_history" not in body:
        return JSONResponse(body)
    rest = read_chunks(target.db, pages.next, after)
    body["chat_history"] = Streamed(body["chat_history"], rest)
    return JSONStream(body)


@dataclass(frozen=True)
class _Rest:
    """Where a long list of sessions goes on: after `cursor`, `remaining` more at most."""

    cursor: str
    remaining: int


def _first_sessions(
    target: Target, query: SessionQuery, limit: int
) -> tuple[list[JSONObject], int, _Rest | None]:
    """The page's first sessions (a page's size and byte budget of them: the whole page, for
    most), the total, and where the rest starts."""
    service = target.service
    chunk = query.model_copy(update={"limit": min(limit, service.limits.max_page_size)})
    first = service.list_sessions(target.principal, chunk, budgeted=True)
    items = [to_session_item(s) for s in first.items]
    rest = None
    if first.has_more and first.next_cursor and len(items) < limit:
        rest = _Rest(first.next_cursor, limit - len(items))
    return items, first.total or 0, rest


def _more_sessions(
    target: Target, query: SessionQuery, rest: _Rest
) -> tuple[list[JSONObject], _Rest | None]:
    """The next sessions after `rest.cursor`: a page as large as a page's size and byte budget
    allow, and where the list goes on (None: it is done)."""
    service = target.service
    chunk = query.model_copy(
        update={
            "after": rest.cursor,
            "offset": None,
            "include_total": False,
            "limit": min(rest.remaining, service.limits.max_page_size),
        }
    )
    page = service.list_sessions(target.principal, chunk, budgeted=True)
    items = [to_session_item(s) for s in page.items]
    remaining = rest.remaining - len(items)
    if page.has_more and page.next_cursor and remaining > 0 and items:
        return items, _Rest(page.next_cursor, remaining)
    return items, None


@router.get("/sessions", operation_id="get_sessions", summary="List Sessions")
async def get_sessions(
    target: Agno,
    session_type: TypeParam = None,
    component_id: str | None = None,
    user_id: str | None = None,
    session_name: str | None = None,
    limit: Annotated[int, Query(ge=1)] = 20,
    page: Annotated[int, Query(ge=1)] = 1,
    sort_by: str = "created_at",
    sort_order: SortOrder = "desc",
    db_id: str | None = None,
    table: str | None = None,
) -> Response:
    """AgentOS's page: any `limit` (AgentOS sets no upper bound), the `meta` counted first, then
    the sessions, sent as they are read when they are more than a page's byte budget."""
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
    items, total, rest = await target.db.read(_first_sessions, target, query, limit)
    meta = {
        "page": page,
        "limit": limit,
        "total_pages": math.ceil(total / limit),
        "total_count": total,
        "search_time_ms": 0.0,
    }
    if rest is None:
        return JSONResponse({"data": items, "meta": meta})
    more = functools.partial(_more_sessions, target, query)
    return JSONStream({"data": Streamed(items, read_chunks(target.db, more, rest)), "meta": meta})


@router.post(
    "/sessions", status_code=201, operation_id="create_session", summary="Create New Session"
)
async def create_session(
    target: Agno,
    session_type: Annotated[SessionType, Query(alias="type")] = "agent",
    body: Annotated[CreateSessionRequest | None, Body()] = None,
    db_id: str | None = None,
) -> JSONResponse:
    return await target.db.write(_create, target, session_type, body)


def _create(
    target: Target, session_type: SessionType, body: CreateSessionRequest | None
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
async def get_session_by_id(
    target: Agno,
    session_id: str,
    session_type: TypeParam = None,
    user_id: str | None = None,
    db_id: str | None = None,
    table: str | None = None,
) -> Response:
    found = await target.db.read(_read_detail, target, session_id, user_id, session_type)
    return _answer(target, *found)


@router.post(
    "/sessions/{session_id}/rename", operation_id="rename_session", summary="Rename Session"
)
async def rename_session(
    target: Agno,
    session_id: str,
    session_name: Annotated[str, Body(embed=True)],
    session_type: TypeParam = None,
    user_id: str | None = None,
    db_id: str | None = None,
    table: str | None = None,
) -> Response:
    fields = {"session_name": session_name}
    session = await target.db.write(_checked_update, target, session_id, user_id, fields)
    return await _detail_answer(target, session, session_type)


@router.patch("/sessions/{session_id}", operation_id="update_session", summary="Update Session")
async def update_session(
    target: Agno,
    session_id: str,
    body: UpdateSessionRequest,
    session_type: TypeParam = None,
    user_id: str | None = None,
    db_id: str | None = None,
    table: str | None = None,
) -> Response:
    session = await target.db.write(_checked_update, target, session_id, user_id, body.model_dump())
    return await _detail_answer(target, session, session_type)


def _checked_update(
    target: Target, session_id: str, user_id: str | None, fields: JSONObject
) -> Session:
    """The session updated with Agno's fields, after checking it is there for this caller."""
    _read(target, session_id, user_id, None)
    return _update(target, target.for_user(user_id), session_id, fields)


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
async def delete_session(
    target: Agno,
    session_id: str,
    user_id: str | None = None,
    db_id: str | None = None,
    table: str | None = None,
    delete_media: bool = False,
) -> Response:
    _refuse_media(delete_media)
    await target.db.write(target.service.delete_sessions, target.for_user(user_id), [session_id])
    return Response(status_code=204)


@router.delete(
    "/sessions", status_code=204, operation_id="delete_sessions", summary="Delete Sessions"
)
async def delete_sessions(
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
    await target.db.write(
        target.service.delete_sessions, target.for_user(user_id), body.session_ids
    )
    return Response(status_code=204)
