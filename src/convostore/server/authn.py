"""Who is calling: the one way every surface turns a request's headers into a `Principal`.

It runs before anything reads a request body (`AuthenticateFirst` for requests that carry one,
the surfaces' dependencies for the rest), so an unauthenticated client cannot make the server
parse or validate anything. Checking a key usually costs nothing (key records are cached, see
`convostore.auth`); when the cache must be refreshed, the store is asked through
its `Database` (server.database), so a slow network database never holds the event loop.

A request without a key runs in open mode only as far as `KeyService.authenticate` (the bind
allows it, the database never held a key) and `AppContext.vet_open_caller` (the request is
addressed to this machine by a loopback name) both allow.

With rate limits on, callers are charged as `AppContext.admit` says; a caller that fails to
authenticate is charged to its client address, and an address with no budget left is refused
before its key is even looked up, so a flood of forged keys never reaches the database.
"""

from __future__ import annotations

from fastapi import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from convostore.auth import key_from_header
from convostore.errors import ConvostoreError, Unauthenticated
from convostore.models import Principal
from convostore.server.context import AppContext, context
from convostore.server.errors import render_error
from convostore.server.middleware.request_id import current_request

__all__ = ["AuthenticateFirst", "authenticate", "principal_from"]

# where a request's scope keeps its caller once known, so it is authenticated (and charged) once
PRINCIPAL = "convostore.principal"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == wanted:
            return str(value.decode("latin-1"))
    return None


def _announces_body(scope: Scope) -> bool:
    """A request whose headers say a body follows (a GET may send one, and memories.ai reads it)."""
    for name, value in scope.get("headers", ()):
        if name == b"transfer-encoding":
            return True
        if name == b"content-length":
            return value.strip() not in (b"", b"0")
    return False


async def authenticate(ctx: AppContext, scope: Scope) -> Principal:
    """The caller of the request `scope` belongs to, authenticated and admitted (once)."""
    known: Principal | None = scope.get(PRINCIPAL)
    if known is not None:
        return known
    raw = key_from_header(_header(scope, b"authorization"))
    keys = ctx.keys
    limiter = ctx.rate_limiter
    info = current_request()
    address = f"client:{info.client if info is not None else None}"
    try:
        if keys.answers_from_cache(raw, allow_open=ctx.allow_open):
            principal = keys.authenticate(raw, allow_open=ctx.allow_open)
        else:
            if limiter is not None and raw is not None:
                limiter.check_waiting(address)
            principal = await ctx.db.read(keys.authenticate, raw, allow_open=ctx.allow_open)
        if principal.key_id is None:  # open mode: only for requests addressed to this machine
            principal = ctx.vet_open_caller(principal, _header(scope, b"host"))
    except Unauthenticated:
        if limiter is not None:
            limiter.check(address)
        raise
    scope[PRINCIPAL] = ctx.admit(principal)
    return principal


async def principal_from(request: Request) -> Principal:
    """FastAPI dependency: the caller (`Authorization: Bearer <key>`, or the raw key)."""
    return await authenticate(context(request), request.scope)


class AuthenticateFirst:
    """Pure ASGI: a request that may carry a body (a method that takes one, or any request that
    announces one) is authenticated from its headers before any layer or route reads the body; a
    refusal is answered in the surface's own error shape and the body is never read."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (scope["method"] in BODY_METHODS or _announces_body(scope)):
            app = scope["app"]
            try:
                await authenticate(app.state.ctx, scope)
            except ConvostoreError as error:
                await render_error(app, scope["path"], error)(scope, receive, send)
                return
        await self.app(scope, receive, send)
