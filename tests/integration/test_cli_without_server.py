"""The importers and every CLI command but `serve` run without loading the HTTP server.

Importing and exporting history, managing keys and reading sessions work on the database
directly; they must not depend on FastAPI (the import-linter contracts check the static imports,
this checks what a real run loads, lazy imports and package `__init__`s included). The check runs
in a fresh interpreter, since this test process has long loaded FastAPI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import convostore

SAVED_DETAIL = (
    Path(__file__).parents[1] / "compat/memories_ai/golden/get_session_detail_response.json"
)
RUN_COMMANDS = """
import json, sys

import convostore.importers.agno
import convostore.importers.memories_ai
from convostore.cli.main import cli

for args in json.loads(sys.argv[1]):
    try:
        cli.main(args, prog_name="convostore", standalone_mode=False)
    except SystemExit as stop:
        assert not stop.code, (args, stop.code)
print(json.dumps(sorted(m for m in sys.modules if m.partition(".")[0] in ("fastapi", "starlette"))))
"""


def test_importers_and_non_server_commands_do_not_load_fastapi(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'cli.db'}"
    commands = [
        ["keys", "--help"],
        ["import", "agno", "--help"],
        ["db", "migrate", "--database", database],
        ["demo", "--database", database, "--sessions", "3", "--json"],
        ["import", "memories-ai", str(SAVED_DETAIL), "--database", database, "--json"],
        ["sessions", "list", "--database", database, "--json"],
        ["search", "recipe", "--database", database, "--json"],
        ["keys", "list", "--database", database, "--json"],
        ["export", "jsonl", "--database", database, "--output", str(tmp_path / "out.jsonl")],
    ]
    package_root = str(Path(convostore.__file__).resolve().parents[1])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([package_root, os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-c", RUN_COMMANDS, json.dumps(commands)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded == []
