"""Agno's error convention: every failure is `{"detail": ...}`.

`detail` is a string, except for request validation, which keeps FastAPI's list form. Agno's own
texts (404 wording, 401 texts, `db_id` errors) are raised as `AgnoError` so they reach the client
verbatim; domain errors from the service are rendered with their message.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from convostore.errors import ConvostoreError, MissingKey, RateLimited, Unauthenticated
from convostore.server.errors import RequestInvalid
from convostore.server.responses import JSONResponse


class AgnoError(ConvostoreError):
    """An error with the exact status and text an AgentOS server answers with."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status


def agno_error(error: ConvostoreError) -> Response:
    detail: Any = error.details if isinstance(error, RequestInvalid) else error.message
    if isinstance(error, Unauthenticated):  # AgentOS's own two texts
        missing = isinstance(error, MissingKey)
        detail = "Authorization header required" if missing else "Invalid authentication token"
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
    if isinstance(error, RateLimited):
        headers = {"Retry-After": str(max(1, round(error.retry_after)))}
    return JSONResponse({"detail": detail}, status_code=error.status, headers=headers)


def not_found(detail: str) -> AgnoError:
    return AgnoError(404, detail)


def bad_request(detail: str) -> AgnoError:
    return AgnoError(400, detail)
