"""What a store says about where its reads may run; `server.database` decides with it.

The storage contract (`Store`) knows nothing of event loops and threads. A backend that can do
better than "every call in a worker thread" says so here, and only the server's `Database`
facade reads it:

* `embedded`: reads are in-process and short (SQLite), cheaper to run on the event loop than to
  hand to a thread, and interruptible by `storage.loop_deadline` when one turns out long.
* `loop_reads`: this event loop's asynchronous connections (`storage.loop_reads`), on which a
  read call can run in a greenlet without blocking the loop; None when there are none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from convostore.storage.loop_reads import LoopReads


@dataclass(frozen=True)
class ReadPlacement:
    embedded: bool = False
    # this event loop's connections for reads on the loop, or None (called on the loop)
    loop_reads: Callable[[], LoopReads | None] | None = None
    # close this event loop's connections (called on the loop, when an app on it stops)
    close_loop_reads: Callable[[], None] | None = None


THREADS_ONLY = ReadPlacement()


def placement_of(store: Any) -> ReadPlacement:
    """The store's own placement (`read_placement()`), or every read in a thread."""
    describe = getattr(store, "read_placement", None)
    return describe() if describe is not None else THREADS_ONLY
