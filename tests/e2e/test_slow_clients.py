"""Slow clients against a real `convostore serve`: headers sent a byte at a time, connections
that send nothing, bodies that stall — each is cut off after its deadline, answered in its
surface's shape where an answer is possible, while `/v1/health` keeps answering."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_server_process import running_server

pytestmark = pytest.mark.slow

TIMEOUT_S = 1.0
# how long a test waits for the server to act: past every deadline, short of uvicorn's
# keep-alive timeout (5 s), so that only the deadlines under test can close a connection
PATIENCE_S = 4.0


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    tmp_path = tmp_path_factory.mktemp("slow")
    env = {
        "CONVOSTORE_HEADER_TIMEOUT_S": str(TIMEOUT_S),
        "CONVOSTORE_BODY_TIMEOUT_S": str(TIMEOUT_S),
    }
    with running_server(tmp_path, f"sqlite:///{tmp_path / 'slow.db'}", env=env) as base_url:
        yield base_url, tmp_path / "serve.log"


@pytest.fixture
def server(served: tuple[str, Path]) -> str:
    return served[0]


def connect(base_url: str) -> socket.socket:
    host, port = base_url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=PATIENCE_S)
    return sock


def until_closed(sock: socket.socket) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and how long that took;
    fails if it is still open after PATIENCE_S."""
    started = time.monotonic()
    received = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            pytest.fail(f"the connection is still open after {PATIENCE_S}s: {received!r}")
        except ConnectionResetError:
            break
        if not chunk:
            break
        received += chunk
    return received, time.monotonic() - started


def answer_of(raw: bytes) -> tuple[int, dict[str, str], object]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, json.loads(body)


def assert_healthy(base_url: str) -> None:
    started = time.monotonic()
    assert httpx.get(f"{base_url}/v1/health", timeout=PATIENCE_S).status_code == 200
    assert time.monotonic() - started < TIMEOUT_S


def trickle(sock: socket.socket, data: bytes, every_s: float) -> threading.Thread:
    """Send `data` a byte at a time in the background, until done or the server hangs up."""

    def send() -> None:
        for byte in data:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                return
            time.sleep(every_s)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def test_headers_sent_a_byte_at_a_time_get_408(server: str) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        trickle(sock, b"X-Slow: " + b"a" * 100, every_s=0.2)
        assert_healthy(server)
        received, after = until_closed(sock)
    assert received.startswith(b"HTTP/1.1 408 "), received
    assert TIMEOUT_S * 0.8 <= after <= TIMEOUT_S + 2


def test_a_connection_that_sends_nothing_is_closed(server: str) -> None:
    with connect(server) as sock:
        assert_healthy(server)
        received, _ = until_closed(sock)
    assert received == b""


def stalled(server: str, request: bytes) -> tuple[int, dict[str, str], object]:
    with connect(server) as sock:
        sock.sendall(request)
        assert_healthy(server)
        received, after = until_closed(sock)
    assert after <= TIMEOUT_S + 2
    return answer_of(received)


def test_a_stalled_body_gets_408_in_each_surface_and_stores_nothing(
    served: tuple[str, Path],
) -> None:
    server, log = served
    head = "{} {} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{}\r\n"
    body = b'{"id": "stalled", "session_id": "stalled"'  # and then nothing more
    length = f"Content-Length: {len(body) + 10}\r\n"

    status, headers, native = stalled(
        server, head.format("POST", "/v1/sessions", length).encode() + body
    )
    assert (status, headers["connection"]) == (408, "close")
    assert native["error"]["type"] == "request_timeout", native  # type: ignore[index]

    status, _, agno = stalled(server, head.format("POST", "/sessions", length).encode() + body)
    assert status == 408 and set(agno) == {"detail"}, agno  # type: ignore[arg-type]

    memories = "/serve/api/v1/list_sessions"  # reads a small body, on a GET
    status, _, envelope = stalled(server, head.format("GET", memories, length).encode() + body)
    assert status == 200 and envelope["code"] == "0003", envelope  # type: ignore[index]

    chunked = "Transfer-Encoding: chunked\r\n"
    status, _, native = stalled(
        server, head.format("POST", "/v1/sessions", chunked).encode() + b'5\r\n{"id"'
    )
    assert status == 408 and native["error"]["type"] == "request_timeout"  # type: ignore[index]

    assert httpx.get(f"{server}/v1/sessions/stalled").status_code == 404
    assert httpx.get(f"{server}/sessions/stalled").status_code == 404
    time.sleep(0.3)  # access-log lines are written in batches
    written = log.read_text()
    assert written.count('"status":408') == 3, written  # memories.ai's answers are HTTP 200
    assert "Traceback" not in written and "ERROR" not in written, written


def test_a_chunked_body_cut_off_by_its_client_is_not_stored(served: tuple[str, Path]) -> None:
    """A complete JSON value in the first chunk, then the client leaves before the last chunk:
    the request was never whole, so it must not be handled as if it were."""
    server, log = served
    body = b'{"id": "cut-off"}'
    with connect(server) as sock:
        sock.sendall(
            b"POST /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            + f"{len(body):x}\r\n".encode()
            + body
            + b"\r\n"
        )
        time.sleep(0.2)
    time.sleep(0.5)
    assert httpx.get(f"{server}/v1/sessions/cut-off").status_code == 404
    time.sleep(0.3)  # access-log lines are written in batches
    assert '"status":5' not in log.read_text()  # the client's doing, not a server error


def test_a_body_left_unread_must_keep_arriving(server: str) -> None:
    """Answered without reading its body (a GET), a request's remaining body still has a
    deadline per chunk: a client that stops sending it does not keep the connection."""
    with connect(server) as sock:
        sock.sendall(
            b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\nab"
        )
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 200 ")
        sock.sendall(b"c")  # uvicorn's keep-alive timer stops at any byte; ours does not
        _, after = until_closed(sock)
    assert TIMEOUT_S * 0.8 <= after <= TIMEOUT_S + 2
