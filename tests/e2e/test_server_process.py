"""A real `convostore serve` process: start it, talk HTTP to it, load the demo into it, stop it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

STARTUP_TIMEOUT_S = 20.0


def convostore_command() -> list[str]:
    """The installed `convostore` script next to this interpreter, else the module."""
    script = Path(sys.executable).with_name("convostore")
    return [str(script)] if script.exists() else [sys.executable, "-m", "convostore.cli.main"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def child_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CONVOSTORE_") or k == "CONVOSTORE_FAST_ROUTES"
    }
    env["CONVOSTORE_CONNECT_RETRIES"] = "0"
    return env


@contextmanager
def running_server(
    tmp_path: Path, database_url: str, *args: str, env: dict[str, str] | None = None
) -> Iterator[str]:
    """`convostore serve` on a free loopback port (its output in `tmp_path / "serve.log"`):
    yields its base URL once it is healthy, and always stops it afterwards."""
    port = free_port()
    log_path = tmp_path / "serve.log"
    command = [
        *convostore_command(),
        "serve",
        "--port",
        str(port),
        "--database",
        database_url,
        "--log-level",
        "warning",
        *args,
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env={**child_env(), **(env or {})}, stdout=log, stderr=subprocess.STDOUT
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"server exited with {process.returncode}:\n{log_path.read_text()}")
            try:
                if httpx.get(f"{base_url}/v1/health", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"server not healthy after {STARTUP_TIMEOUT_S}s:\n{log_path.read_text()}"
                )
            time.sleep(0.1)
        yield base_url
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    """A server on a free loopback port and a temp SQLite file; always stopped afterwards."""
    database_url = f"sqlite:///{tmp_path / 'e2e.db'}"
    with running_server(tmp_path, database_url) as base_url:
        yield base_url, database_url, tmp_path / "serve.log"


def test_serve_answers_http_and_shows_demo_data(server: tuple[str, str, Path]) -> None:
    base_url, database_url, log_path = server
    startup = log_path.read_text()
    assert f"at {base_url}" in startup
    assert "Open mode" in startup

    with httpx.Client(base_url=base_url, timeout=10.0) as http:
        created = http.post("/v1/sessions", json={"user_id": "e2e", "component_id": "probe"})
        assert created.status_code == 201, created.text
        session_id = created.json()["id"]

        appended = http.post(
            f"/v1/sessions/{session_id}/messages",
            json={
                "messages": [
                    {"role": "user", "content": "What happens at the start of the clip?"},
                    {
                        "role": "assistant",
                        "content": "A door opens.",
                        "thinkings": [{"title": "Information Retrieval", "content": "look"}],
                        "refs": [
                            {
                                "source": {"kind": "video", "id": "VI1", "duration": 12},
                                "items": [{"kind": "keyframe", "start": 2}],
                            }
                        ],
                        "metrics": {"input_tokens": 10, "output_tokens": 4, "total_tokens": 14},
                    },
                ]
            },
        )
        assert appended.status_code == 201, appended.text
        assert [m["seq"] for m in appended.json()["data"]] == [1, 2]

        listed = http.get("/v1/sessions", params={"user_id": "e2e"}).json()
        assert [s["id"] for s in listed["data"]] == [session_id]
        assert listed["data"][0]["message_count"] == 2
        assert listed["data"][0]["title"] == "What happens at the start of the clip?"

        detail = http.get(f"/v1/sessions/{session_id}", params={"include_messages": 10}).json()
        assert detail["metrics"]["total_tokens"] == 14
        messages = detail["messages"]["data"]
        assert messages[1]["refs"][0]["items"][0]["start"] == 2

        demo = subprocess.run(
            [*convostore_command(), "demo", "--database", database_url, "--json"],
            env=child_env(),
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert demo.returncode == 0, demo.stderr.decode()
        assert json.loads(demo.stdout)["sessions"] == 36

        everything = http.get("/v1/sessions", params={"limit": 200, "include_total": True})
        body = everything.json()
        assert body["total_count"] == 37
        assert {s["type"] for s in body["data"]} == {"agent", "team", "workflow"}
        assert {s["user_id"] for s in body["data"]} >= {"alice", "bob", "default", "e2e"}
