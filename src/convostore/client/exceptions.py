"""What the SDK raises.

The tree::

    ConvostoreClientError                 anything the SDK raises on purpose
    ├── ConvostoreConnectionError         the request did not get an answer (DNS, refused, reset)
    │   └── ConvostoreTimeoutError        ... because a timeout expired
    ├── UnexpectedResponseError           a 2xx answer the SDK cannot read (not convostore?)
    └── ConvostoreAPIError                the server answered with an error status
        ├── BadRequestError               400  malformed parameter, bad cursor
        ├── AuthenticationError           401  missing, unknown or revoked API key
        ├── PermissionDeniedError         403  the key's role or user scope forbids it
        ├── NotFoundError                 404  no such session, run, memory or key
        ├── ConflictError                 409  id taken, idempotency key reused differently
        ├── PayloadTooLargeError          413  body or field over its limit
        ├── UnprocessableEntityError      422  well-formed but invalid input
        ├── RateLimitError                429  slow down; `retry_after` says for how long
        ├── ServiceUnavailableError       503  the server cannot reach its database
        └── InternalServerError           500 and other 5xx

A `ConvostoreAPIError` carries the server's `{"error": {"type", "message", "param"}}` as
attributes, with the `httpx.Response` it came from. Statuses without a class of their own (405,
for instance) raise `ConvostoreAPIError` itself.
"""

from __future__ import annotations

import httpx


class ConvostoreClientError(Exception):
    """Base of every error the SDK raises; catch this to handle them all."""


class ConvostoreConnectionError(ConvostoreClientError):
    """No answer arrived; the request may or may not have reached the server."""


class ConvostoreTimeoutError(ConvostoreConnectionError):
    """A connect, read, write or pool timeout expired."""


class UnexpectedResponseError(ConvostoreClientError):
    """A success status with a body that is not the JSON the API documents."""

    def __init__(self, message: str, *, response: httpx.Response) -> None:
        super().__init__(message)
        self.response = response


class ConvostoreAPIError(ConvostoreClientError):
    """The server refused the request; `type` is its machine-readable reason."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        type: str,
        param: str | None = None,
        response: httpx.Response | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.type = type
        self.param = param
        self.response = response

    def __str__(self) -> str:
        where = f" (param: {self.param})" if self.param else ""
        return f"{self.status_code} {self.type}: {self.message}{where}"


class BadRequestError(ConvostoreAPIError):
    pass


class AuthenticationError(ConvostoreAPIError):
    pass


class PermissionDeniedError(ConvostoreAPIError):
    pass


class NotFoundError(ConvostoreAPIError):
    pass


class ConflictError(ConvostoreAPIError):
    pass


class PayloadTooLargeError(ConvostoreAPIError):
    pass


class UnprocessableEntityError(ConvostoreAPIError):
    pass


class RateLimitError(ConvostoreAPIError):
    """Too many requests; wait `retry_after` seconds (from `Retry-After`, when sent)."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        type: str,
        param: str | None = None,
        response: httpx.Response | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            message, status_code=status_code, type=type, param=param, response=response
        )
        self.retry_after = retry_after


class ServiceUnavailableError(ConvostoreAPIError):
    pass


class InternalServerError(ConvostoreAPIError):
    pass


__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "ConvostoreAPIError",
    "ConvostoreClientError",
    "ConvostoreConnectionError",
    "ConvostoreTimeoutError",
    "InternalServerError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServiceUnavailableError",
    "UnexpectedResponseError",
    "UnprocessableEntityError",
]
