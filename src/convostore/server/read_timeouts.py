"""The read deadlines uvicorn does not keep, so slow clients cannot hold connections forever.

uvicorn's one read timeout is keep-alive: it runs only between requests, and any byte received
cancels it. So a client that connects and sends nothing, sends its headers a byte at a time, or
trickles a body that no handler reads, holds its connection for as long as it likes, and enough
such clients take all the connections the server can keep (slow-loris). `ReadTimeoutProtocol`
is uvicorn's httptools protocol with one timer more, armed only while the server waits on the
client with no handler reading:

- headers: a request's line and headers must be complete within `header_timeout_s` of the
  connection opening (its first request) or of the request's first byte (a later request on a
  kept-alive connection; uvicorn's keep-alive timeout covers the wait before that byte). Else
  the server answers 408 and closes the connection; one that sent nothing is just closed.
- a leftover body: once a request is answered while its body is still arriving (its handler
  answered without reading it all), each chunk must arrive within `body_timeout_s`, and the
  next request's headers within `header_timeout_s` after it; else the connection is closed. A
  body a handler reads is timed by `server.body_limit` instead, which answers in its surface's
  shape.

This reaches into uvicorn's internals — the httptools parser callbacks (`on_message_begin`,
`on_headers_complete`, `on_body`, `on_message_complete`), `connection_made`, `connection_lost`,
`data_received`, `on_response_complete`, and the `transport`, `loop` and `cycle` attributes — as
they are in uvicorn 0.55.0. tests/integration/test_read_timeouts.py drives each of them through
a real socket, so an upgrade that changes them fails there. `CONVOSTORE_HEADER_TIMEOUT_S=0` is
the off switch: `convostore serve` then runs uvicorn's own protocol, untouched.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_TIMEOUT_TEXT = b"the request's headers did not arrive in time"
REQUEST_TIMEOUT = b"".join(
    [
        b"HTTP/1.1 408 Request Timeout\r\n",
        b"content-type: text/plain; charset=utf-8\r\n",
        b"content-length: %d\r\n" % len(_TIMEOUT_TEXT),
        b"connection: close\r\n\r\n",
        _TIMEOUT_TEXT,
    ]
)


class ReadTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with deadlines on headers and on bodies nobody reads."""

    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0

    _deadline: asyncio.TimerHandle | None = None
    _in_headers = False  # a request has begun and its headers are not complete yet
    _leftover = False  # a request was answered while its body is still arriving

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_timeout_s)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # armed only when headers stay incomplete: most requests arrive whole, in one read
        if self._in_headers and self._deadline is None and not self.transport.is_closing():
            self._arm(self.header_timeout_s)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_headers = True

    def on_headers_complete(self) -> None:
        self._in_headers = False
        self._disarm()
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        if self._leftover:
            self._arm(self.body_timeout_s)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        if self._leftover:
            # uvicorn's keep-alive timer was cancelled by the body's bytes: wait as for headers
            self._leftover = False
            self._arm(self.header_timeout_s)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        cycle = self.cycle
        if cycle.response_complete and cycle.more_body and not self.transport.is_closing():
            self._leftover = True
            self._arm(self.body_timeout_s)

    def _arm(self, seconds: float) -> None:
        self._disarm()
        if seconds > 0:
            self._deadline = self.loop.call_later(seconds, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        cycle = self.cycle  # None until a request's headers are complete
        if cycle is not None and not cycle.response_complete:
            # a handler is still answering an earlier request: close once it has answered
            cycle.keep_alive = False
            return
        if self._in_headers:
            self.transport.write(REQUEST_TIMEOUT)
        self.transport.close()


def read_timeout_protocol(
    header_timeout_s: float, body_timeout_s: float
) -> type[ReadTimeoutProtocol]:
    """The protocol class to pass as uvicorn's `http`, keeping these deadlines (0: none)."""

    class Configured(ReadTimeoutProtocol):
        pass

    Configured.header_timeout_s = header_timeout_s
    Configured.body_timeout_s = body_timeout_s
    return Configured
