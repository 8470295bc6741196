"""Request ids: one id per request, echoed back in the `X-Request-ID` header and logged.

A client's own `X-Request-ID` is kept when it is short and plain (so a trace can cross services);
anything else is replaced by a fresh one (a random per-process prefix and a counter). The
middleware that assigns it also writes the request's access-log line when the answer is done
(`access_log`), so a request costs one layer, not two.

The request's `RequestInfo` sits in a context variable for the request's lifetime; the code that
authenticates the caller fills in the tenant through it (worker threads see the same object).
"""

from __future__ import annotations

import itertools
import os
import re
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from convostore.server.middleware.access_log import line_format, log_request

__all__ = ["RequestIdMiddleware", "RequestInfo", "current_request"]

HEADER = b"x-request-id"
_ID_PREFIX = os.urandom(6).hex().encode()
_id_counter = itertools.count(int.from_bytes(os.urandom(4)))
_SANE_ID = re.compile(rb"[A-Za-z0-9._:@+/=-]{1,128}")
_current: ContextVar[RequestInfo | None] = ContextVar("convostore_request", default=None)


@dataclass(slots=True)
class RequestInfo:
    """The request in flight, as the access log tells it; auth fills in the caller."""

    request_id: str
    client: str | None
    tenant_id: str | None = None
    key_id: str | None = None


def current_request() -> RequestInfo | None:
    """The request being served in this context (also inside its worker threads), if any."""
    return _current.get()


class RequestIdMiddleware:
    """Pure ASGI: assigns the request id, adds the response header, writes the access line
    (unless `log` is off)."""

    def __init__(
        self, app: ASGIApp, *, log: bool = True, log_format: Literal["json", "text"] = "json"
    ) -> None:
        self.app = app
        self.line = line_format(log_format) if log else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_id = _incoming_id(scope["headers"]) or _new_id()
        client = scope.get("client")
        info = RequestInfo(raw_id.decode("ascii"), client[0] if client else None)
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (HEADER, raw_id)]
            await send(message)

        token = _current.set(info)
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _current.reset(token)
            if self.line is not None:
                log_request(self.line, scope, status, started, info)


def _new_id() -> bytes:
    """24 hex digits: a random per-process prefix and a counter (unique, and cheap to make)."""
    return b"%s%012x" % (_ID_PREFIX, next(_id_counter))


def _incoming_id(headers: Any) -> bytes | None:
    for name, value in headers:
        if name == HEADER:
            return value if _SANE_ID.fullmatch(value) else None
    return None
