"""memories.ai's reply envelope, `{code, msg, data, success, failed}`, for success and error alike.

Every answer under `/serve/api` is HTTP 200 with this envelope; the outcome is in `code`, as the
memories.ai v1 API does it (its clients read `code`, and the documented example client treats any
other HTTP status as a transport failure). Codes:

    0000  success
    0001  a required parameter is missing; the session (or route) does not exist; or the server
          could not answer ("The network is abnormal, please try again later", which memories.ai
          clients retry)
    0003  a parameter is invalid (not a number, out of range, too long), a wrong method, a body
          too large
    0401  the API key is missing or not valid
    0409  conflict
    0429  rate limited ("Request has exceeded the limit.", with a Retry-After header)
    9009  permission denied: the key may not do this (read-only, or confined to another unique_id)
"""

from __future__ import annotations

from typing import Any

from convostore.errors import (
    Conflict,
    ConvostoreError,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    RateLimited,
    Unauthenticated,
)

SUCCESS = "0000"
MISSING_OR_NOT_FOUND = "0001"
INVALID = "0003"
UNAUTHORIZED = "0401"
DUPLICATE = "0409"
RATE_LIMITED = "0429"
PERMISSION_DENIED = "9009"

RATE_LIMITED_MSG = "Request has exceeded the limit."
UNAVAILABLE_MSG = "The network is abnormal, please try again later"


class MissingParameter(InvalidRequest):
    """A required query parameter was not sent (memories.ai answers `0001`, not `0003`)."""


def envelope(data: Any, *, code: str = SUCCESS, msg: str = "success") -> dict[str, Any]:
    ok = code == SUCCESS
    return {"code": code, "msg": msg, "data": data, "success": ok, "failed": not ok}


def error_code(error: ConvostoreError) -> tuple[str, str]:
    """The memories.ai code and message for a domain error."""
    if isinstance(error, MissingParameter | NotFound):
        return MISSING_OR_NOT_FOUND, error.message
    if isinstance(error, Unauthenticated):
        return UNAUTHORIZED, error.message
    if isinstance(error, PermissionDenied):
        return PERMISSION_DENIED, error.message
    if isinstance(error, RateLimited):
        return RATE_LIMITED, RATE_LIMITED_MSG
    if isinstance(error, Conflict):
        return DUPLICATE, error.message
    if 400 <= error.status < 500:
        return INVALID, error.message
    return MISSING_OR_NOT_FOUND, UNAVAILABLE_MSG
