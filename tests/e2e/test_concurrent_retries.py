"""A real server process and many clients at once: retries of one Idempotency-Key sent together
write once and are all answered, and what the process prints never holds conversation content.

Each round, every client sends the same append with the same key at the same moment (to an
existing session, or one created by the append). Afterwards the rows are counted in the database,
and the process's whole output (uvicorn's log, convostore's loggers, the access log) is searched
for the contents and keys sent — including those of an append the database was made to refuse.
"""

from __future__ import annotations

import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from bench.server import start_server
from convostore.storage import open_store
from tests.integration.test_error_logs import MARKER, _refuse_marked_messages

pytestmark = pytest.mark.slow

CLIENTS = 16
ROUNDS = 6


def _all_at_once(clients: list[httpx.Client], path: str, body: object, key: str) -> list[int]:
    """The same request from every client, released together; the statuses answered."""
    start = threading.Barrier(len(clients))

    def send(client: httpx.Client) -> int:
        start.wait()
        return client.post(path, json=body, headers={"Idempotency-Key": key}).status_code

    with ThreadPoolExecutor(len(clients)) as pool:
        return list(pool.map(send, clients))


def test_concurrent_retries_write_once_and_log_no_content(
    blank_database_url: str, tmp_path: Path
) -> None:
    store = open_store(blank_database_url)  # migrated before the server starts
    _refuse_marked_messages(store.engine)
    store.close()
    server = start_server(blank_database_url, log_dir=tmp_path)
    sent: list[str] = []
    statuses: list[int] = []
    clients = [httpx.Client(base_url=server.base_url, timeout=30) for _ in range(CLIENTS)]
    try:
        for round_ in range(ROUNDS):
            session_id, key = f"s{round_}", f"key-{secrets.token_hex(8)}"
            content = f"said in round {round_}: {secrets.token_hex(8)}"
            sent += [key, content]
            create = round_ % 2 == 1
            if not create:
                assert clients[0].post("/v1/sessions", json={"id": session_id}).is_success
            body = {"messages": [{"role": "user", "content": content}], "create_if_missing": create}
            statuses += _all_at_once(clients, f"/v1/sessions/{session_id}/messages", body, key)
        refused, refused_key = f"{MARKER} {secrets.token_hex(8)}", f"key-{secrets.token_hex(8)}"
        sent += [refused, refused_key]
        failed = clients[0].post(
            "/v1/sessions/s0/messages",
            json={"messages": [{"role": "user", "content": refused}]},
            headers={"Idempotency-Key": refused_key},
        )
    finally:
        for client in clients:
            client.close()
        server.stop()
    assert statuses == [201] * (CLIENTS * ROUNDS)
    assert failed.status_code == 500
    engine = sa.create_engine(blank_database_url)
    try:
        with engine.connect() as conn:
            counts = conn.execute(
                sa.text("SELECT session_id, count(*) FROM messages GROUP BY session_id")
            ).all()
            keys = conn.execute(sa.text("SELECT count(*) FROM idempotency_keys")).scalar_one()
    finally:
        engine.dispose()
    assert sorted(counts) == [(f"s{r}", 1) for r in range(ROUNDS)]
    assert keys == ROUNDS
    log = server.log()
    assert "unhandled database error on POST /v1/sessions/s0/messages: IntegrityError" in log
    leaked = [text for text in sent if text in log]
    assert not leaked, log[-3000:]
