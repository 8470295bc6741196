"""Running a real convostore server process on a free loopback port, for benchmarks and tests.

The process is started with `python -m uvicorn --factory convostore.server:create_app`, configured
through `CONVOSTORE_*` variables exactly as a deployment would be, and always stopped on exit.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ServerProcess:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks run, as in a crash."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def start_server(
    database_url: str,
    *,
    log_dir: Path,
    port: int | None = None,
    env: Mapping[str, str] | None = None,
    timeout_s: float = 30.0,
    app: str = "convostore.server:create_app",
    health_path: str = "/v1/health",
    cli: bool = False,
    wrap: Sequence[str] = (),
) -> ServerProcess:
    """A server on `database_url`: uvicorn serving `app`, or with `cli` the `convostore serve`
    command (which opens the store itself and runs uvicorn in its own process); `wrap` is a
    command to run it under (a profiler, say)."""
    port = port or free_port()
    log_path = log_dir / f"server-{port}.log"
    full_env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith("CONVOSTORE_") or k == "CONVOSTORE_FAST_ROUTES"
        },
        "CONVOSTORE_DATABASE_URL": database_url,
        **(env or {}),
    }
    if cli:
        script = Path(sys.executable).with_name("convostore")
        command = (
            [str(script)]
            if script.exists() and not wrap
            else [sys.executable, "-m", "convostore.cli.main"]
        )
        command += ["serve", "--port", str(port), "--database", database_url]
        full_env.setdefault("CONVOSTORE_LOG_LEVEL", "warning")
    else:
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            app,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
    command = [*wrap, *command]
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    server = ServerProcess(process=process, base_url=f"http://127.0.0.1:{port}", log_path=log_path)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{server.log()}")
        try:
            if httpx.get(f"{server.base_url}{health_path}", timeout=1.0).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"server did not become healthy in {timeout_s}s:\n{server.log()}")


def memory_kib(pid: int) -> dict[str, int]:
    """Resident memory of a process now (`VmRSS`) and at its peak (`VmHWM`), in KiB."""
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0])
    return found


@contextmanager
def running_servers(
    database_url: str, count: int, *, log_dir: Path, env: Mapping[str, str] | None = None
) -> Iterator[list[ServerProcess]]:
    servers: list[ServerProcess] = []
    try:
        for _ in range(count):
            servers.append(start_server(database_url, log_dir=log_dir, env=env))
        yield servers
    finally:
        for server in servers:
            server.stop()


def all_messages(client: httpx.Client, session_id: str) -> list[dict[str, Any]]:
    """Every stored message of a session, page after page, over the native API."""
    messages: list[dict[str, Any]] = []
    after = 0
    while True:
        page = client.get(
            f"/v1/sessions/{session_id}/messages", params={"after": after, "limit": 1000}
        ).json()
        messages.extend(page["data"])
        if not page["has_more"]:
            return messages
        after = int(page["next_cursor"])
