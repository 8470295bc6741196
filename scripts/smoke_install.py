"""Smoke test of an installed convostore: real `convostore serve` processes, driven over HTTP.

Run it with the Python of a virtualenv that holds a regular install of `convostore[server,postgres]`
and nothing else (`scripts/smoke_install.sh` makes one): it catches what the test suite, running
from a checkout with the development tools, cannot — a dependency only those tools brought in, or
package data (migrations, web assets) missing from the installed package.

It serves the demo data on SQLite (as `make run` does), then a scratch PostgreSQL database
(`CONVOSTORE_TEST_POSTGRES_URL`, else the local server), and on each writes a session with a run,
reasoning steps and evidence, and reads it back through the native, memories.ai and Agno APIs and
the web UI. It uses only the standard library and what the install brought (httpx, psycopg).
Servers are always stopped and the scratch database dropped; any failure exits non-zero with
what was asked, what came back and the end of the server's log.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
from psycopg import sql

STARTUP_TIMEOUT_S = 30.0
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
VIDEO_ID = "VI606140356924534784"
# how the server's connections for reads on the event loop name themselves to PostgreSQL
LOOP_READS_NAME = "convostore-loop-reads"


class SmokeFailure(Exception):
    """A check failed: the message says which, and what was seen instead."""


def check(condition: bool, what: str, seen: Any = None) -> None:
    if not condition:
        shown = "" if seen is None else f": {str(seen)[:600]}"
        raise SmokeFailure(f"{what}{shown}")


def steps(message: dict[str, Any]) -> list[tuple[str, str]]:
    """A message's reasoning steps as (title, content) pairs."""
    return [(step["title"], step["content"]) for step in message.get("thinkings") or []]


def answer(http: httpx.Client, method: str, path: str, status: int, **kwargs: Any) -> Any:
    """The JSON body of a request that must answer `status`."""
    response = http.request(method, path, **kwargs)
    if response.status_code != status:
        what = f"{method} {path}: expected {status}, got {response.status_code}"
        check(False, what, response.text)
    return response.json()


def memories_ai(http: httpx.Client, path: str, **params: Any) -> Any:
    """The `data` of a memories.ai answer, which must be a success envelope."""
    body = answer(http, "GET", f"/serve/api/v1/{path}", 200, params=params)
    check(body.get("code") == "0000" and body.get("success") is True, path, body)
    return body["data"]


def exercise(http: httpx.Client) -> None:
    """Write one session with a run, then read it back through every surface."""
    health = answer(http, "GET", "/v1/health", 200)
    check(health.get("status") == "ok", "/v1/health", health)

    user = f"smoke-{secrets.token_hex(4)}"
    created = answer(
        http, "POST", "/v1/sessions", 201, json={"user_id": user, "component_id": "smoke-agent"}
    )
    session_id = created["id"]
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "What happens in this video?"},
        {
            "role": "assistant",
            "content": "A chef rolls sushi.",
            "thinkings": [{"title": "Information Retrieval", "content": "Looking at keyframes"}],
            "refs": [
                {
                    "source": {
                        "kind": "video",
                        "id": VIDEO_ID,
                        "name": "sushi.mp4",
                        "duration": 42,
                    },
                    "items": [
                        {"kind": "keyframe", "start": 23},
                        {"kind": "audio_ts", "start": 30, "end": 36, "text": "Roll it tight."},
                    ],
                }
            ],
            "metrics": {"input_tokens": 134, "output_tokens": 26, "total_tokens": 160},
        },
    ]
    appended = answer(
        http,
        "POST",
        f"/v1/sessions/{session_id}/messages",
        201,
        json={"messages": messages},
        headers={"Idempotency-Key": f"{user}-append"},
    )
    check([m["seq"] for m in appended["data"]] == [1, 2], "append", appended)
    run = {
        "id": f"{user}-run",
        "input": "And then?",
        "content": "It is sliced.",
        "messages": [
            {"role": "user", "content": "And then?"},
            {"role": "assistant", "content": "It is sliced.", "refs": messages[1]["refs"]},
        ],
    }
    answer(http, "POST", f"/v1/sessions/{session_id}/runs", 201, json=run)

    # native API
    listed = answer(http, "GET", "/v1/sessions", 200, params={"user_id": user})
    check([s["id"] for s in listed["data"]] == [session_id], "native list", listed)
    check(listed["data"][0]["message_count"] == 4, "native list", listed)
    detail = answer(http, "GET", f"/v1/sessions/{session_id}", 200, params={"include_messages": 10})
    read_back = detail["messages"]["data"]
    check([m["seq"] for m in read_back] == [1, 2, 3, 4], "native detail", detail)
    check(steps(read_back[1]) == steps(messages[1]), "native thinkings", read_back)
    check(read_back[1]["refs"][0]["source"]["id"] == VIDEO_ID, "native refs", read_back)
    check(detail["metrics"].get("total_tokens") == 160, "native metrics", detail)
    page = answer(http, "GET", f"/v1/sessions/{session_id}/messages", 200, params={"after": 2})
    check([m["seq"] for m in page["data"]] == [3, 4], "native messages", page)

    # search: a word of the cited transcript, within the video and a span of it
    within = {"q": "tight", "user_id": user, "source_id": VIDEO_ID}
    found = answer(http, "GET", "/v1/search", 200, params={**within, "start": 31, "end": 40})
    hits = [(h["kind"], h["seq"]) for h in found["data"]]
    check(hits == [("evidence", 4), ("evidence", 2)], "search within a video", found)
    check("<mark>tight</mark>" in found["data"][0]["snippet"], "search snippet", found)
    later = answer(http, "GET", "/v1/search", 200, params={**within, "start": 37})
    check(later["data"] == [], "search outside the span", later)

    # memories.ai
    mlist = memories_ai(http, "list_sessions", page=1, unique_id=user)
    check([s["sessionId"] for s in mlist["sessions"]] == [session_id], "memories.ai list", mlist)
    mdetail = memories_ai(http, "get_session_detail", sessionId=session_id, unique_id=user)
    assistant = mdetail["messages"][1]
    check(steps(assistant) == steps(messages[1]), "memories.ai thinkings", mdetail)
    check(assistant["refs"][0]["video"]["video_no"] == VIDEO_ID, "memories.ai refs", mdetail)

    # Agno AgentOS
    alist = answer(http, "GET", "/sessions", 200, params={"type": "agent", "user_id": user})
    check([s["session_id"] for s in alist["data"]] == [session_id], "Agno list", alist)
    adetail = answer(http, "GET", f"/sessions/{session_id}", 200)
    check(adetail.get("session_id") == session_id, "Agno detail", adetail)
    runs = answer(http, "GET", f"/sessions/{session_id}/runs", 200)
    # the two appended messages are presented as one implied run (its id is the user message's),
    # followed by the recorded run
    check(len(runs) == 2 and runs[1]["run_id"] == run["id"], "Agno runs", runs)
    check(runs[0]["run_input"] == messages[0]["content"], "Agno implied run", runs)
    check(runs[0]["content"] == messages[1]["content"], "Agno implied run", runs)

    # the web UI's page and every file it loads (package data), and the API reference
    ui = http.get("/ui/")
    check(ui.status_code == 200, f"GET /ui/: expected 200, got {ui.status_code}")
    assets = re.findall(r'(?:href|src)="(static/[^"]+)"', ui.text)
    check(len(assets) > 2, "/ui/ loads no assets", ui.text)
    for asset in assets:
        loaded = http.get(f"/ui/{asset}")
        check(loaded.status_code == 200, f"GET /ui/{asset}: {loaded.status_code}")
    schema = answer(http, "GET", "/openapi.json", 200)
    check("/v1/sessions" in schema.get("paths", {}), "/openapi.json lists no /v1/sessions")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def log_tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def serving(database_url: str, workdir: Path, *options: str) -> Iterator[httpx.Client]:
    """A `convostore serve` process of this virtualenv, healthy, always stopped afterwards."""
    port = free_port()
    log = workdir / f"serve-{port}.log"
    command = [str(Path(sys.executable).with_name("convostore")), "serve", "--port", str(port)]
    command += ["--database", database_url, "--log-level", "warning", *options]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONVOSTORE_")}
    env["CONVOSTORE_CONNECT_RETRIES"] = "0"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10.0) as http:
            wait_until_listening(process, http, log)
            try:
                yield http
            except Exception:
                print(f"--- the server's log, last lines ---\n{log_tail(log)}", file=sys.stderr)
                raise
        check("Traceback" not in log.read_text(errors="replace"), f"server log:\n{log_tail(log)}")
    finally:
        stop(process)


def wait_until_listening(process: subprocess.Popen[bytes], http: httpx.Client, log: Path) -> None:
    """Until the server takes connections (it does once its start-up is over)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while True:
        if process.poll() is not None:
            raise SmokeFailure(f"server exited with {process.returncode}:\n{log_tail(log)}")
        try:
            http.get("/v1/health")
            return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise SmokeFailure(f"server not up after {STARTUP_TIMEOUT_S}s:\n{log_tail(log)}")
        time.sleep(0.1)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextmanager
def scratch_postgres() -> Iterator[str | None]:
    """A new PostgreSQL database's URL, dropped afterwards; None when no server is reachable
    (a failure instead when CONVOSTORE_TEST_REQUIRE_POSTGRES=1, as CI sets)."""
    admin_url = os.environ.get("CONVOSTORE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    parts = urlsplit(admin_url)
    libpq = urlunsplit(parts._replace(scheme="postgresql"))
    try:
        admin = psycopg.connect(libpq, autocommit=True, connect_timeout=5)
    except psycopg.Error as exc:
        if os.environ.get("CONVOSTORE_TEST_REQUIRE_POSTGRES") == "1":
            raise SmokeFailure(f"PostgreSQL is required but unreachable: {exc}") from None
        print(f"skipped PostgreSQL: unreachable ({exc.__class__.__name__})")
        yield None
        return
    name = f"convostore_smoke_{os.getpid()}_{secrets.token_hex(3)}"
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield urlunsplit(parts._replace(scheme="postgresql+psycopg", path=f"/{name}"))
        finally:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            admin.execute(drop.format(sql.Identifier(name)))


def reads_ran_on_the_loop(database_url: str) -> None:
    """The default configuration's PostgreSQL reads on the event loop are in effect: its
    connections, named as the README says, are open (they are missing when the loop cannot run
    them, e.g. without greenlet, and reads quietly take the slower read threads)."""
    libpq = urlunsplit(urlsplit(database_url)._replace(scheme="postgresql"))
    with psycopg.connect(libpq, autocommit=True, connect_timeout=5) as conn:
        found = conn.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = %s",
            (LOOP_READS_NAME,),
        ).fetchone()
    check(found is not None and found[0] > 0, f"no {LOOP_READS_NAME} connections", found)


def installed_from_this_venv() -> None:
    """The package must be a regular install in this virtualenv, not the checkout's sources."""
    import convostore

    where = Path(convostore.__file__).resolve()
    check(where.is_relative_to(Path(sys.prefix).resolve()), f"convostore imported from {where}")


def main() -> int:
    # a terminated smoke test still stops its servers and drops its database
    def _terminate(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _terminate)
    try:
        installed_from_this_venv()
        with tempfile.TemporaryDirectory(prefix="convostore-smoke-") as tmp:
            workdir = Path(tmp)
            with serving(f"sqlite:///{workdir / 'smoke.db'}", workdir, "--demo") as http:
                demo = answer(http, "GET", "/v1/sessions", 200, params={"limit": 1})
                check(len(demo["data"]) == 1, "--demo loaded no sessions", demo)
                exercise(http)
            print("ok  SQLite (with the demo data)")
            with scratch_postgres() as postgres_url:
                if postgres_url is not None:
                    with serving(postgres_url, workdir) as http:
                        exercise(http)
                        reads_ran_on_the_loop(postgres_url)
                    print("ok  PostgreSQL (reads on the event loop)")
    except SmokeFailure as failure:
        print(f"SMOKE TEST FAILED: {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
