"""The append path's prepared statements: rows as SQLAlchemy writes them, errors as it raises them.

Appends run compiled SQL straight on the write connection (`storage/prepared_writes.py`). These
tests hold the rows they write byte-identical to the rows SQLAlchemy Core writes for the same
values, on every backend, and check that a statement the database refuses surfaces as
SQLAlchemy's exception, is seen by the engine's error events, and leaves nothing behind.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from convostore.models import MessageQuery, NewMessage, NewRun, NewSession
from convostore.storage import AppendRequest, IdempotencyClaim, SqlStore, open_store
from convostore.storage.prepared_writes import WriteStatements
from convostore.storage.row_writes import evidence_rows, message_to_row, run_to_row
from convostore.storage.tables import evidence, idempotency_keys, messages, runs, tenants

T = "tenant-a"

RICH: dict[str, Any] = {
    "role": "assistant",
    "content": 'héllo wörld ✓ 🐍 \u2028 "quoted" \\ back',
    "thinkings": [{"title": "t ü", "content": "c", "extra": {"k": [1, 2.5, None, True]}}],
    "refs": [
        {
            "source": {"kind": "video", "id": "v1", "name": "név", "duration": 12.0},
            "items": [
                {"kind": "keyframe", "start": 0.1, "end": 1e-7, "text": "ä"},
                {"kind": "audio_ts", "start": 3, "extra": {"x": 1}},
            ],
        },
        {"source": {"id": "d1", "kind": "document"}},
    ],
    "tool_calls": [{"id": "c1", "function": {"name": "f", "arguments": '{"a": 1}'}}],
    "metrics": {"input_tokens": 2**63 - 1, "cost": 0.1, "duration": 1.5, "ratio": 1e300},
    "from_history": True,
    "extra": {
        "nested": {"deep": [0.1, 0.2, 0.30000000000000004, -(2**63), 123456789012345678]},
        "ü": "ß",
        "none": None,
    },
    "created_at": "2024-01-02T03:04:05.678901+02:00",
}


def _raw_rows(store: SqlStore, table: sa.Table, where: str) -> list[list[str]]:
    """Every column of the matching rows as the database holds it: type and literal text."""
    names = [c.name for c in table.columns]
    if store.dialect == "sqlite":
        shown = ", ".join(f"typeof({n}) || ':' || quote({n})" for n in names)
    else:
        shown = ", ".join(
            f"pg_typeof({n})::text || ':' || coalesce({n}::text, 'NULL')" for n in names
        )
    with store.engine.connect() as conn:
        found = conn.execute(sa.text(f"SELECT {shown} FROM {table.name} WHERE {where}"))
        return sorted([list(row) for row in found])


def _without(rows: list[list[str]], table: sa.Table, column: str) -> list[list[str]]:
    index = [c.name for c in table.columns].index(column)
    return sorted([row[:index] + row[index + 1 :] for row in rows])


def test_rows_are_the_ones_sqlalchemy_writes(store: SqlStore) -> None:
    store.create_session(T, NewSession(user_id="u"), session_id="s")
    run = NewRun.model_validate(
        {
            "id": "r1",
            "input": "what now",
            "content": {"answer": [1, 0.1, "ü", None]},
            "extra": {"a": None},
            "messages": [RICH, {"role": "user", "content": "plain"}],
        }
    )
    claim = IdempotencyClaim(key="k1", scope="runs:s", request_hash="h")
    appended = store.append(T, AppendRequest("s", run.messages, run=run, idempotency=claim))
    assert appended.run is not None

    # The same values written by SQLAlchemy Core, into another session.
    copies = [m.model_copy(update={"session_id": "copy"}) for m in appended.messages]
    result = {
        "session_id": "copy",
        "messages": [m.model_dump(mode="json") for m in appended.messages],
        "run": appended.run.model_dump(mode="json"),
    }
    with store.engine.begin() as conn:
        conn.execute(messages.insert(), [message_to_row(T, m) for m in copies])
        conn.execute(evidence.insert(), [e for m in copies for e in evidence_rows(T, m)])
        run_copy = appended.run.model_copy(update={"session_id": "copy"})
        conn.execute(runs.insert().values(**run_to_row(T, run_copy)))
        conn.execute(
            idempotency_keys.insert().values(
                tenant_id=T,
                key="k2",
                scope="runs:s",
                session_id="copy",
                request_hash="h",
                result=result,
                created_at=0,
            )
        )

    for table in (messages, evidence, runs):
        ours = _raw_rows(store, table, "session_id = 's'")
        theirs = _raw_rows(store, table, "session_id = 'copy'")
        assert ours and _without(ours, table, "session_id") == _without(theirs, table, "session_id")
    [ours_result] = _raw_rows(store, idempotency_keys, "key = 'k1'")
    [theirs_result] = _raw_rows(store, idempotency_keys, "key = 'k2'")
    index = [c.name for c in idempotency_keys.columns].index("result")
    assert ours_result[index] == theirs_result[index].replace('"copy"', '"s"')

    page = store.list_messages(T, "s", MessageQuery())
    assert page is not None and page.items == appended.messages
    assert store.get_run(T, "s", "r1") == appended.run


def test_appended_values_equal_validated_ones(store: SqlStore) -> None:
    """Stored messages and runs are built without validation: they must equal validated ones."""
    store.create_session(T, NewSession(), session_id="s")
    run = NewRun.model_validate({"metrics": {"total_tokens": 3}, "messages": [RICH]})
    appended = store.append(T, AppendRequest("s", run.messages, run=run))
    assert appended.run is not None
    for value in [*appended.messages, appended.run]:
        again = type(value).model_validate(value.model_dump())
        assert value == again
        assert value.model_fields_set == again.model_fields_set
        assert list(value.__dict__) == list(again.__dict__)


@contextmanager
def _refusing(store: SqlStore, content: str) -> Iterator[list[str]]:
    """Messages with this content are refused by the database (a trigger); yields the names of
    the errors the engine's `handle_error` event saw meanwhile."""
    if store.dialect == "sqlite":
        create = [
            "CREATE TRIGGER refuse BEFORE INSERT ON messages"
            f" WHEN NEW.content = '{content}' BEGIN SELECT RAISE(ABORT, 'refused'); END"
        ]
        drop = ["DROP TRIGGER refuse"]
    else:
        create = [
            "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN"
            f" IF NEW.content = '{content}' THEN RAISE EXCEPTION 'refused'; END IF;"
            " RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse BEFORE INSERT ON messages"
            " FOR EACH ROW EXECUTE FUNCTION refuse()",
        ]
        drop = ["DROP TRIGGER refuse ON messages", "DROP FUNCTION refuse()"]
    seen: list[str] = []

    def on_error(context: Any) -> None:
        seen.append(type(context.original_exception).__name__)

    with store.engine.begin() as conn:
        for sql in create:
            conn.exec_driver_sql(sql)
    sa.event.listen(store.engine, "handle_error", on_error)
    try:
        yield seen
    finally:
        sa.event.remove(store.engine, "handle_error", on_error)
        with store.engine.begin() as conn:
            for sql in drop:
                conn.exec_driver_sql(sql)


@pytest.mark.parametrize("batch", [1, 3])
def test_a_refused_write_raises_sqlalchemys_error_and_leaves_nothing(
    store: SqlStore, batch: int
) -> None:
    store.create_session(T, NewSession(), session_id="s")
    contents = ["before", "boom", "after"][:batch] if batch > 1 else ["boom"]
    new = [NewMessage(role="user", content=c) for c in contents]
    with _refusing(store, "boom") as seen:
        with pytest.raises(sa.exc.DBAPIError) as caught:
            store.append(T, AppendRequest("s", new))
        assert "refused" in str(caught.value)
        assert len(seen) == 1  # the engine's events saw the error once
        page = store.list_messages(T, "s", MessageQuery())
        assert page is not None and page.items == []
        session = store.get_session(T, "s")
        assert session is not None and session.message_count == 0 and session.title == ""
        # the next write on the same store is not affected
        done = store.append(T, AppendRequest("s", [NewMessage(role="user", content="fine")]))
    assert [m.seq for m in done.messages] == [1]


def test_statements_run_through_sqlalchemy_when_not_direct(store: SqlStore) -> None:
    """With `direct` off (the benchmark's SQL capture) the engine sees every statement."""
    store.create_session(T, NewSession(), session_id="s")
    store.write_statements.direct = False
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        seen.append(sql.split("(")[0].strip())

    sa.event.listen(store.engine, "before_cursor_execute", before)
    try:
        new = [NewMessage(role="user", content=c) for c in ("a", "b")]
        appended = store.append(T, AppendRequest("s", new))
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", before)
    assert [m.seq for m in appended.messages] == [1, 2]
    assert "INSERT INTO messages" in seen
    assert any(sql.startswith("UPDATE sessions") for sql in seen)


def test_outside_a_transaction_a_driver_error_is_wrapped_not_retried(tmp_path: Path) -> None:
    """If SQLite dropped the transaction, a retry would autocommit: the error is raised as is,
    in SQLAlchemy's type."""
    store = open_store(f"sqlite:///{tmp_path / 'x.db'}")
    seen: list[str] = []

    def on_error(context: Any) -> None:
        seen.append(type(context.original_exception).__name__)

    sa.event.listen(store.engine, "handle_error", on_error)
    try:
        with store.engine.connect() as conn:  # no transaction: the driver is in autocommit
            writer = WriteStatements(store.engine).on(conn)
            writer.execute("tenant", tenants.insert, {"id": "t", "created_at": 0})
            with pytest.raises(sa.exc.IntegrityError) as caught:
                writer.execute("tenant", tenants.insert, {"id": "t", "created_at": 1})
        assert isinstance(caught.value.orig, sqlite3.IntegrityError)
        assert seen == []
    finally:
        store.close()
