"""The native `/v1` API: one router per resource, mounted in the order of `routers`.

The routers are imported on first use of `routers`, not with this package, so the pure modules
beside them (`schemas`: the wire shapes, which the CLI's export writes too) import no FastAPI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import APIRouter

    routers: tuple[APIRouter, ...]

__all__ = ["routers"]


def __getattr__(name: str) -> object:
    if name == "routers":
        from convostore.server.native import admin, evidence, memories, messages, search, sessions

        return (
            admin.router,
            sessions.router,
            messages.router,
            memories.router,
            evidence.router,
            search.router,
        )
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
