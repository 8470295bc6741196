"""Acceptance: the request examples printed in memories.ai's docs, run against a real convostore
server process with only the host, key and placeholders changed.

History is moved over with `convostore import memories-ai` first, as a team switching would do.
When `requests` is not installed the snippets run on httpx, whose `get` takes the same arguments.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest

from bench.server import start_server
from convostore.auth import KeyService
from convostore.storage import open_store

pytestmark = pytest.mark.slow

GOLDEN = Path(__file__).parents[1] / "compat" / "memories_ai" / "golden"
SESSION_ID = "590197794380320770"
UNIQUE_ID = "traveller"

# The "Request Example" of the List Sessions page, verbatim.
LIST_EXAMPLE = """\
import requests
headers = {"Authorization": "<API_KEY>"}

params = {
    "page": 1,
    "unique_id": "<UNIQUE_ID>"
}

response = requests.get("https://api.memories.ai/serve/api/v1/list_sessions", headers=headers, params=params)
print(response.json())
"""  # noqa: E501

# The "Request Example" of the Get Session Detail page, verbatim.
DETAIL_EXAMPLE = """\
import requests

url = "https://api.memories.ai/serve/api/v1/get_session_detail"
headers = {"Authorization": "<API_KEY>"}
params = {"sessionId": "<SESSION_ID>", "unique_id": "<UNIQUE_ID>"}

response = requests.get(url, headers=headers, params=params)

if response.status_code == 200:
    print("Session detail retrieved successfully:")
    print(response.json())
else:
    print("Failed to retrieve session detail:", response.status_code)
    print(response.text)
"""


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A real server process on `database_url`; yields its base URL."""
    process = start_server(database_url, log_dir=tmp_path)
    try:
        yield process.base_url
    finally:
        process.stop()


@pytest.fixture
def api_key(database_url: str, tmp_path: Path) -> str:
    """A key, and the doc's session imported with the CLI under UNIQUE_ID."""
    store = open_store(database_url)
    try:
        key = KeyService(store).create("default", "read").key
    finally:
        store.close()
    saved = tmp_path / "saved.json"
    saved.write_text((GOLDEN / "get_session_detail_response.json").read_text())
    command = "from convostore.cli.main import main; main()"
    imported = subprocess.run(
        [
            *(sys.executable, "-c", command, "import", "memories-ai", str(saved)),
            *("--unique-id", UNIQUE_ID, "--database", database_url),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
    )
    assert imported.returncode == 0, imported.stderr
    assert "imported 1 of 1 sessions" in imported.stdout
    return key


def _run_example(source: str, base: str, key: str, tmp_path: Path) -> str:
    script = (
        source.replace("https://api.memories.ai", base)
        .replace("<API_KEY>", key)
        .replace("<UNIQUE_ID>", UNIQUE_ID)
        .replace("<SESSION_ID>", SESSION_ID)
    )
    if find_spec("requests") is None:
        script = script.replace("import requests", "import httpx as requests", 1)
    path = tmp_path / "example.py"
    path.write_text(script)
    done = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_get_session_detail_example(server: str, api_key: str, tmp_path: Path) -> None:
    out = _run_example(DETAIL_EXAMPLE, server, api_key, tmp_path).splitlines()
    assert out[0] == "Session detail retrieved successfully:"
    printed: dict[str, Any] = ast.literal_eval(out[1])
    assert printed == json.loads((GOLDEN / "get_session_detail_response.json").read_text())


def test_list_sessions_example(server: str, api_key: str, tmp_path: Path) -> None:
    printed: dict[str, Any] = ast.literal_eval(
        _run_example(LIST_EXAMPLE, server, api_key, tmp_path)
    )
    assert printed["code"] == "0000" and printed["msg"] == "success"
    assert printed["success"] is True and printed["failed"] is False
    data = printed["data"]
    assert data == {
        "sessions": [{"sessionId": SESSION_ID, "title": "tell me where to travel in mid june?"}],
        "current_page": 1,
        "page_size": 20,
        "total_count": "1",
    }
    assert isinstance(data["sessions"][0]["sessionId"], str)


def test_examples_with_a_wrong_key_print_the_error_envelope(server: str, tmp_path: Path) -> None:
    out = _run_example(DETAIL_EXAMPLE, server, "sk-wrong", tmp_path).splitlines()
    assert out[0] == "Session detail retrieved successfully:"  # memories.ai answers errors with 200
    printed = ast.literal_eval(out[1])
    assert (printed["code"], printed["data"], printed["failed"]) == ("0401", None, True)
