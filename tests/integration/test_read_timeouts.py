"""`ReadTimeoutProtocol` on a real socket: each uvicorn hook it relies on, driven once.

The protocol subclasses uvicorn's httptools protocol and depends on when uvicorn calls which of
its methods; these tests fail if an upgrade of uvicorn changes that (see
`convostore.server.read_timeouts`). The app is a bare ASGI callable: only the protocol is tested.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from starlette.types import Receive, Scope, Send
from uvicorn.server import ServerState

from convostore.server.read_timeouts import REQUEST_TIMEOUT, read_timeout_protocol

LIMIT_S = 0.3
# long enough to tell a deadline that fired from one that did not
PATIENCE_S = 1.5
REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers every request with 200 at once, reading no body."""
    if scope["type"] != "http":
        return
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]}
    )
    await send({"type": "http.response.body", "body": b"ok"})


@asynccontextmanager
async def serving(header_s: float = LIMIT_S, body_s: float = LIMIT_S) -> AsyncIterator[int]:
    config = uvicorn.Config(
        app,
        http=read_timeout_protocol(header_s, body_s),
        lifespan="off",
        log_level="warning",
        timeout_keep_alive=60,  # uvicorn's own timer never interferes here
    )
    config.load()
    state = ServerState()
    server = await asyncio.get_running_loop().create_server(
        lambda: config.http_protocol_class(config=config, server_state=state, app_state={}),
        "127.0.0.1",
        0,
    )
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for connection in list(state.connections):
            connection.shutdown()
        await server.wait_closed()


async def read_answer(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    return head + await reader.readexactly(length)


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> tuple[bytes, float]:
    """What the server sent until it closed, and when it closed; fails if it did not."""
    started = time.monotonic()
    received = await asyncio.wait_for(reader.read(), seconds)  # read() returns at EOF
    return received, time.monotonic() - started


async def still_open(reader: asyncio.StreamReader, seconds: float) -> bool:
    try:
        await asyncio.wait_for(reader.read(1), seconds)
    except TimeoutError:
        return True
    return False


def test_an_idle_connection_is_closed_without_an_answer() -> None:
    async def test() -> None:
        async with serving() as port:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            received, after = await closed_within(reader, PATIENCE_S)
            assert received == b"" and after >= LIMIT_S * 0.8
            writer.close()

    asyncio.run(test())


def test_headers_that_stay_incomplete_get_408_and_the_connection_closes() -> None:
    async def test() -> None:
        async with serving() as port:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a")
            for _ in range(3):  # a byte now and then restarts nothing
                await asyncio.sleep(LIMIT_S / 3)
                writer.write(b"a")
            received, _ = await closed_within(reader, PATIENCE_S)
            assert received == REQUEST_TIMEOUT
            writer.close()

    asyncio.run(test())


def test_requests_in_time_are_served_and_later_requests_get_their_own_deadline() -> None:
    async def test() -> None:
        async with serving() as port:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            for part in (b"GET / HTTP/1.1\r\n", b"Host: 127.0.0.1\r\n", b"\r\n"):
                writer.write(part)  # slow, but within the deadline
                await asyncio.sleep(LIMIT_S / 5)
            assert (await read_answer(reader)).startswith(b"HTTP/1.1 200 ")
            # answered: no deadline runs while the connection waits for the next request
            assert await still_open(reader, LIMIT_S * 2)
            writer.write(REQUEST)
            assert (await read_answer(reader)).startswith(b"HTTP/1.1 200 ")
            writer.write(b"GET / HTTP/1.1\r\n")  # a later request's headers, left incomplete
            received, after = await closed_within(reader, PATIENCE_S)
            assert received == REQUEST_TIMEOUT and after >= LIMIT_S * 0.8
            writer.close()

    asyncio.run(test())


def test_a_body_nobody_reads_must_keep_arriving() -> None:
    """The app answers without reading the body; the rest of it then has a per-chunk deadline,
    and the next request's headers a deadline after it."""

    async def test() -> None:
        async with serving() as port:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            head = b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 20\r\n\r\n"
            writer.write(head + b"0123456789")
            assert (await read_answer(reader)).startswith(b"HTTP/1.1 200 ")
            for byte in b"abcde":  # chunks in time keep it going
                await asyncio.sleep(LIMIT_S / 3)
                writer.write(bytes([byte]))
            writer.write(b"fghij" + REQUEST)  # the body's end, then a whole new request
            assert (await read_answer(reader)).startswith(b"HTTP/1.1 200 ")

            writer.write(head + b"0123456789")
            assert (await read_answer(reader)).startswith(b"HTTP/1.1 200 ")
            writer.write(b"a")
            received, after = await closed_within(reader, PATIENCE_S)  # then it stalls
            assert received == b"" and after >= LIMIT_S * 0.8
            writer.close()

            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(head + b"01234567890123456789")  # whole, answered, then nothing
            assert (await read_answer(reader)).startswith(b"HTTP/1.1 200 ")
            assert await still_open(reader, LIMIT_S * 2)
            writer.close()

    asyncio.run(test())


def test_zero_turns_each_deadline_off() -> None:
    async def test() -> None:
        async with serving(header_s=0, body_s=0) as port:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET / HTTP/1.1\r\n")
            assert await still_open(reader, LIMIT_S * 2)
            writer.close()

    asyncio.run(test())
