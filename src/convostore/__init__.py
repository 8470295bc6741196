"""convostore: a self-hostable session-history service for AI agents and video-chat assistants.

Importing this package loads only the SDK (httpx and pydantic). The server lives in
`convostore.server` and needs the `server` extra.
"""

from __future__ import annotations

from convostore.client import (
    AsyncClient,
    AuthenticationError,
    BadRequestError,
    Client,
    ConflictError,
    ConvostoreAPIError,
    ConvostoreClientError,
    ConvostoreConnectionError,
    ConvostoreTimeoutError,
    InternalServerError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    ServiceUnavailableError,
    UnexpectedResponseError,
    UnprocessableEntityError,
)
from convostore.version import __version__

__all__ = [
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "Client",
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
    "__version__",
]
