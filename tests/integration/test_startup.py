"""What an app does once per process when it starts."""

from __future__ import annotations

import gc

from fastapi.testclient import TestClient

from convostore.server.app import freeze_startup_objects


def test_start_up_objects_are_frozen_out_of_the_collectors_sight(client: TestClient) -> None:
    """The first app to start froze what start-up made; later ones leave the collector alone."""
    frozen = gc.get_freeze_count()
    assert frozen > 0
    assert client.get("/v1/health").status_code == 200
    freeze_startup_objects()  # once per process: nothing more is frozen
    assert gc.get_freeze_count() <= frozen  # frozen objects that die leave the count
