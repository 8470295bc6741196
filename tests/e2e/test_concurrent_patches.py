"""Concurrent PATCHes of different fields, from two server processes, interleaved with appends:
no field is lost, and the session's derived fields stay exact."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest

from bench.server import running_servers
from convostore.storage import open_store

pytestmark = pytest.mark.slow

ROUNDS = 25


def _patch_field(base_url: str, field: str, errors: list[str]) -> None:
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        for i in range(1, ROUNDS + 1):
            value: object = {"n": i} if field in ("state", "metadata") else f"{field} {i}"
            if field == "summary":
                value = {"text": f"summary {i}", "topics": [str(i)]}
            response = client.patch("/v1/sessions/shared", json={field: value})
            if response.status_code != 200:
                errors.append(f"{field} {i}: {response.status_code} {response.text}")


def _append(base_url: str, errors: list[str]) -> None:
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        for i in range(ROUNDS):
            body = {
                "messages": [
                    {"role": "assistant", "content": str(i), "metrics": {"total_tokens": 2}}
                ]
            }
            response = client.post("/v1/sessions/shared/messages", json=body)
            if response.status_code != 201:
                errors.append(f"append {i}: {response.status_code}")


def test_concurrent_patches_never_lose_a_field(database_url: str, tmp_path: Path) -> None:
    open_store(database_url).close()
    errors: list[str] = []
    with running_servers(database_url, 2, log_dir=tmp_path) as (one, two):
        httpx.post(f"{one.base_url}/v1/sessions", json={"id": "shared"}).raise_for_status()
        threads = [
            threading.Thread(target=_patch_field, args=(one.base_url, "title", errors)),
            threading.Thread(target=_patch_field, args=(two.base_url, "state", errors)),
            threading.Thread(target=_patch_field, args=(one.base_url, "metadata", errors)),
            threading.Thread(target=_patch_field, args=(two.base_url, "summary", errors)),
            threading.Thread(target=_append, args=(one.base_url, errors)),
            threading.Thread(target=_append, args=(two.base_url, errors)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        session = httpx.get(f"{two.base_url}/v1/sessions/shared").json()
    assert errors == []
    assert session["title"] == f"title {ROUNDS}"
    assert session["state"] == {"n": ROUNDS}
    assert session["metadata"] == {"n": ROUNDS}
    assert session["summary"]["text"] == f"summary {ROUNDS}"
    assert session["message_count"] == 2 * ROUNDS
    assert session["metrics"] == {"total_tokens": 4 * ROUNDS}
