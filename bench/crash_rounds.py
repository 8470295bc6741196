"""Crash-and-restart rounds: SIGKILL the server while clients append, restart, audit.

Each round starts a server process on the same database, lets several writers append single
messages (each with its own idempotency key) to a few sessions, kills the process with SIGKILL at a
random moment, starts it again and checks:

- every acknowledged message is present exactly once;
- a message whose request died with the server is present at most once, and retrying it with the
  same idempotency key after the restart stores it exactly once (never twice);
- every session's `seq` runs 1..N without gaps and its `message_count` and token sum are exact;
- the database passes its integrity check (SQLite `PRAGMA integrity_check`).

    python -m bench.crash_rounds --database sqlite:///./crash.db --rounds 20
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import sqlalchemy as sa

from bench.server import ServerProcess, all_messages, start_server
from convostore.storage import open_store


@dataclass
class Ledger:
    """What clients know: acknowledged messages and requests whose outcome died with the server."""

    acked: dict[str, tuple[str, int]] = field(default_factory=dict)  # content -> (session, tokens)
    in_doubt: dict[str, tuple[str, int, str]] = field(default_factory=dict)  # + idempotency key
    lock: threading.Lock = field(default_factory=threading.Lock)


def _write_until_dead(
    base_url: str, sessions: list[str], name: str, ledger: Ledger, stop: threading.Event
) -> None:
    rng = random.Random(name)
    with httpx.Client(base_url=base_url, timeout=10.0) as client:
        i = 0
        while not stop.is_set():
            session_id = sessions[rng.randrange(len(sessions))]
            tokens = rng.randint(1, 100)
            content = f"{name}:{i}"
            key = f"{name}:{i}:{uuid.uuid4().hex[:6]}"
            body = {
                "messages": [
                    {"role": "user", "content": content, "metrics": {"total_tokens": tokens}}
                ]
            }
            i += 1
            try:
                response = client.post(
                    f"/v1/sessions/{session_id}/messages",
                    json=body,
                    headers={"Idempotency-Key": key},
                )
            except httpx.TransportError:
                with ledger.lock:
                    ledger.in_doubt[content] = (session_id, tokens, key)
                return
            if response.status_code == 201:
                with ledger.lock:
                    ledger.acked[content] = (session_id, tokens)
            else:
                with ledger.lock:
                    ledger.in_doubt[content] = (session_id, tokens, key)
                return


def _crash_round(
    database_url: str,
    log_dir: Path,
    sessions: list[str],
    ledger: Ledger,
    writers: int,
    rng: random.Random,
) -> None:
    server = start_server(database_url, log_dir=log_dir)
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=_write_until_dead,
            args=(server.base_url, sessions, f"w{uuid.uuid4().hex[:6]}", ledger, stop),
        )
        for _ in range(writers)
    ]
    for thread in threads:
        thread.start()
    time.sleep(rng.uniform(0.2, 1.0))
    server.kill()
    stop.set()
    for thread in threads:
        thread.join(timeout=30)


def _retry_in_doubt(server: ServerProcess, ledger: Ledger) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30.0) as client:
        for content, (session_id, tokens, key) in list(ledger.in_doubt.items()):
            body = {
                "messages": [
                    {"role": "user", "content": content, "metrics": {"total_tokens": tokens}}
                ]
            }
            response = client.post(
                f"/v1/sessions/{session_id}/messages", json=body, headers={"Idempotency-Key": key}
            )
            response.raise_for_status()
            ledger.acked[content] = (session_id, tokens)
        ledger.in_doubt.clear()


def audit(
    database_url: str, server: ServerProcess, sessions: list[str], ledger: Ledger
) -> list[str]:
    problems: list[str] = []
    stored: dict[str, list[str]] = {}
    with httpx.Client(base_url=server.base_url, timeout=30.0) as client:
        for sid in sessions:
            messages = all_messages(client, sid)
            if [m["seq"] for m in messages] != list(range(1, len(messages) + 1)):
                problems.append(f"{sid}: seq has gaps or is out of order")
            stored[sid] = [str(m["content"]) for m in messages]
            session = client.get(f"/v1/sessions/{sid}").json()
            if session["message_count"] != len(messages):
                problems.append(
                    f"{sid}: message_count {session['message_count']} != {len(messages)}"
                )
            tokens = sum(int(m["metrics"].get("total_tokens", 0)) for m in messages)
            if session["metrics"].get("total_tokens", 0) != tokens:
                problems.append(f"{sid}: token roll-up {session['metrics']} != {tokens}")
    everything = [c for contents in stored.values() for c in contents]
    counts: dict[str, int] = {}
    for content in everything:
        counts[content] = counts.get(content, 0) + 1
    for content, (session_id, _) in ledger.acked.items():
        if counts.get(content, 0) != 1 or content not in stored[session_id]:
            problems.append(f"acknowledged {content!r} stored {counts.get(content, 0)} times")
    for content in ledger.in_doubt:
        if counts.get(content, 0) > 1:
            problems.append(f"in-doubt {content!r} stored {counts[content]} times")
    unknown = set(counts) - set(ledger.acked) - set(ledger.in_doubt)
    if unknown:
        problems.append(f"{len(unknown)} stored messages nobody sent")
    if database_url.startswith("sqlite"):
        store = open_store(database_url, migrate=False)
        try:
            with store.engine.connect() as conn:
                result = conn.execute(sa.text("PRAGMA integrity_check")).scalar()
            if result != "ok":
                problems.append(f"integrity_check: {result}")
        finally:
            store.close()
    return problems


def run_rounds(
    database_url: str, rounds: int, *, writers: int, log_dir: Path, seed: int = 7
) -> list[str]:
    """Run the rounds and return every problem found (empty: nothing lost, nothing corrupted)."""
    rng = random.Random(seed)
    open_store(database_url).close()
    sessions = [f"crash-{uuid.uuid4().hex[:8]}-{n}" for n in range(3)]
    ledger = Ledger()
    server = start_server(database_url, log_dir=log_dir)
    with httpx.Client(base_url=server.base_url) as client:
        for sid in sessions:
            client.post("/v1/sessions", json={"id": sid}).raise_for_status()
    server.stop()
    problems: list[str] = []
    for number in range(1, rounds + 1):
        _crash_round(database_url, log_dir, sessions, ledger, writers, rng)
        server = start_server(database_url, log_dir=log_dir)
        try:
            found = audit(database_url, server, sessions, ledger)
            _retry_in_doubt(server, ledger)
            found += audit(database_url, server, sessions, ledger)
        finally:
            server.stop()
        problems.extend(f"round {number}: {p}" for p in found)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--writers", type=int, default=6)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        problems = run_rounds(args.database, args.rounds, writers=args.writers, log_dir=Path(tmp))
    for problem in problems:
        print("PROBLEM:", problem)
    print(
        f"{args.rounds} rounds in {time.perf_counter() - started:.0f}s:",
        "no problems" if not problems else f"{len(problems)} problems",
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
