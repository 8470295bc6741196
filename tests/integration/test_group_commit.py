"""Group commit on SQLite: writes that queue up share one COMMIT, and each is still durable alone.

The deterministic tests line writes up behind one that holds the writer lock, so they all land
in one group; the concurrent ones check what clients see under real contention.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from convostore.errors import Conflict, NotFound, Unavailable
from convostore.models import MessageQuery, NewMessage, NewRun, NewSession
from convostore.storage import AppendRequest, SqlStore, open_store
from convostore.storage.group_commit import GroupCommit

T = "tenant-a"


def _user(content: str) -> NewMessage:
    return NewMessage(role="user", content=content, metrics={"total_tokens": 1})


def _append(store: SqlStore, session_id: str, content: str, **kw: Any) -> str:
    appended = store.append(T, AppendRequest(session_id, [_user(content)], **kw))
    return appended.messages[0].id


class Worker(threading.Thread):
    """Runs `fn` once and keeps its result or exception."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        super().__init__(daemon=True)
        self.fn = fn
        self.result: Any = None
        self.error: BaseException | None = None
        self.start()

    def run(self) -> None:
        try:
            self.result = self.fn()
        except BaseException as exc:
            self.error = exc

    def outcome(self) -> Any:
        self.join(30)
        assert not self.is_alive(), "the write never returned"
        if self.error is not None:
            raise self.error
        return self.result


def _wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "group.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[SqlStore]:
    opened = open_store(f"sqlite:///{db_path}")
    for name in ("a", "b", "c", "d"):
        opened.create_session(T, NewSession(), session_id=name)
    yield opened
    opened.close()


def _group_commit(store: SqlStore, **kw: Any) -> GroupCommit:
    """Give the store a group commit with these bounds (a long age keeps a held group open)."""
    if store._group_commit is not None:
        store._group_commit.close()  # gives its connection back
    store._group_commit = GroupCommit(store.engine, **kw)
    return store._group_commit


def _in_one_group(
    store: SqlStore, holder_work: Callable[[sa.Connection], Any], jobs: list[Callable[[], Any]]
) -> tuple[Worker, list[Worker], int]:
    """Hold the writer lock until every job waits for it, so all of them join the holder's group.

    Returns the holder, the job workers, and how many groups were committed meanwhile.
    """
    group_commit = _group_commit(store, max_age_s=60)
    entered, gate = threading.Event(), threading.Event()

    def hold() -> Any:
        with store.write() as conn:
            entered.set()
            gate.wait(10)
            return holder_work(conn)

    holder = Worker(hold)
    assert entered.wait(10)
    workers = [Worker(job) for job in jobs]
    _wait_until(lambda: group_commit._waiting == len(jobs))
    before = group_commit.commits
    gate.set()
    for worker in [holder, *workers]:
        worker.join(30)
    return holder, workers, group_commit.commits - before


def _contents(store: SqlStore, session_id: str) -> list[str]:
    page = store.list_messages(T, session_id, MessageQuery(limit=1000))
    assert page is not None
    assert [m.seq for m in page.items] == list(range(1, len(page.items) + 1))
    session = store.get_session(T, session_id)
    assert session is not None and session.message_count == len(page.items)
    return [m.content for m in page.items]


def test_concurrent_appends_are_each_stored_once(store: SqlStore) -> None:
    acked: dict[str, list[str]] = defaultdict(list)
    lock = threading.Lock()
    sessions = ["a", "b", "c", "d"]

    def writer(n: int) -> None:
        for i in range(30):
            if i % 10 == 9:  # a failing write now and then, inside whatever group it lands in
                with pytest.raises(NotFound):
                    _append(store, "missing", f"{n}-{i}")
                continue
            session_id = sessions[(n + i) % len(sessions)]
            _append(store, session_id, f"{n}-{i}")
            with lock:
                acked[session_id].append(f"{n}-{i}")

    workers = [Worker(lambda n=n: writer(n)) for n in range(16)]
    for worker in workers:
        worker.outcome()
    for session_id in sessions:
        stored = _contents(store, session_id)
        assert sorted(stored) == sorted(acked[session_id])
        session = store.get_session(T, session_id)
        assert session is not None and session.metrics == {"total_tokens": len(stored)}
    assert store.get_session(T, "missing") is None
    group_commit = store._group_commit
    assert group_commit is not None
    assert group_commit.commits < 16 * 27  # some writes shared a commit


def test_a_failing_write_does_not_touch_the_rest_of_its_group(store: SqlStore) -> None:
    _append(store, "b", "first", run=NewRun(id="r1"))
    with store.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE uniq (id INTEGER PRIMARY KEY)")
        conn.exec_driver_sql("INSERT INTO uniq VALUES (1)")

    def duplicate_row() -> None:  # the database refuses the second statement
        with store.write() as conn:
            conn.exec_driver_sql("INSERT INTO uniq VALUES (2)")
            conn.exec_driver_sql("INSERT INTO uniq VALUES (1)")

    def holder_work(conn: sa.Connection) -> str:
        return _append(store, "a", "held")  # a nested write, in the same group

    holder, workers, commits = _in_one_group(
        store,
        holder_work,
        [
            lambda: _append(store, "a", "one"),
            lambda: _append(store, "missing", "lost"),
            lambda: _append(store, "b", "dup", run=NewRun(id="r1")),
            duplicate_row,
            lambda: _append(store, "c", "two"),
        ],
    )
    assert commits == 1
    holder.outcome()
    workers[0].outcome()
    with pytest.raises(NotFound):
        workers[1].outcome()
    with pytest.raises(Conflict):
        workers[2].outcome()
    with pytest.raises(sa.exc.IntegrityError):
        workers[3].outcome()
    workers[4].outcome()
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT id FROM uniq").scalars().all() == [1]
    assert sorted(_contents(store, "a")) == ["held", "one"]
    assert _contents(store, "b") == ["first"]
    assert _contents(store, "c") == ["two"]


def test_a_failed_commit_fails_every_write_of_its_group(store: SqlStore) -> None:
    # A deferred foreign key is checked only at COMMIT: one bad row makes the COMMIT fail.
    with store.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        conn.exec_driver_sql(
            "CREATE TABLE child (parent_id INTEGER"
            " REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)"
        )

    def holder_work(conn: sa.Connection) -> None:
        conn.exec_driver_sql("INSERT INTO child VALUES (42)")

    holder, workers, commits = _in_one_group(
        store,
        holder_work,
        [lambda: _append(store, "a", "one"), lambda: _append(store, "b", "two")],
    )
    assert commits == 0
    group_commit = store._group_commit
    assert group_commit is not None and group_commit._conn is None  # never reused
    for worker in [holder, *workers]:
        with pytest.raises(Unavailable) as caught:
            worker.outcome()
        assert isinstance(caught.value.__cause__, sa.exc.IntegrityError)
    assert _contents(store, "a") == [] and _contents(store, "b") == []
    _append(store, "a", "after")  # the next group starts clean
    assert _contents(store, "a") == ["after"]


def test_an_acknowledged_write_is_visible_to_other_connections(
    store: SqlStore, db_path: Path
) -> None:
    def writer(n: int) -> None:
        reader = sqlite3.connect(db_path)
        try:
            for i in range(20):
                message_id = _append(store, "abcd"[n % 4], f"{n}-{i}")
                found = reader.execute(
                    "SELECT count(*) FROM messages WHERE id = ?", (message_id,)
                ).fetchone()
                assert found == (1,)
        finally:
            reader.close()

    workers = [Worker(lambda n=n: writer(n)) for n in range(8)]
    for worker in workers:
        worker.outcome()


def test_nested_writes_share_the_transaction_and_roll_back_alone(store: SqlStore) -> None:
    def nested() -> None:
        with store.write():
            _append(store, "a", "outer")
            with pytest.raises(NotFound):
                _append(store, "missing", "inner")
            _append(store, "a", "after")

    Worker(nested).outcome()
    assert _contents(store, "a") == ["outer", "after"]


def test_a_stranded_group_is_committed_by_its_waiting_writer(store: SqlStore) -> None:
    group_commit = _group_commit(store, max_age_s=60, rescue_after_s=0.05)
    with group_commit._counting:
        group_commit._waiting += 1  # a writer that is counted but never comes
    try:
        _append(store, "a", "one")  # passes the lock on, then commits the group itself
    finally:
        with group_commit._counting:
            group_commit._waiting -= 1
    assert group_commit.commits == 1
    assert _contents(store, "a") == ["one"]


def test_close_commits_the_open_group_and_is_idempotent(store: SqlStore, db_path: Path) -> None:
    group_commit = _group_commit(store, max_age_s=60)
    entered, gate = threading.Event(), threading.Event()

    def hold() -> str:
        with store.write():
            entered.set()
            gate.wait(10)
            return _append(store, "a", "held")

    holder = Worker(hold)
    assert entered.wait(10)
    closer = Worker(store.close)
    _wait_until(lambda: group_commit._waiting == 1)
    gate.set()  # the holder passes the lock to close(), which commits the holder's write
    message_id = holder.outcome()
    closer.outcome()
    assert group_commit._group is None and group_commit._conn is None
    store.close()
    with sqlite3.connect(db_path) as reader:
        found = reader.execute("SELECT count(*) FROM messages WHERE id = ?", (message_id,))
        assert found.fetchone() == (1,)


def _writer_after_one_write(store: SqlStore) -> tuple[GroupCommit, sa.Connection]:
    """The store's group commit after one write to session "a" (content "one"), and the
    connection it keeps between groups."""
    group_commit = store._group_commit
    assert group_commit is not None
    _append(store, "a", "one")
    conn = group_commit._conn
    assert conn is not None
    return group_commit, conn


def test_the_writer_keeps_its_connection_between_groups_outside_any_transaction(
    store: SqlStore, db_path: Path
) -> None:
    group_commit, conn = _writer_after_one_write(store)
    checked_out = store.engine.pool.checkedout()  # type: ignore[attr-defined]
    _append(store, "a", "two")
    assert group_commit._conn is conn
    assert store.engine.pool.checkedout() == checked_out  # type: ignore[attr-defined]
    # between groups it holds no lock: another process can write at once
    other = sqlite3.connect(db_path, isolation_level=None, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()
    assert _contents(store, "a") == ["one", "two"]


def test_database_is_locked_fails_the_write_at_once_and_replaces_its_connection(
    store: SqlStore, db_path: Path
) -> None:
    group_commit, locked_conn = _writer_after_one_write(store)
    locked_conn.exec_driver_sql("PRAGMA busy_timeout=50")
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        started = time.monotonic()
        with pytest.raises(sa.exc.OperationalError, match="database is locked"):
            _append(store, "a", "locked out")
        # not tried again on a fresh connection, whose busy timeout would wait 30 s more
        assert time.monotonic() - started < 5
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert group_commit._conn is None and locked_conn.closed
    _append(store, "a", "two")
    assert _contents(store, "a") == ["one", "two"]


def test_a_connection_closed_underneath_is_replaced_and_the_write_goes_on(
    store: SqlStore,
) -> None:
    group_commit, broken = _writer_after_one_write(store)
    broken.connection.driver_connection.close()  # type: ignore[union-attr]
    _append(store, "a", "two")
    assert group_commit._conn is not broken and broken.closed
    assert _contents(store, "a") == ["one", "two"]


def test_statement_watchers_see_each_group_begin(store: SqlStore) -> None:
    """Statements go to the driver unseen, but a watcher of the engine's statements (a tracer,
    the benchmark's SQL capture) sees where each transaction begins."""
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        seen.append(sql)

    sa.event.listen(store.engine, "before_cursor_execute", before)
    try:
        _append(store, "a", "one")
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", before)
    assert seen.count("BEGIN IMMEDIATE") == 1
    assert _contents(store, "a") == ["one"]


def test_a_transaction_lost_mid_group_acknowledges_nothing_of_it(store: SqlStore) -> None:
    """If SQLite drops the group's transaction (as on disk full or an I/O error), no write it
    held is acknowledged, its connection is not reused, and the next group starts clean."""
    lost: list[sa.Connection] = []

    def drop_transaction() -> None:
        with store.write() as conn:
            lost.append(conn)
            conn.connection.driver_connection.execute("ROLLBACK")  # type: ignore[union-attr]

    holder, workers, commits = _in_one_group(
        store, lambda conn: _append(store, "a", "lost"), [drop_transaction]
    )
    assert commits == 0
    for worker in [holder, *workers]:
        with pytest.raises(Unavailable):
            worker.outcome()
    assert lost[0].closed
    _append(store, "b", "next group")
    assert _contents(store, "a") == [] and _contents(store, "b") == ["next group"]
