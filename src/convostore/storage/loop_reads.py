"""PostgreSQL reads on the event loop, with an asynchronous driver (`run_on_loop`).

A read handed to a worker thread costs the server far more than the statement: the hop, the context
switches, and both threads taking the interpreter lock in turn while the thread builds its values
(docs/performance.md has the measurements). Blocking the loop on the statement instead would stall
every request while it waits.

So a read call runs on the loop in a greenlet (SQLAlchemy's `greenlet_spawn`): the store's code
stays synchronous, and each prepared statement (`ReadConnections.run`) is sent on an
asynchronous psycopg connection of this loop's own (`LoopReads`), the greenlet waiting for it
while the loop serves other requests. Anything else that would use the database from inside
such a call — a read through SQLAlchemy (`SqlBase.read`), or a statement that failed on its
connection — raises `OffLoop` before touching the database, and the caller runs the whole call
again in a worker thread, as before. Reads change nothing, so running one again is safe.

greenlet comes with the `postgres` extra. Where it cannot be imported anyway, reads go to the
worker threads (`greenlet_installed` warns once) rather than every read failing.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import importlib
import logging
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy.util.concurrency import greenlet_spawn, in_greenlet

T = TypeVar("T")

# how these connections name themselves to PostgreSQL (unless the URL names them)
LOOP_READS_NAME = "convostore-loop-reads"

log = logging.getLogger("convostore.storage")


@functools.cache
def greenlet_installed() -> bool:
    """Whether greenlet, which runs reads on the loop, can be imported; if not, one warning per
    process (asked when a store opens, so the warning comes at start-up)."""
    try:
        importlib.import_module("greenlet")
    except ImportError:
        log.warning(
            "greenlet is not installed: PostgreSQL reads run on read threads, not on the event "
            "loop (CONVOSTORE_LOOP_READS); install convostore[postgres], which brings it"
        )
        return False
    return True


class OffLoop(BaseException):
    """This read cannot go on on the loop; run the call in a worker thread. A BaseException, so
    that no `except Exception` on the way mistakes it for the read's own failure."""


# the loop's connections of the store whose call is running in this greenlet
_current: contextvars.ContextVar[LoopReads | None] = contextvars.ContextVar(
    "convostore_loop_reads", default=None
)


def loop_reads_here() -> LoopReads | None:
    """The connections to read on, when running inside `run_on_loop`; else None."""
    reads = _current.get()
    return reads if reads is not None and in_greenlet() else None


def refuse_on_loop() -> None:
    """Called before a synchronous use of the database: inside `run_on_loop` it would block the
    loop, so the call is sent to a worker thread instead."""
    if loop_reads_here() is not None:
        raise OffLoop


async def run_on_loop(reads: LoopReads, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    token = _current.set(reads)
    try:
        return await greenlet_spawn(fn, *args, **kwargs)
    finally:
        _current.reset(token)


Pair = tuple[Any, Any]  # an asynchronous connection and its one cursor


class LoopReads:
    """Up to `size` asynchronous connections of one event loop, autocommit, reused."""

    def __init__(self, owner: Any, connect: dict[str, Any], size: int) -> None:
        self.owner = owner  # the ReadConnections these serve
        self._connect = connect
        self._size = max(size, 1)
        self._idle: list[Pair] = []
        self._open = 0
        self._waiters: deque[asyncio.Future[Pair | None]] = deque()
        self._closed = False

    async def rows(self, sql: str, args: Any) -> Sequence[Sequence[Any]]:
        """The statement's rows; OffLoop when it failed on its connection (which is dropped)."""
        import psycopg

        pair = await self._acquire()
        try:
            cursor = pair[1]
            await cursor.execute(sql, args)
            rows: Sequence[Sequence[Any]] = await cursor.fetchall()
        except psycopg.Error:
            self._discard(pair)
            raise OffLoop from None
        except BaseException:  # cancelled mid-statement: the connection's state is unknown
            self._discard(pair)
            raise
        self._release(pair)
        return rows

    async def _acquire(self) -> Pair:
        if self._closed:
            raise OffLoop
        if self._idle:
            return self._idle.pop()
        if self._open >= self._size:
            waiter: asyncio.Future[Pair | None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                handed = await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled() and waiter.result() is not None:
                    self._release(waiter.result())  # type: ignore[arg-type]
                raise
            if handed is not None:
                return handed
        return await self._new()

    async def _new(self) -> Pair:
        import psycopg

        self._open += 1
        try:
            conn = await psycopg.AsyncConnection.connect(**self._connect)
        except BaseException:
            self._open -= 1
            self._wake(None)
            raise OffLoop from None
        return conn, conn.cursor()

    def _release(self, pair: Pair) -> None:
        if self._closed:
            self._discard(pair)
        elif not self._wake(pair):
            self._idle.append(pair)

    def _discard(self, pair: Pair) -> None:
        pair[0].pgconn.finish()  # closes the socket at once; nothing to wait for
        self._open -= 1
        self._wake(None)  # a waiter may open a connection in its place

    def _wake(self, pair: Pair | None) -> bool:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(pair)
                return True
        return False

    def close(self) -> None:
        """Close the idle connections now and the others when they are given back (again:
        nothing more)."""
        self._closed = True
        idle, self._idle = self._idle, []
        for pair in idle:
            self._discard(pair)
        while self._waiters:
            self._waiters.popleft().cancel()


class LoopReadsByLoop:
    """Each event loop's `LoopReads` for one store (a connection belongs to the loop it was
    opened on: an app's lifespan closes its loop's, `close_all` the store's)."""

    def __init__(self, owner: Any, connect: dict[str, Any], size: int) -> None:
        self._owner = owner
        self._connect = connect
        self._size = size
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopReads] = (
            weakref.WeakKeyDictionary()
        )

    def here(self) -> LoopReads:
        loop = asyncio.get_running_loop()
        reads = self._by_loop.get(loop)
        if reads is None:
            reads = self._by_loop[loop] = LoopReads(self._owner, self._connect, self._size)
            # a loop may end without its app's lifespan (a test's own loop, say): its
            # connections are closed when it goes, not left to be collected open
            weakref.finalize(loop, reads.close)
        return reads

    def close_here(self) -> None:
        reads = self._by_loop.pop(asyncio.get_running_loop(), None)
        if reads is not None:
            reads.close()

    def close_all(self) -> None:
        for reads in list(self._by_loop.values()):
            reads.close()
        self._by_loop.clear()
