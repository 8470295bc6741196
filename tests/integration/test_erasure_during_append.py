"""Erasing a session, or a whole user, while an append to it is in flight leaves nothing behind.

On PostgreSQL an append holds its session's row lock until it commits; an erasure must wait for
that lock before it deletes anything filed under the session, or the append's rows (messages,
its idempotency key with the stored answer) would commit after their deletion and stay behind,
orphaned. The append in flight is played here by a transaction of our own that holds the lock,
waits until the erasure is blocked on it, writes what an append writes, and commits. (SQLite has
one writer: an erasure never runs beside an append there.)
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from convostore.storage import SqlStore
from convostore.storage.tables import evidence, idempotency_keys, messages, runs, sessions


def _wait_until_blocked(engine: sa.Engine, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    query = sa.text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if conn.execute(query).scalar_one():
                return
        time.sleep(0.02)
    raise AssertionError("the erasure never waited for the append's lock")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("erase", ["/v1/users/ann", "/v1/sessions/doomed"])
def test_an_erasure_waits_for_the_append_in_flight(
    client: TestClient, store: SqlStore, database_url: str, erase: str
) -> None:
    body = {
        "messages": [{"role": "user", "content": "first"}],
        "create_if_missing": True,
        "session": {"user_id": "ann"},
    }
    assert client.post("/v1/sessions/doomed/messages", json=body).status_code == 201
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as append, ThreadPoolExecutor(1) as pool:
            append.execute(
                sa.select(sessions.c.id).where(sessions.c.id == "doomed").with_for_update()
            )
            erasing = pool.submit(client.delete, erase)
            _wait_until_blocked(engine)
            append.execute(
                messages.insert().values(
                    tenant_id="default", session_id="doomed", seq=2, id="late", role="user",
                    content="late", from_history=False, created_at=1,
                )
            )  # fmt: skip
            append.execute(
                idempotency_keys.insert().values(
                    tenant_id="default", session_id="doomed", key="k", scope="messages:doomed",
                    request_hash="h", result={"messages": ["late"]}, created_at=1,
                )
            )  # fmt: skip
            append.commit()
            answer = erasing.result(timeout=30)
        assert answer.status_code in (200, 204), answer.text
        with engine.connect() as conn:
            for table in (sessions, runs, messages, evidence, idempotency_keys):
                column = table.c.id if table is sessions else table.c.session_id
                left = conn.execute(sa.select(table).where(column == "doomed")).all()
                assert left == [], f"{table.name} kept {left}"
    finally:
        engine.dispose()
