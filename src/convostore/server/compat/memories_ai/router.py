"""The memories.ai session endpoints: parse the request, call the service, map, wrap.

Served under `/serve/api/v1/` and the legacy `/serve/api/video/`. Parameters are read from the
query string and, as the memories.ai docs place `unique_id` "in the body", also from a small JSON
or form body (the query wins). They are parsed here rather than by FastAPI so that every problem
is answered in the envelope with memories.ai's code for it.

Scoping: `unique_id` is the end user (`Session.user_id`), exact match, default "default". A
session of another unique_id or tenant does not exist for the caller (`0001`). A key confined to
one user reads that user when `unique_id` is omitted, and gets `9009` (permission denied) when it
asks for another one: the request is one the key may never make, whether or not data exists.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from convostore.compat.memories_ai.envelope import MissingParameter, envelope
from convostore.compat.memories_ai.mapping import (
    PAGE_SIZE,
    session_detail,
    shown_messages,
    to_session_list,
)
from convostore.config import Limits
from convostore.errors import InvalidRequest, NotFound, PayloadTooLarge, PermissionDenied
from convostore.models import Principal, Session, SessionQuery
from convostore.server.authn import authenticate
from convostore.server.compat.memories_ai.replies import success
from convostore.server.context import AppContext, context
from convostore.server.fastpath import LeanRoute
from convostore.server.responses import JSONResponse
from convostore.server.streaming import JSONStream, Streamed, read_chunks
from convostore.service import SessionService
from convostore.validation import check_id

PREFIXES = ("/serve/api/v1", "/serve/api/video")
DEFAULT_UNIQUE_ID = "default"
MAX_PAGE = 999_999_999_999
MAX_BODY_PARAMS_BYTES = 64 * 1024

Params = Mapping[str, Any]


# --- parameters -------------------------------------------------------------------------------


async def request_params(request: Request) -> dict[str, Any]:
    """Query parameters, over those of a small JSON or form body if one was sent."""
    params: dict[str, Any] = {}
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > 0:
        if int(length) > MAX_BODY_PARAMS_BYTES:
            raise PayloadTooLarge(f"the request body is larger than {MAX_BODY_PARAMS_BYTES} bytes")
        params.update(_body_params(await request.body(), request.headers.get("content-type", "")))
    params.update(request.query_params)
    return params


def _body_params(raw: bytes, content_type: str) -> dict[str, Any]:
    if "application/x-www-form-urlencoded" in content_type:
        return dict(parse_qsl(raw.decode("utf-8", "replace")))
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidRequest("the request body must be a JSON object") from None
    if not isinstance(value, dict):
        raise InvalidRequest("the request body must be a JSON object")
    return value


def _text(params: Params, name: str) -> str | None:
    """A parameter as text; a JSON number counts as its digits. Blank means not sent."""
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise InvalidRequest(f"{name} must be a string", param=name)
    value = value.strip()
    return value or None


def resolve_unique_id(principal: Principal, requested: str | None, limits: Limits) -> str:
    """The end user a request is for; a user-scoped key may name only its own user."""
    if principal.user_id is not None:
        if requested is not None and requested != principal.user_id:
            raise PermissionDenied(
                f"this API key may only access unique_id {principal.user_id!r}",
                param="unique_id",
            )
        return principal.user_id
    if requested is None:
        return DEFAULT_UNIQUE_ID
    return check_id(requested, limits, "unique_id")


def parse_page(params: Params) -> int:
    raw = _text(params, "page")
    if raw is None:
        return 1
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12 or not 1 <= int(raw) <= MAX_PAGE:
        raise InvalidRequest(
            f"page must be an integer between 1 and {MAX_PAGE}; got {raw[:40]!r}", param="page"
        )
    return int(raw)


def parse_session_id(params: Params, limits: Limits) -> str:
    raw = _text(params, "sessionId") or _text(params, "session_id")
    if raw is None:
        raise MissingParameter("sessionId is required", param="sessionId")
    return check_id(raw, limits, "sessionId")


# --- handlers ---------------------------------------------------------------------------------


def list_sessions_data(ctx: AppContext, principal: Principal, params: Params) -> Any:
    limits = ctx.service.limits
    unique_id = resolve_unique_id(principal, _text(params, "unique_id"), limits)
    page_number = parse_page(params)
    query = SessionQuery(
        user_id=unique_id,
        sort="created_at",
        order="desc",
        limit=PAGE_SIZE,
        offset=(page_number - 1) * PAGE_SIZE,
        include_total=True,
        brief=True,
    )
    page = ctx.service.list_sessions(principal, query)
    return to_session_list(page.items, page=page_number, total=page.total or 0)


def session_detail_start(
    ctx: AppContext, principal: Principal, params: Params
) -> tuple[Session, list[dict[str, Any]], int | None]:
    """The session, its first page of shown messages, and the `seq` its next page starts
    after (None: that page was the last)."""
    limits = ctx.service.limits
    unique_id = resolve_unique_id(principal, _text(params, "unique_id"), limits)
    session_id = parse_session_id(params, limits)
    session = ctx.service.get_session(principal, session_id)
    if session.user_id != unique_id:
        raise NotFound(f"session {session_id!r} not found", param="sessionId")
    shown, after = shown_after(ctx.service, principal, session, 0)
    return session, shown, after


def shown_after(
    service: SessionService, principal: Principal, session: Session, after: int
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of the session's messages after `seq` `after`, as memories.ai shows them."""
    messages, following = service.messages_after(principal, session, after)
    return shown_messages(messages), following


async def list_sessions(request: Request) -> JSONResponse:
    """memories.ai `list_sessions`: 20 sessions per page, newest first, `{sessionId, title}`."""
    ctx = context(request)
    principal = await authenticate(ctx, request.scope)
    params = await request_params(request)
    data = await ctx.db.read(list_sessions_data, ctx, principal, params)
    return success(data)


async def get_session_detail(request: Request) -> Response:
    """memories.ai `get_session_detail`: the whole conversation, in order, in one answer (a
    long one is read and sent a page at a time)."""
    ctx = context(request)
    principal = await authenticate(ctx, request.scope)
    params = await request_params(request)
    session, first, after = await ctx.db.read(session_detail_start, ctx, principal, params)
    if after is None:
        return success(session_detail(session, first))
    fetch = functools.partial(shown_after, ctx.service, principal, session)
    shown = Streamed(first, read_chunks(ctx.db, fetch, after))
    return JSONStream(envelope(session_detail(session, shown)))


router = APIRouter(route_class=LeanRoute, tags=["memories.ai compatibility"])
for _prefix in PREFIXES:
    _documented = _prefix == PREFIXES[0]
    router.add_api_route(
        f"{_prefix}/list_sessions",
        list_sessions,
        methods=["GET"],
        summary="List sessions (memories.ai)",
        include_in_schema=_documented,
    )
    router.add_api_route(
        f"{_prefix}/get_session_detail",
        get_session_detail,
        methods=["GET"],
        summary="Get session detail (memories.ai)",
        include_in_schema=_documented,
    )
