"""The benchmark: seed (or reuse) data sets, measure every case and its floors, write a report.

    python -m bench.run --sizes 10k,100k,1M --backends sqlite,postgresql --duration 10

For each backend and size: seed the data set (cached), capture each case's SQL in-process and
replay it with the bare driver (SQL floor), start a real server process (one uvicorn worker) and
drive every case with wrk at each connection count, then drive a bare ASGI app with the same
scripts and response sizes (ASGI floor). Every measurement is saved to the results file as soon as
it is taken; running the same command again skips what is already there (use `--fresh` to redo).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sqlite3
import statistics
import sys
import time
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx

from bench.cases import APPEND_TARGETS, BY_NAME, CASES, NEEDLE_SESSIONS, Case, needle_messages
from bench.dataset import Spec
from bench.floors import (
    FLOOR_APP,
    FLOOR_HEALTH,
    SIZE_HEADER,
    capturing,
    replay,
    undo_appends,
)
from bench.load import LoadResult, Requests, run_wrk
from bench.report import render
from bench.seed import DATA_DIR, DEFAULT_PG_URL, Dataset, ensure_dataset, parse_size, size_label
from bench.server import ServerProcess, memory_kib, start_server
from convostore.config import Settings
from convostore.server import create_app

with warnings.catch_warnings():  # the test client's note about httpx is not ours to act on
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

RESULTS_DIR = Path(__file__).parent / "results"
CAPTURED_REQUESTS = 20
ASGI_FLOOR_TOLERANCE = 0.05


class Run:
    """One invocation: its options, its results file, and the floor server it may start."""

    def __init__(self, args: argparse.Namespace, argv: list[str]) -> None:
        self.args = args
        self.out = Path(args.out)
        self.work = self.out.parent / "work"
        self.work.mkdir(parents=True, exist_ok=True)
        self.results: dict[str, Any] = {}
        if self.out.exists() and not args.fresh:
            self.results = json.loads(self.out.read_text())
        self.results["meta"] = {
            "command": "python -m bench.run " + shlex.join(argv),
            "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "machine": machine_notes(),
        }
        for section in ("datasets", "runs", "sql_floors", "asgi_floors"):
            self.results.setdefault(section, {})
        self.cases = [BY_NAME[n] for n in args.cases.split(",")] if args.cases else list(CASES)
        self.floor_server: ServerProcess | None = None

    def server_env(self) -> dict[str, str]:
        return dict(pair.split("=", 1) for pair in self.args.server_env)

    def server_env_settings(self) -> dict[str, Any]:
        """The same options for the in-process app, with its access log off (it would print)."""
        prefix = "CONVOSTORE_"
        options = {k[len(prefix) :].lower(): v for k, v in self.server_env().items()}
        return options | {"access_log": False}

    def save(self) -> None:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.out.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.results, indent=1))
        tmp.replace(self.out)

    def log(self, text: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.1f}] {text}", flush=True)

    def done(self, section: str, key: str) -> bool:
        entry = self.results[section].get(key)
        return entry is not None and entry.get("duration") == self.args.duration

    # --- one data set -------------------------------------------------------------------------

    def dataset(self, backend: str, sessions: int) -> None:
        spec = Spec(sessions=sessions)
        ds = ensure_dataset(
            backend, spec, data_dir=Path(self.args.data_dir), pg_url=self.args.pg_url, log=self.log
        )
        name = f"{backend}/{size_label(sessions)}"
        previous = self.results["datasets"].get(name, {})
        record = {"seconds": ds.seconds, "reused": ds.reused, "rows": ds.rows}
        if ds.reused and previous.get("seconds") == ds.seconds:
            record["reused"] = previous.get("reused", True)
        self.results["datasets"][name] = record
        self.save()
        sizes = self.sql_floors(ds, name)
        self.serve_cases(ds, name, sizes)
        self.asgi_floors(spec, name, sizes)

    def sql_floors(self, ds: Dataset, name: str) -> dict[str, int]:
        """Capture each case's SQL through the real app in-process; replay it bare. Body sizes."""
        sizes: dict[str, int] = {}
        settings = Settings(database_url=ds.url, **self.server_env_settings())
        # addressed to loopback, as open mode requires (TestClient says "testserver" by itself)
        with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
            # prepared SQLite reads and writes bypass the engine events the capture listens to
            store = client.app.state.ctx.store  # type: ignore[attr-defined]
            for prepared in (store.read_statements, store.write_statements):
                prepared.direct = False
            drop_append_targets(client)
            for case in self.cases:
                if case.write:
                    create_append_targets(client)
                if case.needles:
                    create_needles(client)
                requests = case.build(ds.spec)
                appended: list[tuple[str, list[int]]] = []
                with capturing() as capture:
                    for n in range(self.args.capture_requests):
                        capture.requests.append([])
                        response = send_request(client, requests, n)
                        if response.status_code >= 300:
                            raise RuntimeError(
                                f"{case.name}: {response.status_code} {response.text[:300]}"
                            )
                        if case.write:
                            body = response.json()
                            appended.append((body["session_id"], [m["seq"] for m in body["data"]]))
                sizes[case.name] = len(response.content)
                undo_appends(ds.url, list(reversed(appended)))
                drop_append_targets(client)
                drop_needles(client)
                key = f"{name}/{case.name}"
                if self.done("sql_floors", key):
                    continue
                floor = replay(
                    ds.url, capture.requests, write=case.write, seconds=self.args.sql_floor_seconds
                )
                self.results["sql_floors"][key] = asdict(floor) | {"duration": self.args.duration}
                self.log(f"SQL floor {key}: {floor.median_us:,.0f} µs")
        self.save()
        return sizes

    def serve_cases(self, ds: Dataset, name: str, sizes: dict[str, int]) -> None:
        todo = [
            (case, conns)
            for case in self.cases
            for conns in self.args.connections
            if not self.done("runs", f"{name}/{case.name}/c{conns}")
        ]
        if not todo:
            return
        # the server as users run it: `convostore serve` (which owns the process, gc.freeze too)
        server = start_server(ds.url, log_dir=self.work, env=self.server_env(), cli=True)
        try:
            with httpx.Client(base_url=server.base_url, timeout=120) as client:
                for case, conns in todo:
                    if case.write:
                        create_append_targets(client)
                    if case.needles:
                        create_needles(client)
                    self.measure(server, ds.spec, name, case, conns, sizes[case.name])
                    drop_needles(client)
                drop_append_targets(client)
        finally:
            server.stop()

    def measure(
        self, server: ServerProcess, spec: Spec, name: str, case: Case, conns: int, size: int
    ) -> None:
        requests = case.build(spec)
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            for n in range(3):
                response = send_request(client, requests, n)
                if response.status_code >= 300:
                    raise RuntimeError(f"{case.name}: {response.status_code} {response.text[:300]}")
        load_before = os.getloadavg()[0]
        if self.args.warmup:
            self.wrk(server.base_url, requests, conns, self.args.warmup, case.name)
        runs = [
            self.wrk(server.base_url, requests, conns, self.args.duration, case.name)
            for _ in range(self.args.repeats)
        ]
        best = sorted(runs, key=lambda r: r.rps)[len(runs) // 2]  # the median run
        memory = memory_kib(server.process.pid)
        key = f"{name}/{case.name}/c{conns}"
        self.results["runs"][key] = asdict(best) | {
            "repeats_rps": [r.rps for r in runs],
            "rss_mb": memory["VmRSS"] / 1024,
            "hwm_mb": memory["VmHWM"] / 1024,
            "body_bytes": size,
            "load": [load_before, os.getloadavg()[0]],
            "duration": self.args.duration,
        }
        self.save()
        self.log(
            f"{key}: {best.rps:,.0f} req/s p50 {best.p50_ms:.2f} ms p99 {best.p99_ms:.2f} ms "
            f"rss {memory['VmRSS'] / 1024:.0f} MB errors {best.errors + best.non_2xx}"
        )

    def wrk(
        self, base_url: str, requests: Requests, conns: int, seconds: float, label: str
    ) -> LoadResult:
        return run_wrk(
            base_url,
            requests,
            connections=conns,
            duration_s=seconds,
            script_path=self.work / f"{label}.lua",
        )

    def asgi_floors(self, spec: Spec, name: str, sizes: dict[str, int]) -> None:
        """The bare ASGI app, driven by each case's script, answering with the case's body size."""
        wanted = self.args.floor_cases.split(",") if self.args.floor_cases else None
        for case in self.cases:
            if wanted is not None and case.name not in wanted:
                continue
            for conns in self.args.connections:
                run = self.results["runs"].get(f"{name}/{case.name}/c{conns}")
                if run is None:
                    continue
                key = self._floor_key(case.name, conns, sizes[case.name])
                run["asgi_floor_key"] = key
                if self.done("asgi_floors", key):
                    continue
                if self.floor_server is None:
                    self.floor_server = start_server(
                        "sqlite://",
                        log_dir=self.work,
                        app=FLOOR_APP,
                        health_path=FLOOR_HEALTH,
                        env={"PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
                    )
                base = case.build(spec)
                requests = Requests(
                    method=base.method,
                    paths=base.paths,
                    body_head=base.body_head,
                    body_tail=base.body_tail,
                    headers=((SIZE_HEADER, str(sizes[case.name])),),
                )
                result = self.wrk(
                    self.floor_server.base_url, requests, conns, self.args.duration, "floor"
                )
                self.results["asgi_floors"][key] = asdict(result) | {
                    "duration": self.args.duration,
                    "body_bytes": sizes[case.name],
                }
                self.save()
                self.log(f"ASGI floor {key}: {result.rps:,.0f} req/s")

    def _floor_key(self, case: str, conns: int, size: int) -> str:
        """Reuse a floor measured for the same case and connections at a body size within 5%."""
        for key, floor in self.results["asgi_floors"].items():
            same = key.startswith(f"{case}/c{conns}/") and floor["duration"] == self.args.duration
            if same and abs(floor["body_bytes"] - size) <= ASGI_FLOOR_TOLERANCE * max(size, 1):
                return str(key)
        return f"{case}/c{conns}/{size}"

    def close(self) -> None:
        if self.floor_server is not None:
            self.floor_server.stop()


def create_append_targets(client: httpx.Client | TestClient) -> None:
    """The sessions appends go to; created only for the write cases (409 when they exist)."""
    for target in APPEND_TARGETS:
        client.post("/v1/sessions", json={"id": target, "user_id": "bench"})


def create_needles(client: httpx.Client | TestClient) -> None:
    """The sessions holding the selective search cases' words (see `bench.cases`)."""
    for k, target in enumerate(NEEDLE_SESSIONS):
        body = {
            "messages": needle_messages(k),
            "create_if_missing": True,
            "session": {"user_id": "user-000", "title": "needle"},
        }
        response = client.post(f"/v1/sessions/{target}/messages", json=body)
        if response.status_code != 201:
            raise RuntimeError(f"cannot create {target}: {response.status_code} {response.text}")


def drop_needles(client: httpx.Client | TestClient) -> None:
    for target in NEEDLE_SESSIONS:
        response = client.delete(f"/v1/sessions/{target}")
        if response.status_code not in (200, 404):
            raise RuntimeError(f"cannot delete {target}: {response.status_code} {response.text}")


def drop_append_targets(client: httpx.Client | TestClient) -> None:
    """Appended sessions would head every newest-first list; reads must see the seeded data."""
    for target in APPEND_TARGETS:
        response = client.delete(f"/v1/sessions/{target}")
        if response.status_code not in (200, 404):
            raise RuntimeError(f"cannot delete {target}: {response.status_code} {response.text}")


def send_request(client: httpx.Client | TestClient, requests: Requests, n: int) -> httpx.Response:
    path = requests.paths[n % len(requests.paths)]
    if requests.body_head is None:
        return client.request(requests.method, path)
    body = f"{requests.body_head}{n + 1_000_000}{requests.body_tail}"
    headers = {"Content-Type": "application/json"}
    return client.request(requests.method, path, content=body.encode(), headers=headers)


def machine_notes() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "load_at_start": os.getloadavg(),
    }


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--sizes", default="10k", help="comma-separated: 10k,100k,1M")
    parser.add_argument("--backends", default="sqlite", help="sqlite,postgresql")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per case")
    parser.add_argument("--connections", default="1,16", help="comma-separated counts")
    parser.add_argument("--repeats", type=int, default=1, help="runs per case; the median counts")
    parser.add_argument("--warmup", type=float, default=2.0, help="wrk warm-up seconds per case")
    parser.add_argument("--sql-floor-seconds", type=float, default=2.0)
    parser.add_argument(
        "--capture-requests",
        type=int,
        default=CAPTURED_REQUESTS,
        help="requests per case whose SQL is captured and replayed for the SQL floor",
    )
    parser.add_argument("--cases", default="", help="comma-separated case names (default: all)")
    parser.add_argument(
        "--floor-cases", default="", help="cases given an ASGI floor (default: all)"
    )
    parser.add_argument("--out", default=str(RESULTS_DIR / "latest.json"))
    parser.add_argument("--data-dir", default=str(DATA_DIR))
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="a server to create databases on")
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="CONVOSTORE_NAME=VALUE",
        help="a setting for the server under test (repeatable); defaults otherwise",
    )
    parser.add_argument("--fresh", action="store_true", help="ignore earlier results in --out")
    args = parser.parse_args(argv)
    args.connections = [int(c) for c in args.connections.split(",")]
    names = f"{args.cases},{args.floor_cases}".split(",")
    unknown = [n for n in names if n and n not in BY_NAME]
    if unknown:
        parser.error(f"unknown cases {unknown}; known: {', '.join(BY_NAME)}")
    return args


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    run = Run(args, argv)
    try:
        for backend in args.backends.split(","):
            for size in args.sizes.split(","):
                run.dataset(backend.strip(), parse_size(size))
    finally:
        run.close()
        run.save()
    report = render(run.results)
    run.out.with_suffix(".md").write_text(report)
    print(report)
    loads = [r["load"][0] for r in run.results["runs"].values()]
    if loads:
        print(f"median 1-minute load during the runs: {statistics.median(loads):.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
