"""The web UI: static pages served at `/ui` that read conversations through the public `/v1` API."""

from convostore.server.web.routes import router

__all__ = ["router"]
