"""The access log: one line per answer, written to the `convostore.access` logger.

A line holds the request id, method, path, route template, status, duration, client address and
the caller's tenant and public key id — one JSON object by default, or plain text. Query strings,
bodies and API keys are never logged. `RequestIdMiddleware` writes a line as each request ends.

With the default handler (stderr), lines are written in batches: a line waits at most
FLUSH_AFTER_S (or until LINES_PER_WRITE lines are waiting, or an error answer arrives, or the
server stops), because a `LogRecord` and a `write()` per request cost a noticeable share of a
list page. The batch keeps each request's fields and formats the lines when it is written, which
costs less than formatting each line at the end of its request. A handler the host application
installed instead gets one record per request, formatted at once, as usual.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, Literal, Protocol

import orjson
from starlette.types import Scope

__all__ = [
    "ACCESS_LOGGER",
    "FLUSH_AFTER_S",
    "LINES_PER_WRITE",
    "LineFormat",
    "LoggedRequest",
    "configure_access_log",
    "flush_access_log",
    "line_format",
    "log_request",
]

ACCESS_LOGGER = "convostore.access"
FLUSH_AFTER_S = 0.1
LINES_PER_WRITE = 256
access_log = logging.getLogger(ACCESS_LOGGER)


class LoggedRequest(Protocol):
    """What a line tells of the request besides its HTTP fields (`request_id.RequestInfo`)."""

    request_id: str
    client: str | None
    tenant_id: str | None
    key_id: str | None


# A line from (time, method, path, route template, status, duration in ms, request).
LineFormat = Callable[[float, str, str, str | None, int, float, LoggedRequest], str]


def line_format(name: Literal["json", "text"]) -> LineFormat:
    """How lines are written: one JSON object each, or plain text."""
    return _json_line if name == "json" else _text_line


def configure_access_log() -> None:
    """Give the access logger the batching stderr handler unless the host application set one up.

    Lines are fully formatted here, so the handler prints the message alone. The logger does not
    propagate, so a root handler configured elsewhere does not print lines twice.
    """
    if access_log.handlers:
        return
    access_log.addHandler(_stderr)
    access_log.setLevel(logging.INFO)
    access_log.propagate = False


def flush_access_log() -> None:
    """Write out the lines still waiting (the app calls it when it stops; logging does at exit)."""
    _stderr.flush()


def log_request(
    line: LineFormat, scope: Scope, status: int, started: float, request: LoggedRequest
) -> None:
    """The line of a request that began at `started` (`time.perf_counter()`) and was answered
    with `status`; an answer of 500 or more is logged as an error."""
    if not access_log.isEnabledFor(logging.INFO):
        return
    elapsed_ms = (time.perf_counter() - started) * 1000.0
    level = logging.ERROR if status >= 500 else logging.INFO
    fields: tuple[Any, ...] = (
        time.time(),
        scope["method"],
        scope["path"],
        _route(scope),
        status,
        elapsed_ms,
        request,
    )
    if _only_default_handler():
        _stderr.add((line, fields), urgent=level >= logging.WARNING)
    else:
        # a record made directly skips `findCaller`, the costliest part of `log()`
        text = line(*fields)
        record = access_log.makeRecord(ACCESS_LOGGER, level, "", 0, text, (), None)
        access_log.handle(record)


class _StderrHandler(logging.Handler):
    """Writes lines to whatever `sys.stderr` is at the time (a swapped stream is never kept), a
    batch per `write()`.

    A line waits until LINES_PER_WRITE are waiting, an error line arrives, or FLUSH_AFTER_S has
    passed: a timer on the event loop the line came from. A line from anywhere else (no running
    loop, or another loop than the timer's) is written at once, so no line waits on a loop that
    may never run again.
    """

    def __init__(self) -> None:
        super().__init__()
        # lines, or (format, fields) pairs formatted when the batch is written
        self.waiting: list[str | tuple[Callable[..., str], tuple[Any, ...]]] = []
        self.timer: asyncio.TimerHandle | None = None
        self.timer_loop: asyncio.AbstractEventLoop | None = None
        self.guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        self.add(str(record.msg), urgent=record.levelno >= logging.WARNING)

    def add(
        self, line: str | tuple[Callable[..., str], tuple[Any, ...]], *, urgent: bool = False
    ) -> None:
        with self.guard:
            self.waiting.append(line)
            if not urgent and len(self.waiting) < LINES_PER_WRITE:
                try:
                    loop = asyncio.get_running_loop()
                except RuntimeError:
                    loop = None
                if loop is not None and self.timer is None:
                    self.timer = loop.call_later(FLUSH_AFTER_S, self.flush)
                    self.timer_loop = loop
                    return
                if loop is not None and loop is self.timer_loop:
                    return
            self._write()

    def flush(self) -> None:
        with self.guard:
            self._write()

    def _write(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = self.timer_loop = None
        if not self.waiting:
            return
        waiting, self.waiting = self.waiting, []
        text = ""
        try:
            text = "\n".join(e if isinstance(e, str) else e[0](*e[1]) for e in waiting) + "\n"
            stream = sys.stderr
            stream.write(text)
            stream.flush()
        except Exception:
            self.handleError(logging.makeLogRecord({"msg": text}))


_stderr = _StderrHandler()  # logging's own exit hook flushes it too


def _only_default_handler() -> bool:
    """The access logger writes through the default handler alone, with no filters, so a line
    can skip the `LogRecord` (which costs more than the line)."""
    handlers = access_log.handlers
    return (
        len(handlers) == 1
        and handlers[0] is _stderr
        and not access_log.filters
        and not _stderr.filters
    )


def _route(scope: Scope) -> str | None:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else None


_second: tuple[int, str] = (-1, "")  # the last whole second, formatted


def _timestamp(now: float) -> str:
    """ISO 8601 UTC with milliseconds; the seconds part is formatted once per second."""
    global _second
    whole, text = _second
    if int(now) != whole:
        whole = int(now)
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
        _second = (whole, text)
    return f"{text}.{int((now - whole) * 1000):03d}Z"


def _json_line(
    at: float,
    method: str,
    path: str,
    route: str | None,
    status: int,
    elapsed_ms: float,
    info: LoggedRequest,
) -> str:
    line = {
        "ts": _timestamp(at),
        "event": "request",
        "request_id": info.request_id,
        "method": method,
        "path": path,
        "route": route,
        "status": status,
        "duration_ms": round(elapsed_ms, 3),
        "client": info.client,
        "tenant": info.tenant_id,
        "key_id": info.key_id,
    }
    try:
        return orjson.dumps(line).decode()
    except TypeError:  # a path no client should send (unpaired surrogates): log it escaped
        line["path"] = ascii(path)
        return orjson.dumps(line).decode()


def _text_line(
    _at: float,
    method: str,
    path: str,
    _template: str | None,
    status: int,
    elapsed_ms: float,
    info: LoggedRequest,
) -> str:
    return (
        f"{info.client or '-'} {method} {path!r} {status} {elapsed_ms:.1f}ms "
        f"request_id={info.request_id} tenant={info.tenant_id or '-'} key_id={info.key_id or '-'}"
    )
