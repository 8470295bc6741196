"""Where a store call runs: the one owner of the server's event loop, greenlets and threads.

Handlers await `Database.read` and `Database.write` with a synchronous store call; nothing else in
the server (and nothing in the storage contract) decides where work runs. The rules:

* The event loop is never held for long. An embedded (SQLite) read runs on the loop, since a
  short indexed read costs less than a hop to a thread, under a deadline (`storage.loop_deadline`):
  a read still running after `INLINE_READ_BUDGET_S` is interrupted and run again in a read thread,
  where it may take as long as it needs.
* A network database (PostgreSQL) is read on the loop with an asynchronous driver when the store
  offers it (`storage.loop_reads`, in a greenlet: the loop serves other requests while a
  statement waits). A call that needs a synchronous connection after all raises `OffLoop` before
  touching the database and is run again in a read thread. Reads change nothing, so running one
  again is safe.
* Other reads run on the database's own few read threads (`read_threads`): every extra thread
  waiting on a read makes the threads take the interpreter lock from each other more often. With
  `read_threads=0` they run on the loop itself, blocking it while they wait (only for a database
  on the same machine).
* Writes (which may wait for the write lock and an fsync) run on the shared write threads,
  enough for every connection a store may hold. CPU work that may take long (parsing a large
  request body) runs on the compute threads, so that however many clients send such work, only
  that many jobs hold the interpreter at once.

Threads are plain thread pools handed calls with the event loop's own `run_in_executor` (a
cheaper hop than the web framework's generic helpers). Calls run in a copy of the caller's
context, so the request's context variables (the access log's record of the caller) reach the
thread. A call that has started runs to its end even if the request is abandoned meanwhile.
docs/performance.md has the measured effect of each choice.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from convostore.storage.base import Store
from convostore.storage.loop_deadline import deadline
from convostore.storage.loop_reads import OffLoop, run_on_loop
from convostore.storage.placement import placement_of

P = ParamSpec("P")
T = TypeVar("T")

WRITE_THREADS = 40
COMPUTE_THREADS = 2
# how long an embedded read may hold the event loop before it is run again in a read thread
INLINE_READ_BUDGET_S = 0.02


class Workers:
    """The threads one server shares among its databases: writes, and CPU-heavy work."""

    def __init__(
        self, *, write_threads: int = WRITE_THREADS, compute_threads: int = COMPUTE_THREADS
    ) -> None:
        self._writers = ThreadPoolExecutor(write_threads, thread_name_prefix="convostore-write")
        self._computers = ThreadPoolExecutor(
            compute_threads, thread_name_prefix="convostore-compute"
        )

    async def write(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await in_thread(self._writers, fn, *args, **kwargs)

    async def compute(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await in_thread(self._computers, fn, *args, **kwargs)

    def close(self) -> None:
        """Let the threads end once the calls they run are done."""
        self._writers.shutdown(wait=False)
        self._computers.shutdown(wait=False)


class Database:
    """One store, awaited: `read` and `write` run a store call where the rules above say."""

    def __init__(self, store: Store, workers: Workers, *, read_threads: int = 2) -> None:
        self.store = store
        self._workers = workers
        self._placement = placement_of(store)
        # read threads are only started for reads that need them
        self._read_threads = read_threads
        self._readers: ThreadPoolExecutor | None = None

    async def read(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        placement = self._placement
        if placement.embedded:
            with deadline(INLINE_READ_BUDGET_S) as budget:
                try:
                    return fn(*args, **kwargs)
                except BaseException:
                    if not budget.passed:
                        raise
            # it ran out of time on the loop: again, in a thread, as long as it takes
            return await in_thread(self._reader_pool(), fn, *args, **kwargs)
        if placement.loop_reads is not None:
            connections = placement.loop_reads()
            if connections is not None:
                try:
                    return await run_on_loop(connections, fn, *args, **kwargs)
                except OffLoop:  # it needs a synchronous connection after all: run it again
                    pass
        if self._read_threads == 0:
            return fn(*args, **kwargs)
        return await in_thread(self._reader_pool(), fn, *args, **kwargs)

    async def write(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._workers.write(fn, *args, **kwargs)

    def close_loop(self) -> None:
        """Close what this event loop holds for reads (its app stops; the store may go on)."""
        if self._placement.close_loop_reads is not None:
            self._placement.close_loop_reads()

    def close(self) -> None:
        """Let the read threads end once their calls are done; the store is its owner's."""
        if self._readers is not None:
            self._readers.shutdown(wait=False)
            self._readers = None

    def _reader_pool(self) -> ThreadPoolExecutor:
        # created on the event loop's thread only (`read` is a coroutine): no lock needed
        if self._readers is None:
            self._readers = ThreadPoolExecutor(
                max(self._read_threads, 1), thread_name_prefix="convostore-read"
            )
        return self._readers


async def in_thread(
    pool: ThreadPoolExecutor, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs
) -> T:
    call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(pool, call)
