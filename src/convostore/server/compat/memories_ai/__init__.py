"""The memories.ai compatible API (`/serve/api/...`) and the native import endpoint behind it."""

from convostore.server.compat.memories_ai.envelope import render_error
from convostore.server.compat.memories_ai.import_router import router as import_router
from convostore.server.compat.memories_ai.router import router

__all__ = ["import_router", "render_error", "router"]
