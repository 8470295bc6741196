"""Turning every failure into the calling surface's own error shape.

Each surface registers a renderer for its path prefix (`/v1` native, `/serve/api` memories.ai,
the root for Agno). Domain errors, FastAPI validation errors, unknown routes, oversized bodies and
unexpected exceptions all go through `render_error`, so no surface ever answers with an HTML page
or a traceback.

A database error is logged as its classes and SQLSTATE and where it was raised, never its text
(which may quote the conversation being written), and is answered here rather than passed on to
the ASGI server, whose own log would print the whole exception.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import traceback
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from convostore.errors import (
    ConvostoreError,
    InvalidRequest,
    NotFound,
    RateLimited,
    Unavailable,
    Unprocessable,
)
from convostore.server.responses import JSONResponse
from convostore.storage.engine import describe_error

log = logging.getLogger("convostore.server")


class MethodNotAllowed(ConvostoreError):
    status = 405
    type = "method_not_allowed"


class RequestInvalid(Unprocessable):
    """FastAPI's request validation failed; `details` keeps its list of errors."""

    def __init__(self, message: str, details: list[dict[str, Any]], param: str | None) -> None:
        super().__init__(message, param=param)
        self.details = details


class InternalError(ConvostoreError):
    status = 500
    type = "internal_error"


Renderer = Callable[[ConvostoreError], Response]


def native_error(error: ConvostoreError) -> Response:
    body: dict[str, Any] = {"type": error.type, "message": error.message}
    if error.param is not None:
        body["param"] = error.param
    headers = {}
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(max(1, round(error.retry_after)))
    return JSONResponse({"error": body}, status_code=error.status, headers=headers)


class ErrorRenderers:
    """Renderers by path prefix; the longest matching prefix wins, the native one is the default."""

    def __init__(self) -> None:
        self._by_prefix: list[tuple[str, Renderer]] = []
        self.default: Renderer = native_error

    def register(self, prefix: str, renderer: Renderer) -> None:
        self._by_prefix.append((prefix, renderer))
        self._by_prefix.sort(key=lambda item: len(item[0]), reverse=True)

    def for_path(self, path: str) -> Renderer:
        for prefix, renderer in self._by_prefix:
            if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                return renderer
        return self.default


def renderers_of(app: Any) -> ErrorRenderers:
    renderers: ErrorRenderers = app.state.error_renderers
    return renderers


def render_error(app: Any, path: str, error: ConvostoreError) -> Response:
    return renderers_of(app).for_path(path)(error)


def _param_of(loc: Any) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or None


def validation_error(exc: RequestValidationError) -> RequestInvalid:
    details: list[dict[str, Any]] = []
    for err in exc.errors():
        item = {k: v for k, v in err.items() if k in ("type", "loc", "msg", "input", "ctx")}
        if "ctx" in item:
            item["ctx"] = {k: str(v) for k, v in item["ctx"].items()}
        details.append(item)
    first = details[0] if details else {"loc": (), "msg": "invalid request"}
    param = _param_of(first.get("loc", ()))
    where = f"{param}: " if param else ""
    return RequestInvalid(f"{where}{first.get('msg', 'invalid request')}", details, param)


def install_error_handlers(app: FastAPI) -> None:
    app.state.error_renderers = ErrorRenderers()

    @app.exception_handler(ConvostoreError)
    async def _domain(request: Request, exc: ConvostoreError) -> Response:
        return render_error(request.app, request.url.path, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        return render_error(request.app, request.url.path, validation_error(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        error: ConvostoreError
        if exc.status_code == 404:
            error = NotFound(f"no route {request.method} {request.url.path}")
        elif exc.status_code == 405:
            error = MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}")
        elif exc.status_code == 400:
            error = InvalidRequest(str(exc.detail))
        else:
            error = ConvostoreError(str(exc.detail))
            error.status = exc.status_code
        return render_error(request.app, request.url.path, error)

    @app.exception_handler(sa.exc.OperationalError)
    async def _database(request: Request, exc: sa.exc.OperationalError) -> Response:
        log.error(
            "database error on %s %s: %s", request.method, request.url.path, describe_error(exc)
        )
        error = Unavailable("the database is unavailable; retry later")
        return render_error(request.app, request.url.path, error)

    @app.exception_handler(sa.exc.DataError)
    async def _data(request: Request, exc: sa.exc.DataError) -> Response:
        # The database refused a value the checks let through (PostgreSQL: a NUL character, a
        # number out of range): the request is at fault, and nothing was written.
        log.warning(
            "database refused data on %s %s: %s",
            request.method,
            request.url.path,
            describe_error(exc),
        )
        error = InvalidRequest(
            "the request holds a value the database cannot use (a NUL character or an"
            " out-of-range number)"
        )
        return render_error(request.app, request.url.path, error)

    for database_error in DATABASE_ERRORS:
        app.add_exception_handler(database_error, _database_failure)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        error = InternalError(f"internal server error ({type(exc).__name__})")
        return render_error(request.app, request.url.path, error)


# What the database and its drivers raise (a driver's own errors are wrapped by SQLAlchemy on
# their way out, but are caught here too should one escape).
DATABASE_ERRORS: tuple[type[Exception], ...] = (sa.exc.SQLAlchemyError, sqlite3.Error)
with contextlib.suppress(ImportError):  # psycopg comes with the postgres extra
    import psycopg

    DATABASE_ERRORS += (psycopg.Error,)


async def _database_failure(request: Request, exc: Exception) -> Response:
    """A database error no other handler took: a 500, logged without the error's text."""
    where = "".join(traceback.format_tb(exc.__traceback__))
    log.error(
        "unhandled database error on %s %s: %s\n%s",
        request.method,
        request.url.path,
        describe_error(exc),
        where.rstrip(),
    )
    error = InternalError(f"internal server error ({type(exc).__name__})")
    return render_error(request.app, request.url.path, error)
