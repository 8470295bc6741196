"""Browser-facing hardening headers on every response, without overriding a route's own choice.

Every answer says: do not sniff the content type, never render me in a frame, send no referrer.
Only the web UI (`/ui`) gets a Content-Security-Policy: it is the one place that renders stored
(possibly hostile) text as HTML, and a policy there must allow exactly the UI's own files. The
API's JSON needs none, and `/docs` loads Swagger UI from a CDN that a policy would block.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["UI_CONTENT_SECURITY_POLICY", "SecurityHeadersMiddleware"]

# Kept in step with the policy the UI routes set themselves; used where they did not set one.
UI_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
_COMMON: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
_UI: tuple[tuple[bytes, bytes], ...] = (
    *_COMMON,
    (b"content-security-policy", UI_CONTENT_SECURITY_POLICY.encode()),
)


class SecurityHeadersMiddleware:
    """Pure ASGI: appends the headers a response does not already carry."""

    def __init__(self, app: ASGIApp, *, ui_prefix: str = "/ui") -> None:
        self.app = app
        self.ui_prefix = ui_prefix
        self.ui_prefix_slash = ui_prefix.rstrip("/") + "/"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        ui = path == self.ui_prefix or path.startswith(self.ui_prefix_slash)
        wanted = _UI if ui else _COMMON

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name for name, _ in headers}  # ASGI names are lower case
                headers.extend(item for item in wanted if item[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
