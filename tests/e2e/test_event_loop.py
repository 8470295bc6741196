"""Nobody stalls everyone: a real server keeps answering while one caller sends what is costly.

Each test starts a real `convostore` process and measures `/v1/health` from the outside while
another client does the costly thing: a large unauthenticated body, a key lookup on a slow
database, a search that scans every session.
"""

from __future__ import annotations

import socket
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import sqlalchemy as sa

from bench.server import ServerProcess, start_server
from convostore.auth import KeyService
from convostore.storage import open_store
from tests.conftest import bearer

pytestmark = pytest.mark.slow

TEN_MIB = 10 * 1024 * 1024


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'loop.db'}"


def _admin_key(database_url: str) -> str:
    store = open_store(database_url)
    try:
        return KeyService(store).create("acme", "admin").key
    finally:
        store.close()


@pytest.fixture
def keyed_server(sqlite_url: str, tmp_path: Path) -> Iterator[tuple[ServerProcess, str]]:
    key = _admin_key(sqlite_url)
    server = start_server(sqlite_url, log_dir=tmp_path)
    try:
        yield server, key
    finally:
        server.stop()


def _latencies(base_url: str, seconds: float, busy: Callable[[], bool]) -> list[float]:
    """Latencies of `/v1/health`, one request after another, while `busy()` holds."""
    found: list[float] = []
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=base_url, timeout=10.0) as client:
        while time.monotonic() < deadline and busy():
            started = time.perf_counter()
            assert client.get("/v1/health").status_code == 200
            found.append(time.perf_counter() - started)
            time.sleep(0.01)
    return found


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) >= 2 else values[0]


@pytest.mark.parametrize(
    ("request_line", "refusal"),
    [
        (b"POST /v1/sessions/s1/messages", b'"unauthenticated"'),
        # memories.ai reads parameters from a GET's body too
        (b"GET /serve/api/v1/list_sessions", b'"0401"'),
    ],
)
def test_a_body_without_a_key_is_refused_before_it_is_read(
    keyed_server: tuple[ServerProcess, str], request_line: bytes, refusal: bytes
) -> None:
    """The server answers from the headers alone: it never waits for the body it was promised
    (before, the route read the whole body first, so this answer never came)."""
    server, _ = keyed_server
    url = urlsplit(server.base_url)
    with socket.create_connection((url.hostname, url.port), timeout=5.0) as sock:
        sock.sendall(
            request_line
            + b" HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {60_000}\r\n\r\n".encode()
            + b'{"unique_id": "'
        )
        answer = b""
        while refusal not in answer and (chunk := sock.recv(65536)):
            answer += chunk
    assert refusal in answer, answer[:300]


def test_health_stays_fast_while_two_clients_send_unauthenticated_bodies(
    keyed_server: tuple[ServerProcess, str],
) -> None:
    server, _ = keyed_server
    body = b'{"messages": [' + b'{"role": "user", "content": "x"},' * 300_000 + b"{}]}"
    body = body[:TEN_MIB]
    stop = threading.Event()
    refused: list[int] = []

    def flood() -> None:
        with httpx.Client(base_url=server.base_url, timeout=30.0) as client:
            while not stop.is_set():
                answer = client.post(
                    "/v1/sessions/s1/messages",
                    content=body,
                    headers={"Content-Type": "application/json"},
                )
                refused.append(answer.status_code)

    flooders = [threading.Thread(target=flood) for _ in range(2)]
    for thread in flooders:
        thread.start()
    try:
        time.sleep(0.5)
        latencies = _latencies(server.base_url, 5.0, lambda: True)
    finally:
        stop.set()
        for thread in flooders:
            thread.join(timeout=30)
    assert refused and set(refused) == {401}
    assert len(latencies) > 50
    assert _p99(latencies) < 0.1, f"health p99 {_p99(latencies) * 1000:.0f} ms"


def _seed_sessions(database_url: str, count: int) -> None:
    """`count` sessions of the default tenant, written straight into the table (fast)."""
    store = open_store(database_url)
    store.close()
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            "INSERT INTO sessions (tenant_id, id, user_id, type, title, title_folded, "
            "message_count, run_count, last_seq, created_at, updated_at) "
            "SELECT 'default', 's' || i, 'u' || (i % 100), 'agent', 'chat about item ' || i, "
            "'chat about item ' || i, 0, 0, 0, 1700000000000000 + i, 1700000000000000 + i "
            "FROM n",
            (count,),
        )
    engine.dispose()


def test_a_search_that_scans_every_session_does_not_hold_the_loop(
    sqlite_url: str, tmp_path: Path
) -> None:
    """A title search that matches nothing reads all 300,000 sessions: on the event loop it held
    every other request for as long as it ran; now it moves to a thread after its time is up."""
    _seed_sessions(sqlite_url, 300_000)
    server = start_server(sqlite_url, log_dir=tmp_path)
    searching = threading.Event()
    searching.set()
    durations: list[float] = []

    def search() -> None:
        with httpx.Client(base_url=server.base_url, timeout=60.0) as client:
            for _ in range(4):
                started = time.perf_counter()
                page = client.get("/v1/sessions", params={"q": "no such words", "limit": 20})
                durations.append(time.perf_counter() - started)
                assert page.status_code == 200 and page.json()["data"] == []
        searching.clear()

    try:
        searcher = threading.Thread(target=search)
        searcher.start()
        latencies = _latencies(server.base_url, 30.0, searching.is_set)
        searcher.join(timeout=60)
    finally:
        server.stop()
    assert len(durations) == 4
    assert min(durations) > 0.06, f"the search is too quick to prove anything: {durations}"
    assert max(latencies) < 0.05, f"health waited {max(latencies) * 1000:.0f} ms"


@pytest.mark.postgres
def test_a_key_lookup_on_a_slow_database_does_not_stall_other_requests(
    postgres_url: str, tmp_path: Path
) -> None:
    """While one new key's lookup waits on a locked table, requests with a remembered key and
    health checks are answered at once (the lookup ran on the event loop and stalled them)."""
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("TRUNCATE api_keys, tenants CASCADE")
    store = open_store(postgres_url)
    try:
        keys = KeyService(store)
        known, fresh = keys.create("acme", "admin").key, keys.create("acme", "admin").key
    finally:
        store.close()
    server = start_server(postgres_url, log_dir=tmp_path)
    try:
        with httpx.Client(base_url=server.base_url, timeout=30.0) as client:
            assert client.get("/v1/sessions", headers=bearer(known)).status_code == 200
            locker = engine.connect()
            transaction = locker.begin()
            locker.exec_driver_sql("LOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE")
            answered: list[int] = []
            waiting = threading.Thread(
                target=lambda: answered.append(
                    httpx.get(
                        f"{server.base_url}/v1/sessions", headers=bearer(fresh), timeout=30.0
                    ).status_code
                )
            )
            waiting.start()
            try:
                time.sleep(0.3)  # the fresh key's lookup now waits for the lock
                started = time.perf_counter()
                assert client.get("/v1/health").status_code == 200
                assert client.get("/v1/sessions", headers=bearer(known)).status_code == 200
                elapsed = time.perf_counter() - started
                assert not answered, "the lookup was expected to wait for the lock"
            finally:
                transaction.rollback()
                locker.close()
            waiting.join(timeout=30)
        assert answered == [200]
        assert elapsed < 0.5, f"other requests waited {elapsed:.2f} s for the lookup"
    finally:
        server.stop()
        engine.dispose()
