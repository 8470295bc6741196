"""Instructions a real server process executes per request, case by case, counted by callgrind.

Requests per second move with whatever else the machine runs: on a two-core machine shared with
other work the same code gave 1,372 and 534 req/s in two rounds of one case. The instructions a
request costs the server process depend far less on that (work done on a clock is the
exception: see bench/README.md), so two commits (or two settings) compare to a few percent. They
count the server's own work only — Python, the web stack and, for SQLite, the database engine;
not PostgreSQL's processes, not waiting on locks or disks — so they complement the load test
(`bench.run`) rather than replace it.

    python -m bench.instructions --database sqlite:///$PWD/bench/results/data/cs_bench_10k.db \\
      --size 10k --requests 200 --out bench/results/instructions-now.json
    # another commit's server on its own copy of the data set (the harness stays this one)
    python -m bench.instructions --database ... --src ../old/src --out old.json
    python -m bench.instructions --compare old.json bench/results/instructions-now.json

The server is `convostore serve` under `valgrind --tool=callgrind` with instrumentation off; each
case first sends `--warmup` requests uncounted (caches fill, code paths are first taken), then
counting is switched on for `--requests` requests sent one after another on one connection, and
the count is dumped. The data set must be seeded already (`python -m bench.run` seeds them).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.cases import BY_NAME, CASES, Case
from bench.dataset import Spec
from bench.run import (
    create_append_targets,
    create_needles,
    drop_append_targets,
    drop_needles,
    send_request,
)
from bench.seed import parse_size
from bench.server import ServerProcess, start_server

START_TIMEOUT_S = 600.0  # importing the server under callgrind takes a minute or more
_TOTALS = re.compile(rb"^totals:\s*(\d+)", re.MULTILINE)


def callgrind(out_dir: Path) -> list[str]:
    return [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        f"--callgrind-out-file={out_dir}/callgrind.%p",
    ]


def control(pid: int, *args: str) -> None:
    subprocess.run(["callgrind_control", *args, str(pid)], check=True, capture_output=True)


def count(server: ServerProcess, out_dir: Path, label: str, send: Any) -> int:
    """Instructions the server executes while `send()` runs."""
    pid = server.process.pid
    before = set(out_dir.glob(f"callgrind.{pid}.*"))
    control(pid, "--zero")
    control(pid, "--instr=on")
    send()
    control(pid, f"--dump={label}")
    control(pid, "--instr=off")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        fresh = set(out_dir.glob(f"callgrind.{pid}.*")) - before
        for path in fresh:
            found = _TOTALS.search(path.read_bytes())
            if found:
                return int(found.group(1))
        time.sleep(0.2)
    raise RuntimeError(f"callgrind wrote no dump for {label}")


def measure_case(
    server: ServerProcess, out_dir: Path, spec: Spec, case: Case, requests: int, warmup: int
) -> dict[str, Any]:
    built = case.build(spec)
    with httpx.Client(base_url=server.base_url, timeout=300) as client:
        if case.write:
            create_append_targets(client)
        if case.needles:
            create_needles(client)

        def send(first: int, n: int) -> None:
            for k in range(first, first + n):
                response = send_request(client, built, k)
                if response.status_code >= 300:
                    raise RuntimeError(f"{case.name}: {response.status_code} {response.text[:300]}")

        send(0, warmup)
        total = count(server, out_dir, case.name, lambda: send(warmup, requests))
        if case.needles:
            drop_needles(client)
        if case.write:
            drop_append_targets(client)
    per_request = total / requests
    if case.messages_per_request:
        return {"instructions": per_request, "per_message": per_request / case.messages_per_request}
    return {"instructions": per_request}


def run(args: argparse.Namespace) -> dict[str, Any]:
    spec = Spec(sessions=parse_size(args.size))
    cases = [BY_NAME[name] for name in args.cases.split(",")] if args.cases else list(CASES)
    env = {"PYTHONPATH": str(Path(args.src).resolve())} if args.src else {}
    for setting in args.server_env:
        name, _, value = setting.partition("=")
        env[name] = value
    results: dict[str, Any] = {
        "meta": {
            "database": args.database.split("@")[-1],
            "size": args.size,
            "src": args.src,
            "server_env": args.server_env,
            "requests": args.requests,
            "warmup": args.warmup,
        },
        "cases": {},
    }
    out_dir = Path(tempfile.mkdtemp(prefix="convostore-callgrind-"))
    try:
        server = start_server(
            args.database,
            log_dir=out_dir,
            env=env,
            cli=True,
            wrap=callgrind(out_dir),
            timeout_s=START_TIMEOUT_S,
        )
        try:
            for case in cases:
                found = measure_case(server, out_dir, spec, case, args.requests, args.warmup)
                results["cases"][case.name] = found
                print(f"{case.name}: {found['instructions']:,.0f} instructions per request")
        finally:
            server.stop()
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    return results


def compare(before_path: str, after_path: str) -> str:
    """A table of two runs (each file may hold several runs of one side: their medians)."""
    sides = [_medians(path) for path in (before_path, after_path)]
    lines = [
        "| case | before (instructions/request) | after | after/before |",
        "|---|--:|--:|--:|",
    ]
    for name in sides[0]:
        if name in sides[1]:
            a, b = sides[0][name], sides[1][name]
            lines.append(f"| {name} | {a:,.0f} | {b:,.0f} | {b / a:.3f} |")
    return "\n".join(lines)


def _medians(paths: str) -> dict[str, float]:
    found: dict[str, list[float]] = {}
    for path in paths.split(","):
        for name, value in json.loads(Path(path).read_text())["cases"].items():
            found.setdefault(name, []).append(value["instructions"])
    return {name: statistics.median(values) for name, values in found.items()}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__)
    parser.add_argument("--database", help="a seeded data set's URL")
    parser.add_argument("--size", default="10k", help="the data set's size (10k, 100k, 1M)")
    parser.add_argument("--cases", default="", help="comma-separated case names (default: all)")
    parser.add_argument("--requests", type=int, default=200, help="counted requests per case")
    parser.add_argument("--warmup", type=int, default=50, help="uncounted requests first")
    parser.add_argument("--src", help="run the server from this source tree (another commit's)")
    parser.add_argument(
        "--server-env", action="append", default=[], metavar="CONVOSTORE_NAME=VALUE"
    )
    parser.add_argument("--out", help="write the results here (JSON)")
    parser.add_argument(
        "--compare",
        nargs=2,
        metavar=("BEFORE", "AFTER"),
        help="print a table of two result files (comma-separated files: their medians)",
    )
    args = parser.parse_args(argv)
    unknown = [n for n in args.cases.split(",") if n and n not in BY_NAME]
    if unknown:
        parser.error(f"unknown cases {unknown}; known: {', '.join(BY_NAME)}")
    if not args.compare and not args.database:
        parser.error("--database is needed (or --compare)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.compare:
        print(compare(*args.compare))
        return 0
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("valgrind (with callgrind_control) is needed", file=sys.stderr)
        return 2
    results = run(args)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
