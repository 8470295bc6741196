"""The Python SDK: `Client` (blocking) and `AsyncClient` (asyncio) for the native `/v1` API.

Both are thin senders over one I/O-free core (`_core`), so they offer the same methods with the
same arguments and return the same typed values (`client.types`); errors are the tree drawn in
`client.exceptions`. The SDK needs only httpx and pydantic.

    from convostore import Client

    with Client("http://127.0.0.1:8080", api_key="csk_...") as client:
        client.append_messages("chat-1", [{"role": "user", "content": "hi"}],
                               session={"user_id": "alice"})
        for session in client.iter_sessions(user_id="alice"):
            print(session.title)
"""

from __future__ import annotations

from convostore.client._async import AsyncClient
from convostore.client._core import API_KEY_ENV, BASE_URL_ENV, DEFAULT_BASE_URL
from convostore.client._sync import Client
from convostore.client.exceptions import (
    AuthenticationError,
    BadRequestError,
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

__all__ = [
    "API_KEY_ENV",
    "BASE_URL_ENV",
    "DEFAULT_BASE_URL",
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
]
