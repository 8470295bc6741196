"""The fast path: requests reach handlers without FastAPI's per-request machinery.

`LeanRoute` binds a route's arguments by a plan worked out once (routes.py); `LeanDispatch`
serves GETs on such routes in front of FastAPI's middleware stack (dispatch.py). Both answer
exactly as FastAPI would, and fall back to FastAPI for anything they do not know. The switch is
the `fast_routes` setting (`CONVOSTORE_FAST_ROUTES=0` turns it off: FastAPI serves every
request); the suite runs with it on and off. Everything here relies on FastAPI's description of
a route (its `Dependant`), not on its private modules; docs/performance.md says what it gains
and how to remove it.
"""

from convostore.server.fastpath.dispatch import LeanDispatch
from convostore.server.fastpath.routes import LeanRoute

__all__ = ["LeanDispatch", "LeanRoute"]
