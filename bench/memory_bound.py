"""Peak memory of a real server under adversarial reads by one end user's key.

Fills one end user's data with the largest content the default limits allow (`fill`): messages
of a million four-byte characters whose every JSON field is near its 1 MiB limit (~9 MB each),
all in one run and all citing one video; runs whose input, content and extra are as large;
memories as large; sessions whose JSON fields are. Then starts `convostore serve` on it and has
several clients, each holding a `read` key confined to that user, ask for the worst answer of
each surface over and over (`READS`: a message page of 1,000, a session with 1,000 messages, a
run with all its messages, every run, memories.ai's whole session, memory and evidence pages,
session lists, and Agno's unbounded session list, chat history, runs with their messages, a run
alone and run previews). Every answer is checked complete (cursor-paged lists are walked to their
end) and the server's peak resident memory (`VmHWM`) is reported. `tests/e2e/test_memory_bound.py`
runs a small version and holds the peak under the bound the README documents.

    python -m bench.memory_bound --messages 100 --clients 8 --rounds 3

A surface's worst reads are one more entry each in `READS`.
"""

from __future__ import annotations

import argparse
import random
import string
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.server import ServerProcess, memory_kib, start_server
from convostore.auth import KeyService
from convostore.config import Settings
from convostore.models import (
    MemorySource,
    NewMemory,
    NewMessage,
    NewRun,
    NewSession,
    Principal,
)
from convostore.service import SessionService
from convostore.storage import open_store

TENANT = "acme"
USER = "mallory"
SOURCE = "vid-big"
CONTENT_CHARS = 1_000_000  # the default CONVOSTORE_MAX_CONTENT_CHARS
JSON_TEXT = 1_000_000  # characters of text in a JSON field, which must stay under 1 MiB


@dataclass(frozen=True)
class Scale:
    messages: int = 24  # in one session, one run, each ~9 MB of text and JSON
    runs: int = 8  # in another session, each ~3 MB
    memories: int = 24  # each ~3 MB
    sessions: int = 8  # each with ~4 MB of JSON fields


@dataclass
class Filled:
    """What was written, for checking that answers are complete."""

    big: str = "big"  # the session with the large messages, all in run `run`
    run: str = "run-big"
    runs_session: str = "runs"
    messages: int = 0
    message_ids: list[str] = field(default_factory=list)
    run_ids: list[str] = field(default_factory=list)
    memory_ids: list[str] = field(default_factory=list)
    session_ids: list[str] = field(default_factory=list)
    key: str = ""


def _text(size: int, rng: random.Random, alphabet: str = string.ascii_letters + " ") -> str:
    """`size` characters of varied text (not one repeated character: nothing compresses it)."""
    block = "".join(rng.choices(alphabet, k=4096))
    return (block * (size // len(block) + 1))[:size]


# four bytes each in UTF-8, and in memory once a text holds one
WIDE = "".join(chr(c) for c in range(0x1F600, 0x1F650))


def _message(n: int, rng: random.Random) -> NewMessage:
    step = _text(JSON_TEXT // 10, rng)
    item_text = _text(JSON_TEXT // 100, rng)
    # non-additive keys: kept on the message, not summed into the session's totals
    metrics = {f"latency_{k:06d}_ms": k for k in range(JSON_TEXT // 25)}
    return NewMessage.model_validate(
        {
            "id": f"m{n}",
            "role": "assistant",
            "content": _text(CONTENT_CHARS, rng, WIDE),
            "metrics": metrics,
            "thinkings": [{"title": f"step {k}", "content": step} for k in range(10)],
            "refs": [
                {
                    "source": {"kind": "video", "id": SOURCE},
                    "items": [
                        {"kind": "visual_ts", "start": k, "end": k + 1, "text": item_text}
                        for k in range(100)
                    ],
                }
            ],
            "tool_calls": [{"name": f"tool{k}", "arguments": step} for k in range(10)],
            "extra": {"blob": _text(JSON_TEXT, rng)},
        }
    )


def fill(database_url: str, scale: Scale, *, seed: int = 15) -> Filled:
    """Write one end user's maximal data through the service (every limit checked), and make
    a `read` key confined to that user."""
    rng = random.Random(seed)
    store = open_store(database_url)
    try:
        service = SessionService(store, Settings(database_url=database_url).limits())
        writer = Principal(tenant_id=TENANT, role="write", user_id=USER)
        filled = Filled()
        batch = 2  # messages per write (through HTTP each would be a request of its own)
        for start in range(0, scale.messages, batch):
            messages = [_message(n, rng) for n in range(start, min(start + batch, scale.messages))]
            if start == 0:
                run = NewRun(id=filled.run, input="q", messages=messages)
                create = NewSession(title="big")
                service.record_run(writer, filled.big, run, create_if_missing=create)
            else:
                messages = [m.model_copy(update={"run_id": filled.run}) for m in messages]
                service.append_messages(writer, filled.big, messages)
            filled.message_ids += [m.id for m in messages if m.id is not None]
        filled.messages = scale.messages
        blob = {"blob": _text(JSON_TEXT, rng)}
        for n in range(scale.runs):
            run = NewRun(
                id=f"r{n}",
                input=_text(CONTENT_CHARS, rng),
                content=_text(JSON_TEXT, rng),
                extra=blob,
            )
            service.record_run(
                writer, filled.runs_session, run, create_if_missing=NewSession(title="runs")
            )
            filled.run_ids.append(f"r{n}")
        topics = [_text(JSON_TEXT // 100, rng) for _ in range(99)]
        for n in range(scale.memories):
            memory = NewMemory(
                id=f"mem{n}",
                memory=_text(5_000, rng),
                topics=topics,
                source=MemorySource(
                    session_id=filled.big, seqs=list(range(10**6, 10**6 + 110_000))
                ),
                extra=blob,
            )
            filled.memory_ids.append(service.create_memory(writer, memory).id)
        for n in range(scale.sessions):
            session = NewSession(
                id=f"fat{n}", state=blob, metadata=blob, component_data=blob, extra=blob
            )
            filled.session_ids.append(service.create_session(writer, session).id)
        filled.key = KeyService(store).create(TENANT, "read", user_id=USER).key
        return filled
    finally:
        store.close()


# --- the reads --------------------------------------------------------------------------------


def _json(response: httpx.Response) -> Any:
    assert response.status_code == 200, f"{response.request.url}: {response.text[:300]}"
    return orjson.loads(response.content)


def _walk(http: httpx.Client, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every item of a native cursor-paged list."""
    items: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        page = _json(http.get(path, params={**params, **({"after": after} if after else {})}))
        items += page["data"]
        if not page["has_more"]:
            return items
        assert page["data"], f"{path}: an empty page with more to follow"
        after = page["next_cursor"]


def _messages_page(http: httpx.Client, f: Filled) -> int:
    found = _walk(http, f"/v1/sessions/{f.big}/messages", {"limit": 1000})
    assert [m["id"] for m in found] == f.message_ids
    assert all(len(m["content"]) == CONTENT_CHARS for m in found)
    return len(found)


def _session_with_messages(http: httpx.Client, f: Filled) -> int:
    body = _json(http.get(f"/v1/sessions/{f.big}", params={"include_messages": 1000}))
    page = body["messages"]
    ids = [m["id"] for m in page["data"]]
    assert ids == f.message_ids[: len(ids)] and ids and page["has_more"] == (len(ids) < f.messages)
    return len(ids)


def _run_with_messages(http: httpx.Client, f: Filled) -> int:
    body = _json(http.get(f"/v1/sessions/{f.big}/runs/{f.run}"))
    assert [m["id"] for m in body["messages"]] == f.message_ids
    return len(body["messages"])


def _every_run(http: httpx.Client, f: Filled) -> int:
    body = _json(http.get(f"/v1/sessions/{f.runs_session}/runs"))
    assert [r["id"] for r in body["data"]] == f.run_ids
    assert all(len(r["input"]) == CONTENT_CHARS for r in body["data"])
    return len(body["data"])


def _memories_ai_detail(http: httpx.Client, f: Filled) -> int:
    params = {"sessionId": f.big, "unique_id": USER}
    body = _json(http.get("/serve/api/v1/get_session_detail", params=params))
    assert body["code"] == "0000", body["msg"]
    messages = body["data"]["messages"]
    assert len(messages) == f.messages and all(len(m["refs"]) == 1 for m in messages)
    return len(messages)


def _memories(http: httpx.Client, f: Filled) -> int:
    found = _walk(http, "/v1/memories", {"limit": 200, "order": "asc", "user_id": USER})
    assert sorted(m["id"] for m in found) == sorted(f.memory_ids)
    return len(found)


def _evidence(http: httpx.Client, f: Filled) -> int:
    found = _walk(http, "/v1/evidence", {"source_id": SOURCE, "limit": 200})
    assert [h["message_id"] for h in found] == f.message_ids
    return len(found)


def _session_lists(http: httpx.Client, f: Filled) -> int:
    native = _json(http.get("/v1/sessions", params={"limit": 200}))["data"]
    params = {"unique_id": USER}
    listed = _json(http.get("/serve/api/v1/list_sessions", params=params))["data"]["sessions"]
    every = {f.big, f.runs_session, *f.session_ids}
    assert {s["id"] for s in native} == every
    assert {s["sessionId"] for s in listed} <= every and len(listed) == min(20, len(every))
    return len(native) + len(listed)


def _agno_sessions(http: httpx.Client, f: Filled) -> int:
    body = _json(http.get("/sessions", params={"limit": 10_000}))
    every = {f.big, f.runs_session, *f.session_ids}
    assert {s["session_id"] for s in body["data"]} == every
    assert body["meta"]["total_count"] == len(every)
    return len(body["data"])


def _agno_detail(http: httpx.Client, f: Filled) -> int:
    body = _json(http.get(f"/sessions/{f.big}"))
    assert [m["id"] for m in body["chat_history"]] == f.message_ids
    return len(body["chat_history"])


def _agno_runs(http: httpx.Client, f: Filled) -> int:
    (big,) = _json(http.get(f"/sessions/{f.big}/runs"))
    assert [m["id"] for m in big["messages"]] == f.message_ids
    assert len(big["tools"]) == 10 * f.messages  # every message's tool calls
    runs = _json(http.get(f"/sessions/{f.runs_session}/runs"))
    assert [r["run_id"] for r in runs] == f.run_ids
    assert all(len(r["run_input"]) == CONTENT_CHARS for r in runs)
    return len(big["messages"]) + len(runs)


def _agno_run(http: httpx.Client, f: Filled) -> int:
    body = _json(http.get(f"/sessions/{f.big}/runs/{f.run}"))
    assert [m["id"] for m in body["messages"]] == f.message_ids
    previews = _json(http.get(f"/sessions/{f.runs_session}/run-previews"))
    assert [p["run_id"] for p in previews] == f.run_ids
    return len(body["messages"]) + len(previews)


@dataclass(frozen=True)
class Read:
    """One worst-case read: it asks, checks the answer is complete, and counts what it got."""

    name: str
    surface: str
    run: Callable[[httpx.Client, Filled], int]


READS: list[Read] = [
    Read("messages, limit=1000 (walked)", "native", _messages_page),
    Read("session, include_messages=1000", "native", _session_with_messages),
    Read("run with all its messages", "native", _run_with_messages),
    Read("every run of a session", "native", _every_run),
    Read("get_session_detail (whole session)", "memories.ai", _memories_ai_detail),
    Read("memories, limit=200 (walked)", "native", _memories),
    Read("evidence, limit=200 (walked)", "native", _evidence),
    Read("session lists", "native + memories.ai", _session_lists),
    Read("sessions, limit=10000", "Agno", _agno_sessions),
    Read("session with its chat_history", "Agno", _agno_detail),
    Read("every run, with messages and tools", "Agno", _agno_runs),
    Read("a run alone, run previews", "Agno", _agno_run),
]


# --- the server and the hammering -------------------------------------------------------------


def peak_mib(server: ServerProcess) -> float:
    """The server's peak resident memory so far (`VmHWM`), in MiB."""
    return memory_kib(server.process.pid)["VmHWM"] / 1024


@contextmanager
def serve(database_url: str, log_dir: Path) -> Iterator[ServerProcess]:
    """`convostore serve` on `database_url` (a free loopback port), no access log; stopped on
    exit."""
    server = start_server(
        database_url, log_dir=log_dir, env={"CONVOSTORE_ACCESS_LOG": "false"}, cli=True
    )
    try:
        yield server
    finally:
        server.stop()


def hammer(
    base_url: str, filled: Filled, *, clients: int, rounds: int, reads: list[Read] | None = None
) -> dict[str, int]:
    """Each client runs every read `rounds` times (each client in its own order); returns the
    items each read got (the same every time, or an assertion fails)."""
    chosen = reads if reads is not None else READS
    counts: dict[str, int] = {}
    headers = {"Authorization": f"Bearer {filled.key}"}

    def client(index: int) -> None:
        order = chosen[index % len(chosen) :] + chosen[: index % len(chosen)]
        with httpx.Client(base_url=base_url, headers=headers, timeout=300) as http:
            for _ in range(rounds):
                for read in order:
                    got = read.run(http, filled)
                    assert counts.setdefault(read.name, got) == got, read.name

    with ThreadPoolExecutor(max_workers=clients) as pool:
        for done in [pool.submit(client, i) for i in range(clients)]:
            done.result()
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory_bound", description=__doc__)
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--memories", type=int, default=100)
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", default=None, help="default: SQLite in a temp dir")
    args = parser.parse_args(argv)
    scale = Scale(args.messages, args.runs, args.memories, args.sessions)
    with tempfile.TemporaryDirectory(prefix="convostore-memory-") as tmp:
        url = args.database or f"sqlite:///{Path(tmp) / 'memory.db'}"
        started = time.monotonic()
        filled = fill(url, scale)
        print(f"filled {scale} in {time.monotonic() - started:.0f} s", flush=True)
        with serve(url, Path(tmp)) as served:
            idle = peak_mib(served)
            started = time.monotonic()
            counts = hammer(served.base_url, filled, clients=args.clients, rounds=args.rounds)
            took = time.monotonic() - started
            print(f"peak RSS {peak_mib(served):.0f} MiB (idle {idle:.0f} MiB) in {took:.0f} s")
        for name, count in counts.items():
            print(f"  {name:40s} {count} items, complete")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
