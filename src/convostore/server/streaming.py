"""JSON bodies too large to hold at once, written as they are read.

A handler builds its body as usual, but where a long list goes it puts a `Streamed`: the list's
items, in chunks that arrive one at a time (`read_chunks` reads each through its `Database`, as
any store call is read, and lets the event loop serve others between chunks). `JSONStream` writes
the body: what surrounds the lists is rendered once, and each chunk is rendered and sent as soon as
it is read, so a response holds one chunk at a time however long its lists are, and the
transport's flow control pauses it while a slow client catches up. A `Streamed` may sit anywhere
in a body, in a chunk's items too (a run's messages inside a list of runs).

Once the first bytes are out the status is fixed: a failure while reading a later chunk can only
cut the connection short (the client sees an incomplete body, never a complete wrong one). So a
handler reads the first chunk, with its checks (authentication, not found), before it answers
(`first_and_rest`), and answers with a plain `JSONResponse` when that chunk is all there is: the
common, small answer costs what it always did.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping, Sequence
from typing import Any, TypeVar

from starlette.responses import StreamingResponse

from convostore.server.database import Database
from convostore.server.json_wire import dumps, value_fields

__all__ = ["JSONStream", "Streamed", "first_and_rest", "read_chunks"]

P = TypeVar("P")
T = TypeVar("T")

# A chunk reader: from a position (where the previous chunk ended) to a chunk of items and the
# position after it, None when the list is done.
Fetch = Callable[[P], tuple[Sequence[T], P | None]]


class Streamed:
    """A JSON array in a response body: `first` (already read), then the chunks of `rest`."""

    __slots__ = ("first", "rest")

    def __init__(
        self, first: Sequence[Any] = (), rest: AsyncIterable[Sequence[Any]] | None = None
    ) -> None:
        self.first = first
        self.rest = rest

    async def chunks(self) -> AsyncIterator[Sequence[Any]]:
        if self.first:
            yield self.first
        if self.rest is not None:
            async for chunk in self.rest:
                yield chunk


async def read_chunks(
    db: Database, fetch: Fetch[P, T], position: P | None
) -> AsyncIterator[Sequence[T]]:
    """Chunks from `fetch(position)` on, each read through `db`, until it answers no
    next position. Between chunks the event loop serves other requests (an embedded database is
    read on the loop, and a fast client never makes the writer wait)."""
    while position is not None:
        items, position = await db.read(fetch, position)
        yield items
        await asyncio.sleep(0)


async def first_and_rest(
    db: Database, fetch: Fetch[P, T], start: P
) -> tuple[Sequence[T], Streamed | None]:
    """The first chunk, read now (its errors are the request's), and a `Streamed` of the whole
    list when more follow it (None when the first chunk is the whole list)."""
    first, position = await db.read(fetch, start)
    if position is None:
        return first, None
    return first, Streamed(first, read_chunks(db, fetch, position))


class JSONStream(StreamingResponse):
    """A JSON body holding `Streamed` lists, written a chunk at a time (chunked encoding)."""

    media_type = "application/json"

    def __init__(
        self, content: Any, status_code: int = 200, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(_pieces(content, _Placeholders()), status_code, headers)


class _Placeholders:
    """Writes each `Streamed` met while rendering as one quoted token, random per response (so no
    stored text can forge it), and remembers them in the order the renderer met them."""

    def __init__(self) -> None:
        self.token = f"convostore-streamed-{secrets.token_hex(16)}"
        self.quoted = f'"{self.token}"'.encode()
        self.found: list[Streamed] = []

    def __call__(self, value: Any) -> Any:
        if isinstance(value, Streamed):
            self.found.append(value)
            return self.token
        return value_fields(value)

    def render(self, value: Any) -> tuple[list[bytes], list[Streamed]]:
        """`value` as JSON, split where its placeholders were: n lists give n + 1 pieces."""
        self.found = []
        text = dumps(value, default=self)
        found = self.found
        if not found:
            return [text], found  # not split: a split copies even what it does not cut
        pieces = text.split(self.quoted)
        if len(pieces) != len(found) + 1:
            raise RuntimeError("a streamed body's placeholder was not where it was put")
        return pieces, found


async def _pieces(value: Any, placeholders: _Placeholders) -> AsyncIterator[bytes | memoryview]:
    """The body's bytes in pieces: a chunk's items are one piece, never copied again here (a
    view of their rendering without its brackets)."""
    pieces, streams = placeholders.render(value)
    for piece, stream in zip(pieces, streams, strict=False):
        yield piece
        yield b"["
        first = True
        async for chunk in stream.chunks():
            if not chunk:
                continue
            if not first:
                yield b","
            first = False
            inner, nested = placeholders.render(list(chunk))
            if not nested:  # the usual case: the chunk's items at once
                yield memoryview(inner[0])[1:-1]
                continue
            for index, item in enumerate(chunk):  # items holding streamed lists of their own
                if index:
                    yield b","
                async for part in _pieces(item, placeholders):
                    yield part
        yield b"]"
    yield pieces[-1]
