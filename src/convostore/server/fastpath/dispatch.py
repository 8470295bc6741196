"""`LeanDispatch`: GETs on lean routes served in front of FastAPI's own middleware stack.

Part of the fast path (see the package's docstring): FastAPI's stack (its exception middleware,
its router walking every route) costs more per request than a list page's own work. This serves
the same answers without it, and hands everything it is not sure of to that stack.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from convostore.server.fastpath.routes import Handler

__all__ = ["LeanDispatch"]


class LeanDispatch:
    """Pure ASGI, in front of FastAPI's own middleware stack: serves GETs on lean routes directly.

    A request whose first matching route (in the app's order) is a lean route is handed to that
    route's handler, its exceptions answered by the app's exception handlers, as Starlette's
    endpoint wrapper and error middleware would — only without FastAPI's per-request layers.
    Anything else (other methods, other routes, no match, a wrong method, dependency overrides)
    goes to `fallback`, FastAPI's full stack.
    """

    def __init__(self, app: FastAPI, fallback: ASGIApp) -> None:
        self.app = app
        self.fallback = fallback
        self._buckets: dict[str, list[BaseRoute]] | None = None
        self._handlers: tuple[dict[Any, Any], dict[Any, Any]] = ({}, {})
        self._on_error: Callable[..., Any] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or scope.get("root_path")  # paths under a mount point: the router works them out
            or self.app.dependency_overrides
        ):
            await self.fallback(scope, receive, send)
            return
        if self._buckets is None:
            self._prepare()
        found = self._match(scope)
        if found is None:
            await self.fallback(scope, receive, send)
            return
        route, handler, child_scope = found
        scope.update(child_scope)
        scope["route"] = route
        scope["starlette.exception_handlers"] = self._handlers
        request = Request(scope, receive, send)
        try:
            response = await handler(request)
        except Exception as exc:
            response = await self._answer(request, exc, send)
        await response(scope, receive, send)

    async def _answer(self, request: Request, exc: Exception, send: Send) -> Response:
        """The app's answer to an exception raised before the response was sent: its handler
        for the exception (by status for HTTP exceptions, else by class), or, failing that, the
        server-error handler's answer, sent before the exception is raised again (as Starlette's
        error middleware does, so the server logs it)."""
        by_type, by_status = self._handlers
        handler = by_status.get(exc.status_code) if isinstance(exc, HTTPException) else None
        if handler is None:
            handler = next((by_type[c] for c in type(exc).__mro__ if c in by_type), None)
        if handler is None:
            if self._on_error is not None:
                response = await self._on_error(request, exc)
                await response(request.scope, request.receive, send)
            raise exc
        answer = handler(request, exc)
        response = await answer if inspect.isawaitable(answer) else answer
        exc.__traceback__ = None  # reused exception instances would pile up tracebacks
        assert isinstance(response, Response), f"{handler!r} answered {response!r}"
        return response

    def _prepare(self) -> None:
        """Routes by first path segment (in order), and the handlers the router would use."""
        routes = list(self.app.router.routes)
        heads = {head for route in routes if (head := _literal_head(route)) is not None}
        # a route whose first segment is a parameter (or that has no path) may match anything
        buckets = {h: [r for r in routes if _literal_head(r) in (h, None)] for h in heads}
        buckets[""] = [r for r in routes if _literal_head(r) is None]
        by_type: dict[Any, Any] = {}
        by_status: dict[Any, Any] = {}
        for key, handler in self.app.exception_handlers.items():
            if key in (500, Exception):
                self._on_error = handler
            else:
                (by_status if isinstance(key, int) else by_type)[key] = handler
        self._handlers = (by_type, by_status)
        self._buckets = buckets

    def _match(self, scope: Scope) -> tuple[BaseRoute, Handler, Scope] | None:
        assert self._buckets is not None
        path: str = scope["path"]
        candidates = self._buckets.get(_first_segment(path) or "", self._buckets[""])
        method = scope["method"]
        for route in candidates:
            if isinstance(route, Route):  # its own `matches`, without the wrappers around it
                found = route.path_regex.match(path)
                if found is None or (route.methods is not None and method not in route.methods):
                    continue  # a partial match (another method) loses to a full one
                lean_handler = getattr(route, "lean_handler", None)
                if lean_handler is None:
                    return None
                convertors = route.param_convertors
                params = {k: convertors[k].convert(v) for k, v in found.groupdict().items()}
                path_params = {**scope.get("path_params", {}), **params}
                return route, lean_handler, {"endpoint": route.endpoint, "path_params": path_params}
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return None
        return None


def _first_segment(path: str) -> str | None:
    """`sessions` of `/sessions/{id}`; None for the root."""
    head = path.split("/", 2)[1] if path.startswith("/") and len(path) > 1 else None
    return head or None


def _literal_head(route: BaseRoute) -> str | None:
    """A route's first path segment when it is literal text; None when it could be anything."""
    path = getattr(route, "path", None)
    head = _first_segment(path) if isinstance(path, str) else None
    return None if head is None or "{" in head else head
