"""Request ids and the access log: one id per request, echoed back, and one log line per answer.

A client's own `X-Request-ID` is kept when it is short and plain (so a trace can cross services);
anything else is replaced by a fresh one (a random per-process prefix and a counter). The id goes
back in the `X-Request-ID` response header and is written, with method, path, route template,
status, duration, client address and the caller's tenant and public key id, to the
`convostore.access` logger — one JSON object per line by default, or plain text. Query strings,
bodies and API keys are never logged.

The request's `RequestInfo` sits in a context variable for the request's lifetime; the code that
authenticates the caller fills in the tenant through it (worker threads see the same object).
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import sys
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "ACCESS_LOGGER",
    "RequestIdMiddleware",
    "RequestInfo",
    "configure_access_log",
    "current_request",
]

ACCESS_LOGGER = "convostore.access"
HEADER = b"x-request-id"
_ID_PREFIX = os.urandom(6).hex().encode()
_id_counter = itertools.count(int.from_bytes(os.urandom(4)))
_SANE_ID = re.compile(rb"[A-Za-z0-9._:@+/=-]{1,128}")
_current: ContextVar[RequestInfo | None] = ContextVar("convostore_request", default=None)
access_log = logging.getLogger(ACCESS_LOGGER)


@dataclass(slots=True)
class RequestInfo:
    """What the access log knows about the request in flight; auth fills in the caller."""

    request_id: str
    client: str | None
    tenant_id: str | None = None
    key_id: str | None = None


def current_request() -> RequestInfo | None:
    """The request being served in this context (also inside its worker threads), if any."""
    return _current.get()


def configure_access_log() -> None:
    """Give the access logger a plain stderr handler unless the host application set one up.

    Lines are fully formatted by the middleware, so the handler prints the message alone. The
    logger does not propagate, so a root handler configured elsewhere does not print lines twice.
    """
    if access_log.handlers:
        return
    access_log.addHandler(_StderrHandler())
    access_log.setLevel(logging.INFO)
    access_log.propagate = False


class _StderrHandler(logging.Handler):
    """Writes each line to whatever `sys.stderr` is at the time (a swapped stream is never kept).

    Lines arrive fully formatted, so it skips the formatter machinery.
    """

    def emit(self, record: logging.LogRecord) -> None:
        try:
            stream = sys.stderr
            stream.write(f"{record.msg}\n")
            stream.flush()
        except Exception:
            self.handleError(record)


class RequestIdMiddleware:
    """Pure ASGI: assigns the request id, adds the response header, writes the access line."""

    def __init__(
        self, app: ASGIApp, *, log: bool = True, log_format: Literal["json", "text"] = "json"
    ) -> None:
        self.app = app
        self.log = log
        self.format = _json_line if log_format == "json" else _text_line

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
            if self.log and access_log.isEnabledFor(logging.INFO):
                elapsed_ms = (time.perf_counter() - started) * 1000.0
                level = logging.ERROR if status >= 500 else logging.INFO
                line = self.format(scope, info, status, elapsed_ms)
                # a record made directly skips `findCaller`, the costliest part of `log()`
                record = access_log.makeRecord(ACCESS_LOGGER, level, "", 0, line, (), None)
                access_log.handle(record)


def _new_id() -> bytes:
    """24 hex digits: a random per-process prefix and a counter (unique, and cheap to make)."""
    return b"%s%012x" % (_ID_PREFIX, next(_id_counter))


def _incoming_id(headers: Any) -> bytes | None:
    for name, value in headers:
        if name == HEADER:
            return value if _SANE_ID.fullmatch(value) else None
    return None


def _route(scope: Scope) -> str | None:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else None


_second: tuple[int, str] = (-1, "")  # the last whole second, formatted


def _timestamp() -> str:
    """ISO 8601 UTC with milliseconds; the seconds part is formatted once per second."""
    global _second
    now = time.time()
    whole, text = _second
    if int(now) != whole:
        whole = int(now)
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
        _second = (whole, text)
    return f"{text}.{int((now - whole) * 1000):03d}Z"


def _json_line(scope: Scope, info: RequestInfo, status: int, elapsed_ms: float) -> str:
    line = {
        "ts": _timestamp(),
        "event": "request",
        "request_id": info.request_id,
        "method": scope["method"],
        "path": scope["path"],
        "route": _route(scope),
        "status": status,
        "duration_ms": round(elapsed_ms, 3),
        "client": info.client,
        "tenant": info.tenant_id,
        "key_id": info.key_id,
    }
    try:
        return orjson.dumps(line).decode()
    except TypeError:  # a path no client should send (unpaired surrogates): log it escaped
        line["path"] = ascii(scope["path"])
        return orjson.dumps(line).decode()


def _text_line(scope: Scope, info: RequestInfo, status: int, elapsed_ms: float) -> str:
    return (
        f"{info.client or '-'} {scope['method']} {scope['path']!r} {status} {elapsed_ms:.1f}ms "
        f"request_id={info.request_id} tenant={info.tenant_id or '-'} key_id={info.key_id or '-'}"
    )
