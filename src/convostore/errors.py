"""Domain errors. Each knows its HTTP status and a short machine-readable type.

The tree::

    ConvostoreError
    ├── InvalidRequest        400  malformed parameter, bad cursor, unknown field
    ├── Unauthenticated       401  unknown or revoked API key
    │   └── MissingKey        401  no API key at all
    ├── PermissionDenied      403  the key's role or user scope does not allow this
    ├── NotFound              404  no such object for this caller
    ├── Conflict              409  id already taken, idempotency key reused differently
    ├── PayloadTooLarge       413  request body or a field over its limit
    ├── Unprocessable         422  well-formed but semantically invalid input
    ├── RateLimited           429  too many requests for this key
    └── Unavailable           503  the database cannot be reached

Every HTTP surface renders these in its own convention; none of them leaks a traceback.
"""

from __future__ import annotations


class ConvostoreError(Exception):
    status: int = 500
    type: str = "internal_error"

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


class InvalidRequest(ConvostoreError):
    status = 400
    type = "invalid_request"


class Unauthenticated(ConvostoreError):
    status = 401
    type = "unauthenticated"


class MissingKey(Unauthenticated):
    """No key came with the request (some surfaces word this apart from a key that is wrong)."""


class PermissionDenied(ConvostoreError):
    status = 403
    type = "permission_denied"


class NotFound(ConvostoreError):
    status = 404
    type = "not_found"


class Conflict(ConvostoreError):
    status = 409
    type = "conflict"


class PayloadTooLarge(ConvostoreError):
    status = 413
    type = "payload_too_large"


class Unprocessable(ConvostoreError):
    status = 422
    type = "validation_error"


class RateLimited(ConvostoreError):
    status = 429
    type = "rate_limited"

    def __init__(self, message: str, *, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(ConvostoreError):
    status = 503
    type = "unavailable"
