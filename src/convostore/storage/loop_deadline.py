"""How long an embedded SQLite read may hold the event loop before it is moved to a thread.

SQLite reads run on the server's event loop: for the short indexed reads that serve most
requests that is cheaper than a hop to a thread. A few reads cannot be known to be short in
advance — a title search that matches nothing scans every session of the tenant, a total counts
them — and one of those would stall every other request while it runs. So a read running on the
loop has a deadline (`deadline`): SQLite calls `on_progress` every PROGRESS_STEPS steps of its
virtual machine on every connection, and once the deadline of the read on that thread has passed,
the statement is interrupted. The caller then runs the whole read again in a worker thread, where
it may take as long as it needs. Reads change nothing, so running one again is safe.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["PROGRESS_STEPS", "Deadline", "deadline", "interrupted", "on_progress"]

# SQLite virtual-machine steps between two looks at the clock: a fraction of a millisecond of
# work, and one look costs far less than a short read
PROGRESS_STEPS = 10_000

_local = threading.local()


class Deadline:
    """When the read running on this thread must give the loop back, and whether it did."""

    __slots__ = ("at", "passed")

    def __init__(self, at: float) -> None:
        self.at = at
        self.passed = False


@contextmanager
def deadline(seconds: float) -> Iterator[Deadline]:
    """Give the reads this thread runs inside the block `seconds` before they are interrupted."""
    previous = getattr(_local, "deadline", None)
    current = _local.deadline = Deadline(time.monotonic() + seconds)
    try:
        yield current
    finally:
        _local.deadline = previous


def interrupted() -> bool:
    """True once the deadline of this thread's read has passed (its statement was interrupted)."""
    current: Deadline | None = getattr(_local, "deadline", None)
    return current is not None and current.passed


def on_progress() -> int:
    """SQLite's progress handler: non-zero interrupts the statement running on this thread."""
    current: Deadline | None = getattr(_local, "deadline", None)
    if current is None or time.monotonic() < current.at:
        return 0
    current.passed = True
    return 1
