"""`add_routes`: a router's routes on the app itself, flat.

FastAPI keeps an included router nested, and every request walks each nesting level on its way
to a route; convostore's routers are flat lists, so their routes are appended to the app's own
list instead, in the same order.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Route


def add_routes(app: FastAPI, *routers: APIRouter) -> None:
    """Append the routers' routes to the app's own list (the routers must not nest others)."""
    for router in routers:
        for route in router.routes:
            if not isinstance(route, APIRoute | Route):
                raise TypeError(f"add_routes takes routers without nested routers, got {route!r}")
            app.router.routes.append(route)
