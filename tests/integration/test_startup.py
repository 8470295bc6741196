"""What starting a server does to the process: only `convostore serve` owns it."""

from __future__ import annotations

import asyncio
import gc

from convostore.cli.serve import freeze_start_up
from convostore.config import Settings
from convostore.server import create_app


def test_an_app_leaves_the_garbage_collector_alone(tmp_path: object) -> None:
    """Building and starting an app (a test's, an embedder's) freezes nothing: that is the
    process owner's decision (`convostore serve`)."""
    gc.unfreeze()
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/app.db"))

    async def start_and_stop() -> None:
        async with app.router.lifespan_context(app):
            pass

    asyncio.run(start_and_stop())
    assert gc.get_freeze_count() == 0


def test_serve_freezes_what_start_up_made() -> None:
    gc.unfreeze()
    try:
        freeze_start_up()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
