"""Two server processes on one database, eight concurrent writers each, appending to four shared
sessions: every acknowledged message is stored exactly once, `seq` is dense, roll-ups are exact.

The suite runs a short version; `python -m bench.concurrent_appends` runs the full acceptance
(500 messages per writer). `CONVOSTORE_TEST_APPENDS_PER_WRITER` sets the count here.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.concurrent_appends import audit, run
from bench.server import running_servers
from convostore.storage import open_store

pytestmark = pytest.mark.slow


def test_two_processes_sixteen_writers_lose_and_duplicate_nothing(
    database_url: str, tmp_path: Path
) -> None:
    open_store(database_url).close()  # migrated before the processes start
    per_writer = int(os.environ.get("CONVOSTORE_TEST_APPENDS_PER_WRITER", "40"))
    with running_servers(database_url, 2, log_dir=tmp_path) as servers:
        sent, session_ids, _ = run(servers, writers_per_process=8, messages=per_writer, sessions=4)
        problems = audit(servers[1].base_url, sent, session_ids)
    assert problems == []
    assert sum(len(v) for v in sent.contents.values()) == 16 * per_writer
