"""The native `/v1` API: one router per resource, mounted in this order."""

from convostore.server.native import admin, evidence, memories, messages, sessions

routers = (
    admin.router,
    sessions.router,
    messages.router,
    memories.router,
    evidence.router,
)

__all__ = ["routers"]
