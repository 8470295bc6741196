"""SIGKILL the server under concurrent appends, restart it, and lose or duplicate nothing.

The suite runs two rounds per backend; `python -m bench.crash_rounds` runs twenty.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.crash_rounds import run_rounds

pytestmark = pytest.mark.slow


def test_acknowledged_appends_survive_sigkill(database_url: str, tmp_path: Path) -> None:
    assert run_rounds(database_url, 2, writers=4, log_dir=tmp_path) == []
