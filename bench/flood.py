"""How a real server answers `/v1/health` while other clients send it large request bodies.

One server process (SQLite, a fresh database with one admin key), and for each scenario two
flooding clients that send 10 MiB bodies in a loop while a third measures `/v1/health` one request
after another. Scenarios, side by side in one run:

- `idle`: nobody floods (the baseline);
- `no_key`: bodies without a key, refused (401) from the headers before they are read;
- `keyed_large`: a keyed append of 100 messages of ~100 KiB each (parsed, validated, stored);
- `keyed_many`: a keyed body of ~300,000 tiny messages (parsed, then refused as too many).

Run: `python -m bench.flood [--seconds 10] [--out bench/results/flood.json]`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench.server import start_server
from convostore.auth import KeyService
from convostore.storage import open_store

TEN_MIB = 10 * 1024 * 1024


def _bodies() -> dict[str, bytes]:
    large = [{"role": "user", "content": "y" * 100_000} for _ in range(100)]
    message = b'{"role": "user", "content": "x"},'
    count = (TEN_MIB - 64) // len(message)
    tiny = b'{"messages": [' + message * count + message[:-1] + b"]}"
    return {
        "no_key": tiny,
        "keyed_large": json.dumps({"messages": large, "create_if_missing": True}).encode(),
        "keyed_many": tiny,
    }


def _flood(
    base_url: str, body: bytes, key: str | None, stop: threading.Event, out: list[int]
) -> None:
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    with httpx.Client(base_url=base_url, timeout=60.0) as client:
        n = 0
        while not stop.is_set():
            n += 1
            answer = client.post(f"/v1/sessions/flood-{n}/messages", content=body, headers=headers)
            out.append(answer.status_code)


def _measure(base_url: str, seconds: float) -> list[float]:
    found: list[float] = []
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            client.get("/v1/health")
            found.append(time.perf_counter() - started)
            time.sleep(0.005)
    return found


def run(seconds: float) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'flood.db'}"
        store = open_store(url)
        key = KeyService(store).create("bench", "admin").key
        store.close()
        server = start_server(url, log_dir=Path(tmp))
        bodies = _bodies()
        try:
            for scenario in ("idle", "no_key", "keyed_large", "keyed_many"):
                stop = threading.Event()
                statuses: list[int] = []
                flooders = []
                if scenario != "idle":
                    body_key = None if scenario == "no_key" else key
                    flooders = [
                        threading.Thread(
                            target=_flood,
                            args=(server.base_url, bodies[scenario], body_key, stop, statuses),
                        )
                        for _ in range(2)
                    ]
                for thread in flooders:
                    thread.start()
                time.sleep(0.5 if flooders else 0)
                latencies = _measure(server.base_url, seconds)
                stop.set()
                for thread in flooders:
                    thread.join(timeout=120)
                cuts = statistics.quantiles(latencies, n=100)
                results[scenario] = {
                    "health_requests": len(latencies),
                    "health_p50_ms": round(statistics.median(latencies) * 1000, 2),
                    "health_p99_ms": round(cuts[98] * 1000, 2),
                    "health_max_ms": round(max(latencies) * 1000, 2),
                    "flood_requests": len(statuses),
                    "flood_statuses": sorted(set(statuses)),
                }
                print(scenario, results[scenario], flush=True)
        finally:
            server.stop()
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=Path("bench/results/flood.json"))
    args = parser.parse_args(argv)
    results = run(args.seconds)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print("| scenario | health p50 ms | health p99 ms | health max ms | flood requests | answers |")
    print("|---|--:|--:|--:|--:|---|")
    for name, r in results.items():
        print(
            f"| {name} | {r['health_p50_ms']} | {r['health_p99_ms']} | {r['health_max_ms']} "
            f"| {r['flood_requests']} | {r['flood_statuses']} |"
        )


if __name__ == "__main__":
    main()
