"""Under adversarial reads with a user-scoped key, a real server stays under its memory bound.

One end user's data is filled with the largest content the limits allow, then several clients
holding that user's `read` key ask for the worst answer of every surface (`bench.memory_bound`,
whose `READS` list is where a surface's worst reads go), each answer checked complete. The bound
is the README's: the idle server plus `PER_REQUEST_MIB` for each worst-case request in flight.
(Without page budgets and streamed answers these reads took the same server to ~1.1 GiB.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.memory_bound import READS, Scale, fill, hammer, peak_mib, serve

pytestmark = pytest.mark.slow

# What one worst-case request may add to the server's memory at the default page budget
# (README, Limits): a page of 4 MiB of stored text and JSON plus one item of up to ~9 MB,
# several times over while it is decoded, mapped and written out (measured: up to ~110 MiB, for
# Agno's runs with their messages and tools).
PER_REQUEST_MIB = 150
CLIENTS = 3


def test_peak_memory_under_adversarial_reads(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'memory.db'}"
    filled = fill(url, Scale(messages=24, runs=8, memories=24, sessions=8))
    with serve(url, tmp_path) as server:
        idle = peak_mib(server)
        counts = hammer(server.base_url, filled, clients=CLIENTS, rounds=1)
        peak = peak_mib(server)
    bound = idle + CLIENTS * PER_REQUEST_MIB
    assert peak < bound, f"peak RSS {peak:.0f} MiB, bound {bound:.0f} MiB (idle {idle:.0f} MiB)"
    # every answer complete (walked to its end); a page with 1,000 messages holds one here
    # (each is ~5 MB, over the page budget), and says more follow
    expected = [24, 1, 24, 8, 24, 24, 24, 20, 10, 24, 24 + 8, 24 + 8]
    got = dict(zip((read.name for read in READS), expected, strict=True))
    assert {name: counts[name] for name in got} == got
