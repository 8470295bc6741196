"""Per-request cost of the server's code path, measured in-process without sockets.

`python -m bench.inprocess --database URL [--cases list_first,detail_20] [--requests 3000]
[--profile CASE]` builds the real app (same settings as a served process), calls it as an ASGI
application for each case's requests in turn, and prints the mean microseconds per request. With
`--profile CASE` it also prints the cProfile of that case's requests. It is the tool for finding
where a request's time goes; the throughput figures of the targets come from `bench.run`. Write
cases append to the `bench-append-NN` sessions, which it creates: point it at a copy of a data
set, not at the one `bench.run` measures reads on.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import time
from collections.abc import Iterator
from itertools import cycle
from typing import Any
from urllib.parse import urlsplit

from bench.cases import APPEND_TARGETS, BY_NAME
from bench.dataset import Spec
from convostore.config import Settings
from convostore.server.app import create_app

READ_CASES = (
    "list_first",
    "list_user",
    "list_deep_cursor",
    "detail_20",
    "messages_page",
    "mai_list",
    "mai_detail",
    "agno_list",
    "agno_detail",
    "agno_runs",
)


class Caller:
    """Sends GET requests straight to an ASGI app and checks each answer is a 200."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def get(self, target: str) -> int:
        return await self.send("GET", target)

    async def send(self, method: str, target: str, body: bytes = b"") -> int:
        parts = urlsplit(target)
        headers = [(b"host", b"127.0.0.1")]
        if body:
            headers += [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": parts.path,
            "raw_path": parts.path.encode(),
            "query_string": parts.query.encode(),
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8080),
            "app": self.app,
        }
        status = 0
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await self.app(scope, receive, send)
        if status not in (200, 201):
            raise RuntimeError(f"{target} answered {status}")
        return status


def requests(case: str, spec: Spec) -> Iterator[tuple[str, str, bytes]]:
    """(method, target, body) of the case's requests, round and round; bodies all differ."""
    built = BY_NAME[case].build(spec)
    for n, path in enumerate(cycle(built.paths)):
        body = b""
        if built.body_head is not None:
            body = f"{built.body_head}{n}{built.body_tail}".encode()
        yield built.method, path, body


async def measure(app: Any, cases: list[str], spec: Spec, n: int, profile: str | None) -> None:
    caller = Caller(app)
    for target in APPEND_TARGETS:  # the write cases' sessions; a 409 when they exist
        await app(*_create_session(target))
    for case in cases:
        sent = requests(case, spec)
        for _ in range(min(n // 10, 300)):  # warm caches and statement caches
            await caller.send(*next(sent))
        profiler = cProfile.Profile() if case == profile else None
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        for _ in range(n):
            await caller.send(*next(sent))
        if profiler:
            profiler.disable()
        elapsed = time.perf_counter() - started
        print(f"{case:18s} {elapsed / n * 1e6:8.1f} µs/request", flush=True)
        if profiler:
            pstats.Stats(profiler).sort_stats("tottime").print_stats(35)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)


def _create_session(session_id: str) -> tuple[dict[str, Any], Any, Any]:
    body = b'{"id":"%s","user_id":"bench"}' % session_id.encode()
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/sessions",
        "raw_path": b"/v1/sessions",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(_message: dict[str, Any]) -> None:
        return None

    return scope, receive, send


async def run(args: argparse.Namespace) -> None:
    settings = Settings(database_url=args.database, access_log=not args.no_access_log)
    app = create_app(settings)
    spec = Spec(sessions=args.sessions)
    async with app.router.lifespan_context(app):
        await measure(app, args.cases.split(","), spec, args.requests, args.profile)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", required=True)
    parser.add_argument("--sessions", type=int, default=100_000, help="the data set's size")
    parser.add_argument("--cases", default=",".join(READ_CASES))
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--profile", default=None, help="a case to profile")
    parser.add_argument("--no-access-log", action="store_true")
    args = parser.parse_args(argv)
    try:
        import uvloop

        uvloop.run(run(args))
    except ImportError:
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
