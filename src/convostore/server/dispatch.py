"""Where a store call runs: on the event loop, or in a worker thread.

Handlers are `async` and hand each store call to `read` or `write`. An embedded SQLite read costs
tens of microseconds, far less than a hop to a worker thread (which on a busy two-core machine
also fights the event loop for the GIL), so it runs inline. Writes (which may wait for the write
lock and an fsync) and every call to a network database run in worker threads, so they never
stall the loop.

The workers are a plain thread pool of WORKER_THREADS, handed calls with the event loop's own
`run_in_executor`: under load that hop cost a third of what the generic thread helpers of the web
framework cost (about 18 µs of CPU against 52 µs at 16 concurrent requests), which is most of
what separates a PostgreSQL read from an SQLite one. Calls run in a copy of the caller's context,
so the request's context variables (the access log's record of the caller) reach the thread. A
call that has started runs to its end even if the request is abandoned meanwhile.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from convostore.storage.base import Store

P = ParamSpec("P")
T = TypeVar("T")

# As many store calls at once as the default thread limit of the web framework allowed before.
WORKER_THREADS = 40
_workers = ThreadPoolExecutor(max_workers=WORKER_THREADS, thread_name_prefix="convostore-store")


async def read(store: Store, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    if store.inline_reads:
        return fn(*args, **kwargs)
    return await _in_thread(fn, *args, **kwargs)


async def write(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    return await _in_thread(fn, *args, **kwargs)


async def _in_thread(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_workers, call)
