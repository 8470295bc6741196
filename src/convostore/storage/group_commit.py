"""Group commit for SQLite: the writes that queue up together share one transaction and one fsync.

SQLite has one writer, so writes queue on a lock anyway. The thread holding the lock runs its
write in a SAVEPOINT of the group's open transaction (opening one if none is open). Done, it
releases or rolls back only its own savepoint, then either passes the lock on *without
committing* (other writers are waiting, and the group is still small and young) and sleeps until
the group's COMMIT, or commits the group itself (one fsync for all of it) and wakes the others.

- A write returns only after the COMMIT holding it succeeded: acknowledged means durable.
- If that COMMIT fails, every write of the group raises `Unavailable` (503): none was written.
- A write that raises is rolled back to its own savepoint, so it neither undoes nor fails the
  others; it then passes the lock on or commits like any write, so it never strands the group.
- A write nested in another on the same thread runs in a savepoint of the same transaction.

The lock is passed only to a thread already counted as waiting for it, so while a group is open
some thread holds the lock or is about to. As a safety net, a writer that has waited
`rescue_after_s` for its COMMIT takes the lock if it is free and commits the group itself.

The writer keeps one connection while the store is open, and BEGIN IMMEDIATE, SAVEPOINT and COMMIT
go straight to its driver: checking a connection out of the pool and beginning and committing
through SQLAlchemy cost several times as much CPU per group. SQLAlchemy sees that connection in one
transaction for its whole life, so callers' `conn.execute(...)` never begins or commits anything of
its own; the driver's transactions are the real ones, and between groups none is open (no lock, no
snapshot held). A connection that failed to BEGIN or COMMIT, or whose group broke, is invalidated
(closing it rolls back what is left) and the next group opens a fresh one.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from convostore.errors import Unavailable
from convostore.storage.engine import describe_error

log = logging.getLogger("convostore.storage")

# A group ends at MAX_GROUP_WRITES writes or once its transaction has been open for
# MAX_GROUP_AGE_S. Under load it ends sooner by itself: when nobody is left waiting, i.e. once
# every queued writer is in. The age bound caps how long a group's first writer waits for its
# COMMIT behind a long queue (the bound plus one fsync); a shorter one cuts a burst of concurrent
# writers into several groups, each with its own fsync, and costs throughput (the measurement
# that chose it is in docs/performance.md).
MAX_GROUP_WRITES = 64
MAX_GROUP_AGE_S = 0.025
# One name serves every depth: savepoints nest strictly, and SQLite acts on the innermost.
_SAVEPOINT = "convostore_write"
_BEGIN = "BEGIN IMMEDIATE"


class _Group:
    """One transaction that consecutive writes share."""

    def __init__(self, epoch: int, conn: sa.Connection, driver: Any) -> None:
        self.epoch = epoch
        self.conn = conn
        self.driver = driver  # the sqlite3 connection under `conn`
        self.opened_at = time.monotonic()
        self.writes = 0
        self.broken: BaseException | None = None  # why the transaction can no longer commit
        self.waiters: list[threading.Lock] = []  # held, one per writer waiting for the end
        self.error: BaseException | None = None  # why the COMMIT failed, set before waking them


class GroupCommit:
    """The SQLite writer lock, the open group transaction, and who is waiting for either."""

    def __init__(
        self,
        engine: sa.Engine,
        *,
        max_writes: int = MAX_GROUP_WRITES,
        max_age_s: float = MAX_GROUP_AGE_S,
        rescue_after_s: float = 1.0,
    ) -> None:
        self.engine = engine
        self.max_writes = max_writes
        self.max_age_s = max_age_s
        self.rescue_after_s = rescue_after_s
        self.epoch = 0  # the number of the last group opened
        self.commits = 0  # groups committed
        self._lock = threading.Lock()  # the writer lock
        self._owner: int | None = None  # the thread holding it
        self._counting = threading.Lock()  # guards `_waiting`
        self._waiting = 0  # threads waiting for the writer lock
        self._group: _Group | None = None
        self._conn: sa.Connection | None = None  # the writer's connection, kept between groups

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """Run the caller's statements in the open group; return once they are committed."""
        if self._owner == threading.get_ident():  # nested: a savepoint inside the caller's
            assert self._group is not None, "the writer lock is held, so a group is open"
            yield from self._savepoint(self._group)
            return
        group = self._enter()
        error: BaseException | None = None
        try:
            yield from self._savepoint(group)
        except BaseException as exc:
            error = exc
        group.writes += 1
        failed = self._leave(group, waits=error is None)
        if error is not None:
            raise error
        if failed is not None:
            raise Unavailable("the write could not be committed; retry later") from failed

    def close(self) -> None:
        """Commit the open group, if any (its writers are waiting for it), and give the writer's
        connection back. Idempotent."""
        if self._owner == threading.get_ident():
            raise RuntimeError("close() inside a write on the same thread")
        self._acquire()
        try:
            if self._group is not None:
                self._finish(self._group, release=False)
            if self._conn is not None:
                conn, self._conn = self._conn, None
                conn.close()
        finally:
            self._release()

    # the writer lock

    def _enter(self) -> _Group:
        self._acquire()
        if self._group is None:
            try:
                self._group = self._open()
            except BaseException:
                self._release()
                raise
        return self._group

    def _acquire(self) -> None:
        with self._counting:
            self._waiting += 1
        try:
            self._lock.acquire()
        finally:
            with self._counting:
                self._waiting -= 1
        self._owner = threading.get_ident()

    def _release(self) -> None:
        self._owner = None
        self._lock.release()

    # the writer's connection

    def _open(self) -> _Group:
        """BEGIN IMMEDIATE on the writer's connection, straight to its driver.

        If the driver refuses, the connection is replaced and BEGIN runs once more through
        SQLAlchemy: a passing fault (a connection closed underneath) is recovered, a lasting one
        is raised and reported by the engine's events like any other database error. "Database
        is locked" is raised as it is: SQLite has already waited the whole busy timeout.
        """
        conn = self._connection()
        try:
            try:
                if self.engine.dispatch.before_cursor_execute:
                    conn.exec_driver_sql(_BEGIN)  # statements are watched (a tracer, a capture)
                else:
                    driver: Any = conn.connection.driver_connection
                    driver.execute(_BEGIN)
            except sqlite3.Error as exc:
                if _busy(exc):
                    raise self._wrapped(exc, _BEGIN) from exc
                self._drop(conn, exc)
                conn = self._connection()
                conn.exec_driver_sql(_BEGIN)
        except BaseException as exc:
            self._drop(conn, exc)
            raise
        self.epoch += 1
        return _Group(self.epoch, conn, conn.connection.driver_connection)

    def _connection(self) -> sa.Connection:
        if self._conn is None:
            conn = self.engine.connect()
            try:
                # SQLAlchemy's transaction, open for the connection's life, issues nothing (the
                # engine's BEGIN IMMEDIATE wants the write option): it only keeps SQLAlchemy from
                # beginning or committing on its own. The driver's transactions are the real ones.
                conn.begin()
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def _drop(self, conn: sa.Connection, reason: BaseException) -> None:
        """Never reuse a connection that failed: invalidated, it closes and rolls back."""
        if self._conn is conn:
            self._conn = None
        if not conn.closed:
            conn.invalidate(reason)
            conn.close()

    def _commit(self, group: _Group) -> None:
        """COMMIT on the driver. If it is refused with the transaction still open (a deferred
        constraint), once more through SQLAlchemy, so the error is typed and reported by the
        engine's events; if SQLite lost the transaction, the driver's error, wrapped."""
        try:
            group.driver.execute("COMMIT")
            return
        except sqlite3.Error as exc:
            if _busy(exc) or not group.driver.in_transaction:
                raise self._wrapped(exc, "COMMIT") from exc
        group.conn.exec_driver_sql("COMMIT")

    def _wrapped(self, exc: sqlite3.Error, sql: str) -> sa.exc.StatementError:
        """The driver's error as SQLAlchemy would have raised it."""
        wrapped: sa.exc.StatementError = sa.exc.DBAPIError.instance(
            sql, (), exc, sqlite3.Error, dialect=self.engine.dialect
        )
        return wrapped

    # one write

    def _savepoint(self, group: _Group) -> Iterator[sa.Connection]:
        """The caller's statements in a savepoint: if they raise, only they are undone."""
        try:
            group.driver.execute(f"SAVEPOINT {_SAVEPOINT}")
        except sqlite3.Error as exc:
            group.broken = group.broken or exc
            raise Unavailable("the database is unavailable; retry later") from exc
        try:
            yield group.conn
        except BaseException:
            self._undo(group)
            raise
        try:
            group.driver.execute(f"RELEASE {_SAVEPOINT}")
        except sqlite3.Error as exc:
            self._undo(group)
            raise Unavailable("the database is unavailable; retry later") from exc

    def _undo(self, group: _Group) -> None:
        """Roll back one write; if SQLite lost the whole transaction, the group is broken."""
        try:
            group.driver.execute(f"ROLLBACK TO {_SAVEPOINT}")
            group.driver.execute(f"RELEASE {_SAVEPOINT}")
        except sqlite3.Error as exc:
            group.broken = group.broken or exc
            return
        # Some errors (disk full, I/O) make SQLite roll back the whole transaction.
        if not group.driver.in_transaction:
            group.broken = group.broken or RuntimeError("SQLite rolled back the transaction")

    def _leave(self, group: _Group, *, waits: bool) -> BaseException | None:
        """Pass the lock on, or commit; returns why the group failed (None: committed)."""
        full = group.writes >= self.max_writes
        old = time.monotonic() - group.opened_at >= self.max_age_s
        # `_waiting` is read without its lock: a thread counted there will take the writer lock
        # (we hold it, so none can have taken it meanwhile); missing a newcomer only commits early.
        if self._waiting and group.broken is None and not full and not old:
            if waits:
                return self._await(group)
            self._release()
            return None
        return self._finish(group)

    # the group's end

    def _finish(self, group: _Group, *, release: bool = True) -> BaseException | None:
        """COMMIT (or roll back a broken group), wake its writers, release the lock."""
        error = group.broken
        try:
            if error is None:
                try:
                    self._commit(group)
                    self.commits += 1
                except BaseException as exc:
                    error = exc
            if error is not None:
                log.error(
                    "group %d (%d writes) was not committed: %s",
                    group.epoch,
                    group.writes,
                    describe_error(error),
                )
                self._drop(group.conn, error)
        finally:
            self._group = None
            group.error = error
            for waiter in group.waiters:
                waiter.release()
            if release:
                self._release()
        return error

    def _await(self, group: _Group) -> BaseException | None:
        """Pass the lock on and sleep until the group's end wakes us (each writer has its own
        lock to sleep on: none of them wake on a shared one only to queue for it again)."""
        waiter = threading.Lock()
        waiter.acquire()
        group.waiters.append(waiter)  # under the writer lock, as `_finish` reads it then
        self._release()
        while not waiter.acquire(timeout=self.rescue_after_s):
            self._rescue(group)
        return group.error

    def _rescue(self, group: _Group) -> None:
        """Commit a group left open with its lock free (its next writer never came)."""
        if not self._lock.acquire(blocking=False):
            return
        self._owner = threading.get_ident()
        if self._group is group:
            self._finish(group)
        else:
            self._release()


def _busy(exc: sqlite3.Error) -> bool:
    """Whether SQLite gave up on the lock ("database is locked"), after the whole busy timeout."""
    code = getattr(exc, "sqlite_errorcode", None)  # absent on errors raised by the module itself
    return isinstance(code, int) and code & 0xFF == sqlite3.SQLITE_BUSY
