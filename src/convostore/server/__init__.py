"""The HTTP server: `create_app(settings)` builds the ASGI app."""

from convostore.server.app import create_app

__all__ = ["create_app"]
