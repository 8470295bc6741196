"""CORS: which browser origins may call the API, with refusals in the calling surface's shape.

Starlette's `CORSMiddleware` decides; this layer changes two things around it. A refused
preflight is answered like every other error of the surface it was meant for (`{"detail": ...}`
on Agno's routes, `{"error": ...}` on `/v1`, the envelope on memories.ai) instead of plain text.
And a request without an `Origin` header (every non-browser client) goes straight through,
without Starlette parsing the headers and wrapping `send` for nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from convostore.errors import InvalidRequest
from convostore.server.errors import render_error

__all__ = ["CORS_EXPOSED_HEADERS", "CORS_METHODS", "CORS_REQUEST_HEADERS", "SurfaceCORS"]

CORS_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
CORS_REQUEST_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"]
CORS_EXPOSED_HEADERS = ["X-Request-ID", "Retry-After", "Idempotent-Replayed"]


class SurfaceCORS(CORSMiddleware):
    """`CORSMiddleware` for `origins`, without credentials (keys travel in `Authorization`,
    never in cookies); `owner` is the app whose error renderers answer a refused preflight."""

    def __init__(self, app: ASGIApp, *, owner: object, origins: Sequence[str]) -> None:
        super().__init__(
            app,
            allow_origins=list(origins),
            allow_methods=CORS_METHODS,
            allow_headers=CORS_REQUEST_HEADERS,
            expose_headers=CORS_EXPOSED_HEADERS,
            allow_credentials=False,
            max_age=600,
        )
        self.owner = owner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not any(k == b"origin" for k, _ in scope["headers"]):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            response = self.preflight_response(request_headers=headers)
            if response.status_code != 200:
                refused = bytes(response.body).decode()  # "Disallowed CORS origin, headers"
                error = InvalidRequest(
                    f"{refused}: a browser page on {headers['origin']} may not make this request"
                    " (the server's CONVOSTORE_CORS_ORIGINS decides which origins may)"
                )
                rendered = render_error(self.owner, scope["path"], error)
                for name, value in response.headers.items():
                    if name.startswith("access-control-") or name == "vary":
                        rendered.headers[name] = value
                response = rendered
            await response(scope, receive, send)
            return
        await self.simple_response(scope, receive, send, request_headers=headers)
