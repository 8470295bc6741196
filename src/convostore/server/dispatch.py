"""Where a store call runs: on the event loop, or in a worker thread.

Handlers are `async` and hand each store call to `read` or `write`. An embedded SQLite read costs
tens of microseconds, far less than a hop to a worker thread (which on a busy two-core machine
also fights the event loop for the GIL), so it runs inline — with a deadline: a read still
running after INLINE_READ_BUDGET_S (a search that scans every session, say) is interrupted and
run again on the store's read threads (`storage.loop_deadline`). Writes (which may wait for the
write lock and an fsync) and every call to a network database run in worker threads, so they
never stall the loop.

Threads are plain thread pools, handed calls with the event loop's own `run_in_executor`: under
load that hop cost a third of what the generic thread helpers of the web framework cost (about
18 µs of CPU against 52 µs at 16 concurrent requests). Writes share WRITE_THREADS, enough for
every connection a store may hold. Each network database has its own few read threads
(`read_threads`, default DEFAULT_READ_THREADS): every extra thread waiting on a read makes the
threads take the interpreter lock from each other more often, and on the reference machine
PostgreSQL list pages went from about 1,500 req/s with 40 read threads to about 1,900 with two
(15 context switches per request down to 6). More read threads only help while slow reads
(searches, say) keep them all waiting. Calls run in a copy of the caller's context, so the
request's context variables (the access log's record of the caller) reach the thread. A call
that has started runs to its end even if the request is abandoned meanwhile.

A network database's reads run first on the event loop, with an asynchronous driver, when the
store offers it (`loop_reads`, on by default; see storage.loop_reads): no hop, no thread taking
the interpreter lock, and the loop serves other requests while a statement waits (on two cores,
~1.4x the PostgreSQL reads per second of read threads). A call that needs a synchronous
connection after all raises `OffLoop` before touching the database and runs again on the read
threads. With `read_threads=0` such calls run on the loop itself, blocking it while they wait:
only for a database on the same machine.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from convostore.config import Settings
from convostore.storage.base import Store
from convostore.storage.loop_deadline import deadline
from convostore.storage.loop_reads import OffLoop, run_on_loop

P = ParamSpec("P")
T = TypeVar("T")

WRITE_THREADS = 40
# how long an embedded read may hold the event loop before it is run again in a read thread
INLINE_READ_BUDGET_S = 0.02
DEFAULT_READ_THREADS: int = Settings.model_fields["read_threads"].default
_writers = ThreadPoolExecutor(max_workers=WRITE_THREADS, thread_name_prefix="convostore-write")
COMPUTE_THREADS = 2
_computers = ThreadPoolExecutor(
    max_workers=COMPUTE_THREADS, thread_name_prefix="convostore-compute"
)
# each network database's readers; threads end when their store is gone
_readers: weakref.WeakKeyDictionary[Store, ThreadPoolExecutor] = weakref.WeakKeyDictionary()
_readers_lock = threading.Lock()
# network databases read on the event loop (`read_threads=0`)
_on_loop: weakref.WeakSet[Store] = weakref.WeakSet()


def serve_reads(store: Store, *, threads: int = DEFAULT_READ_THREADS) -> None:
    """Give `store` its read threads, or with 0 have it read on the event loop (once: a store
    shared by several apps keeps the first choice)."""
    if store.inline_reads or store in _readers or store in _on_loop:
        return
    if threads == 0:
        _on_loop.add(store)
    else:
        _reader_pool(store, threads)


def stop_reads(store: Store) -> None:
    """Let `store`'s read threads end once their calls are done (the app closes the store)."""
    _on_loop.discard(store)
    with _readers_lock:
        pool = _readers.pop(store, None)
    if pool is not None:
        pool.shutdown(wait=False)


async def read(store: Store, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    if store.inline_reads:
        with deadline(INLINE_READ_BUDGET_S) as budget:
            try:
                return fn(*args, **kwargs)
            except BaseException:
                if not budget.passed:
                    raise
        # it ran out of time on the loop: again, in a thread, as long as it takes
        return await _in_thread(_reader_pool(store), fn, *args, **kwargs)
    on_loop = store.loop_reads()
    if on_loop is not None:
        try:
            return await run_on_loop(on_loop, fn, *args, **kwargs)
        except OffLoop:  # it needs a synchronous connection after all: run it again
            pass
    if store in _on_loop:
        return fn(*args, **kwargs)
    return await _in_thread(_reader_pool(store), fn, *args, **kwargs)


async def write(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    return await _in_thread(_writers, fn, *args, **kwargs)


async def compute(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """CPU work that may take long (parsing a large request body): in one of COMPUTE_THREADS
    threads, so that the loop serves other requests meanwhile and no more than that many such
    jobs run at once whatever the number of clients."""
    return await _in_thread(_computers, fn, *args, **kwargs)


def _reader_pool(store: Store, threads: int = DEFAULT_READ_THREADS) -> ThreadPoolExecutor:
    pool = _readers.get(store)
    if pool is None:
        with _readers_lock:
            pool = _readers.get(store)
            if pool is None:
                pool = _readers[store] = ThreadPoolExecutor(
                    max_workers=threads, thread_name_prefix="convostore-read"
                )
    return pool


async def _in_thread(
    pool: ThreadPoolExecutor, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs
) -> T:
    call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(pool, call)
