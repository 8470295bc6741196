"""A server that cannot import greenlet (an install without the `postgres` extra's full set) still
serves PostgreSQL: its reads run on read threads, with one warning at start-up, instead of every
read answering 500."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from bench.server import start_server

pytestmark = pytest.mark.slow

WARNING = "greenlet is not installed"


def without_greenlet(tmp_path: Path) -> dict[str, str]:
    """Environment for a child process in which `import greenlet` fails, as if not installed."""
    blocker = tmp_path / "no_greenlet"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text("import sys\nsys.modules['greenlet'] = None\n")
    path = os.pathsep.join(p for p in (str(blocker), os.environ.get("PYTHONPATH")) if p)
    return {"PYTHONPATH": path, "CONVOSTORE_CONNECT_RETRIES": "0"}


def test_postgres_reads_answer_on_threads_without_greenlet(
    postgres_url: str, tmp_path: Path
) -> None:
    server = start_server(postgres_url, log_dir=tmp_path, env=without_greenlet(tmp_path))
    try:
        with httpx.Client(base_url=server.base_url, timeout=10.0) as http:
            created = http.post("/v1/sessions", json={"user_id": "no-greenlet"})
            assert created.status_code == 201, created.text
            session_id = created.json()["id"]
            appended = http.post(
                f"/v1/sessions/{session_id}/messages",
                json={"messages": [{"role": "user", "content": "Still there?"}]},
            )
            assert appended.status_code == 201, appended.text

            listed = http.get("/v1/sessions", params={"user_id": "no-greenlet"})
            assert listed.status_code == 200, listed.text
            assert [s["id"] for s in listed.json()["data"]] == [session_id]
            detail = http.get(f"/v1/sessions/{session_id}", params={"include_messages": 5})
            assert detail.status_code == 200, detail.text
            assert detail.json()["messages"]["data"][0]["content"] == "Still there?"
            agno = http.get("/sessions", params={"type": "agent", "user_id": "no-greenlet"})
            assert agno.status_code == 200, agno.text
            assert [s["session_id"] for s in agno.json()["data"]] == [session_id]
            memories_ai = http.get(
                "/serve/api/v1/list_sessions", params={"page": 1, "unique_id": "no-greenlet"}
            )
            assert memories_ai.json()["code"] == "0000", memories_ai.text
    finally:
        server.stop()
    log = server.log()
    assert log.count(WARNING) == 1, log
    assert "Traceback" not in log, log
