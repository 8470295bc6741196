"""Concurrent appends from several server processes to a few shared sessions, then an exact audit.

Each writer thread appends single messages (each with a random token count and an idempotency key,
so a retried request cannot duplicate) round-robin over the shared sessions through its own server
process. Afterwards every session must hold exactly the acknowledged messages, once each, with
`seq` running 1..N without gaps, and its message count and token sum must equal what was sent.

    python -m bench.concurrent_appends --database postgresql+psycopg://postgres@127.0.0.1/test \
        --processes 2 --writers-per-process 8 --messages 500 --sessions 4
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.server import ServerProcess, all_messages, running_servers


@dataclass
class Sent:
    """What the writers had acknowledged, per session."""

    contents: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    tokens: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lock: threading.Lock = field(default_factory=threading.Lock)
    errors: list[str] = field(default_factory=list)


def _writer(base_url: str, sessions: list[str], count: int, name: str, sent: Sent) -> None:
    rng = random.Random(name)
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        for i in range(count):
            session_id = sessions[i % len(sessions)]
            tokens = rng.randint(1, 500)
            content = f"{name}:{i}"
            body = {
                "messages": [
                    {"role": "user", "content": content, "metrics": {"total_tokens": tokens}}
                ]
            }
            headers = {"Idempotency-Key": f"{name}-{i}-{uuid.uuid4().hex[:8]}"}
            for attempt in range(5):
                try:
                    response = client.post(
                        f"/v1/sessions/{session_id}/messages", json=body, headers=headers
                    )
                except httpx.TransportError as exc:  # retry: the idempotency key makes it safe
                    if attempt == 4:
                        with sent.lock:
                            sent.errors.append(f"{content}: {exc!r}")
                    continue
                if response.status_code == 201:
                    with sent.lock:
                        sent.contents[session_id].append(content)
                        sent.tokens[session_id] += tokens
                else:
                    with sent.lock:
                        sent.errors.append(f"{content}: {response.status_code} {response.text}")
                break


def run(
    servers: list[ServerProcess], *, writers_per_process: int, messages: int, sessions: int
) -> tuple[Sent, list[str], float]:
    """Drive the writers; returns what was sent, the session ids and the elapsed seconds."""
    session_ids = [f"shared-{uuid.uuid4().hex[:10]}-{n}" for n in range(sessions)]
    with httpx.Client(base_url=servers[0].base_url) as client:
        for sid in session_ids:
            client.post("/v1/sessions", json={"id": sid}).raise_for_status()
    sent = Sent()
    threads = [
        threading.Thread(
            target=_writer,
            args=(server.base_url, session_ids, messages, f"p{p}w{w}", sent),
        )
        for p, server in enumerate(servers)
        for w in range(writers_per_process)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sent, session_ids, time.perf_counter() - started


def audit(base_url: str, sent: Sent, session_ids: list[str]) -> list[str]:
    """Every way the stored sessions differ from what was acknowledged; empty means exact."""
    problems = list(sent.errors)
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        for sid in session_ids:
            stored = all_messages(client, sid)
            seqs = [m["seq"] for m in stored]
            if seqs != list(range(1, len(stored) + 1)):
                problems.append(f"{sid}: seq is not 1..N without gaps")
            contents = [str(m["content"]) for m in stored]
            if sorted(contents) != sorted(sent.contents[sid]):
                problems.append(
                    f"{sid}: stored {len(contents)} messages, acknowledged "
                    f"{len(sent.contents[sid])} (or the contents differ)"
                )
            session = client.get(f"/v1/sessions/{sid}").json()
            if session["message_count"] != len(sent.contents[sid]):
                problems.append(f"{sid}: message_count {session['message_count']} is wrong")
            if session["metrics"].get("total_tokens", 0) != sent.tokens[sid]:
                problems.append(
                    f"{sid}: total_tokens {session['metrics'].get('total_tokens')} "
                    f"!= {sent.tokens[sid]} sent"
                )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True, help="database URL (already reachable)")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--writers-per-process", type=int, default=8)
    parser.add_argument("--messages", type=int, default=500, help="messages per writer")
    parser.add_argument("--sessions", type=int, default=4)
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_servers(args.database, args.processes, log_dir=Path(tmp)) as servers,
    ):
        sent, session_ids, elapsed = run(
            servers,
            writers_per_process=args.writers_per_process,
            messages=args.messages,
            sessions=args.sessions,
        )
        problems = audit(servers[0].base_url, sent, session_ids)
    total = sum(len(v) for v in sent.contents.values())
    print(f"{total} messages acknowledged in {elapsed:.1f}s ({total / elapsed:.0f}/s)")
    for problem in problems:
        print("PROBLEM:", problem)
    print("exact" if not problems else f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
