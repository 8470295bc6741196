"""Where a store call runs: on the event loop, or in a worker thread.

Handlers are `async` and hand each store call to `read` or `write`. An embedded SQLite read costs
tens of microseconds, far less than a hop to a worker thread (which on a busy two-core machine
also fights the event loop for the GIL), so it runs inline. Writes (which may wait for the write
lock and an fsync) and every call to a network database run in the thread pool, so they never
stall the loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from starlette.concurrency import run_in_threadpool

from convostore.storage.base import Store

P = ParamSpec("P")
T = TypeVar("T")


async def read(store: Store, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    if store.inline_reads:
        return fn(*args, **kwargs)
    return await run_in_threadpool(fn, *args, **kwargs)


async def write(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    return await run_in_threadpool(fn, *args, **kwargs)
