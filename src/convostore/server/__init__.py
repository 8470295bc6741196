"""The HTTP server: `create_app(settings)` builds the ASGI app.

The app module is imported on first use, not with this package, so the pure modules that live
under `server/` (`json_wire`, `native.schemas`, which the CLI's export uses too) can be imported
without pulling in every router.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from convostore.server.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> object:
    if name == "create_app":
        from convostore.server.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
