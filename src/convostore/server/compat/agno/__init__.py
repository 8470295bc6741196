"""Agno AgentOS compatibility: root-mounted `/sessions`, `/memories`, `/health`, `/config`,
`/agents`, `/teams` and `/workflows`, so Agno's own clients work against convostore by changing
the base URL.

Each module is a thin router over `SessionService`; the pure mapping between convostore's values
and Agno's JSON lives in `convostore.compat.agno`. Errors are `{"detail": ...}` (see `errors`).
"""

from convostore.server.compat.agno import memories, meta, runs, sessions
from convostore.server.compat.agno.errors import agno_error

# Path prefixes whose errors are rendered the AgentOS way.
PREFIXES = (
    "/sessions",
    "/memories",
    "/memory_topics",
    "/user_memory_stats",
    "/health",
    "/config",
    "/agents",
    "/teams",
    "/workflows",
)

routers = (
    sessions.router,
    runs.router,
    memories.router,
    meta.router,
)

__all__ = ["PREFIXES", "agno_error", "routers"]
