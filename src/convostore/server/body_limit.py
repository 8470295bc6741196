"""The two limits of a request body, kept by a pure ASGI layer in front of every route.

Size: a body over `max_bytes` is refused with 413 before any handler parses or stores a byte of
it — by its `Content-Length`, else while this layer buffers it.

Pace: each chunk of a body must arrive within `timeout_s` seconds of being asked for. A client
that announces a body and then stalls would otherwise hold a request slot, and its connection,
for as long as it likes. When a chunk is late the request is answered 408 in its surface's own
shape, with `Connection: close`, and whatever its handler does after that is dropped. Only the
body's arrival is timed: once it is complete, a handler may wait on (for a disconnect) freely.

Requests that announce no body (a GET without `Content-Length` or `Transfer-Encoding`) pass
untouched, at the cost of one look through their headers. A body without a length (chunked) is
buffered here under both limits and handed on whole; a client that leaves before its end
reaches no handler, so a cut-off body is never taken for a complete one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from convostore.errors import ConvostoreError, InvalidRequest, PayloadTooLarge, RequestTimeout
from convostore.server.errors import render_error

# methods whose requests carry no body unless they announce one, with one of these headers
_BODILESS = frozenset(("GET", "HEAD", "OPTIONS"))
_BODY_HEADERS = frozenset((b"content-length", b"transfer-encoding"))


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int, timeout_s: float = 0.0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s or None  # None: no deadline

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] in _BODILESS:
            for name, _ in scope["headers"]:
                if name in _BODY_HEADERS:
                    break
            else:  # the common GET: announces no body
                await self.app(scope, receive, send)
                return
        length, chunked = _announced(scope["headers"])
        if chunked or length is None:
            await self._buffered(scope, receive, send)
            return
        if length > self.max_bytes:
            await self._refuse(scope, receive, send, self._too_large())
            return
        if length == 0 or self.timeout_s is None:
            await self.app(scope, receive, send)
            return
        paced = PacedBody(scope, receive, send, self.timeout_s)
        try:
            await self.app(scope, paced.receive, paced.send)
        except Exception:
            if not paced.answered:
                raise

    async def _buffered(self, scope: Scope, receive: Receive, send: Send) -> None:
        paced = PacedBody(scope, receive, send, self.timeout_s)
        chunks: list[bytes] = []
        size = 0
        more = True
        try:
            while more:
                message = await paced.receive()
                if message["type"] != "http.request":  # the client left before the end
                    cut = InvalidRequest("the client closed the connection within the body")
                    await self._refuse(scope, receive, send, cut)  # for the log: nobody reads it
                    return
                body = message.get("body", b"")
                size += len(body)
                if size > self.max_bytes:
                    await self._refuse(scope, receive, send, self._too_large())
                    return
                chunks.append(body)
                more = message.get("more_body", False)
        except BodyTimedOut:
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(f"request body is larger than {self.max_bytes} bytes")

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, error: ConvostoreError
    ) -> None:
        response = render_error(scope["app"], scope["path"], error)
        await response(scope, receive, send)


class BodyTimedOut(HTTPException):
    """Raised to the handler whose body stalled, after the 408 went out. An HTTP exception, so
    FastAPI's body parsing passes it on (it turns others into a 400) and the app's handlers
    answer it without logging an error; their answer is dropped."""

    def __init__(self) -> None:
        super().__init__(status_code=408)


class PacedBody:
    """A request's `receive` with a deadline on each chunk of its body, and its `send`, which
    lets nothing through once the deadline has answered."""

    __slots__ = (
        "_receive",
        "_scope",
        "_send",
        "_timeout",
        "answered",
        "complete",
        "late",
        "started",
    )

    def __init__(self, scope: Scope, receive: Receive, send: Send, timeout: float | None) -> None:
        self._scope = scope
        self._receive = receive
        self._send = send
        self._timeout = timeout
        self.answered = False  # the 408 went out
        self.late = False  # a chunk did not arrive in time
        self.complete = False  # the whole body has arrived (or the client left)
        self.started = False  # a response has begun

    async def receive(self) -> Message:
        if self.complete or self._timeout is None:
            return await self._receive()
        # what asyncio.timeout does, for far less CPU per chunk under uvloop
        task = asyncio.current_task()
        assert task is not None
        cancelling = task.cancelling()
        late = asyncio.get_running_loop().call_later(self._timeout, self._late, task)
        try:
            message = await self._receive()
        except asyncio.CancelledError:
            if not self.late or task.uncancel() > cancelling:
                raise  # cancelled by someone else (too)
            await self._answer()
            raise BodyTimedOut from None
        finally:
            late.cancel()
        if message["type"] != "http.request" or not message.get("more_body", False):
            self.complete = True
        return message

    def _late(self, task: asyncio.Task[Any]) -> None:
        self.late = True
        task.cancel()

    async def send(self, message: Message) -> None:
        if self.answered:
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)

    async def _answer(self) -> None:
        """408 in the surface's shape, closing the connection; too late once a response began
        (the error then reaches the server, which closes the connection itself)."""
        if self.started:
            return
        self.answered = True
        seconds = f"{self._timeout:g}"
        error = RequestTimeout(f"the request body stalled: nothing arrived for {seconds} seconds")
        response = render_error(self._scope["app"], self._scope["path"], error)
        response.headers["connection"] = "close"
        await response(self._scope, self._receive, self._send)


def _announced(headers: Iterable[tuple[bytes, bytes]]) -> tuple[int | None, bool]:
    """The body a request announces: its `Content-Length` (None if absent or unreadable) and
    whether it has a `Transfer-Encoding` (then it is sent in chunks, whatever the length says)."""
    length: int | None = None
    chunked = False
    for name, value in headers:
        if name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                length = None
        elif name == b"transfer-encoding":
            chunked = True
    return length, chunked
