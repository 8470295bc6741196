"""`create_app(settings)`: the one place a convostore server is assembled.

Nothing connects at import. The store is opened in the lifespan (or passed in, for tests that
share one), the native and compatibility routers are mounted, and every error goes through the
per-surface renderers of `server.errors`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig
from starlette.types import ASGIApp

from convostore.auth import KeyService
from convostore.config import Settings
from convostore.ratelimit import RateLimiter
from convostore.server import native
from convostore.server.authn import AuthenticateFirst
from convostore.server.body_limit import BodyLimitMiddleware
from convostore.server.compat import agno
from convostore.server.compat.memories_ai import import_router as memories_ai_import
from convostore.server.compat.memories_ai import replies as memories_ai_replies
from convostore.server.compat.memories_ai import router as memories_ai_router
from convostore.server.context import AppContext, binds_only_loopback
from convostore.server.database import Database, Workers
from convostore.server.errors import install_error_handlers
from convostore.server.fastpath import LeanDispatch
from convostore.server.middleware import flush_access_log, outer_layers, watch_databases
from convostore.server.routers import add_routes
from convostore.server.web import router as web_router
from convostore.service import SessionService
from convostore.storage import open_configured
from convostore.storage.base import Store
from convostore.version import __version__

DESCRIPTION = """\
convostore keeps AI conversations — messages, reasoning steps, cited evidence with timestamps,
token metrics, summaries and state — and serves them back fast.

* **Native API** under `/v1`: errors are `{"error": {"type", "message", "param"}}`.
* Authenticate with `Authorization: Bearer <key>` (or the raw key). On a database that never
  held a key and a loopback bind, requests addressed to `localhost`, `127.0.0.1` or `[::1]` run
  as the `default` tenant without one.
"""


def build_context(settings: Settings, store: Store | None = None) -> AppContext:
    """Open the configured databases (the main one may be passed in) and what serves them."""
    workers = Workers()
    main = store if store is not None else open_configured(settings, settings.database_url)
    stores: dict[str, Store] = {settings.default_database_id: main}
    for name, url in settings.databases.items():
        if name != settings.default_database_id:
            stores[name] = open_configured(settings, url)
    limits = settings.limits()
    return AppContext(
        settings=settings,
        databases={
            name: Database(opened, workers, read_threads=settings.read_threads)
            for name, opened in stores.items()
        },
        services={name: SessionService(opened, limits) for name, opened in stores.items()},
        keys=KeyService(main),
        workers=workers,
        allow_open=settings.insecure or binds_only_loopback(settings.host),
        open_any_host=settings.insecure,
        rate_limiter=(
            RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
            if settings.rate_limit_per_minute > 0
            else None
        ),
    )


_NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


class ConvostoreApp(FastAPI):
    """FastAPI with convostore's layers (request ids, metrics, headers, CORS) outside its own
    stack and, unless `fast_routes` is off, `fastpath.LeanDispatch` in front of that stack."""

    outer_layers: list[Callable[[ASGIApp], ASGIApp]]
    fast_routes: bool = True

    def build_middleware_stack(self) -> ASGIApp:
        stack: ASGIApp = super().build_middleware_stack()
        if self.fast_routes:
            stack = LeanDispatch(self, stack)
        for wrap in reversed(getattr(self, "outer_layers", [])):
            stack = wrap(stack)
        return stack


def create_app(settings: Settings | None = None, *, store: Store | None = None) -> FastAPI:
    """Build the ASGI app. A `store` passed in is shared, and not closed when the app stops."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx = build_context(settings, store)
        app.state.ctx = ctx
        stop_watching = watch_databases(app, ctx.databases)
        try:
            yield
        finally:
            flush_access_log()
            stop_watching()
            for name, db in ctx.databases.items():
                db.close_loop()  # this loop's connections, a shared store's too
                db.close()
                if db.store is not store or name != settings.default_database_id:
                    db.store.close()
            ctx.workers.close()

    app = ConvostoreApp(
        title="convostore",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        # off, FastAPI's public switch for its telemetry saves a per-request provider check
        telemetry=None if settings.opentelemetry else _NO_TELEMETRY,
    )
    app.fast_routes = settings.fast_routes
    install_error_handlers(app)
    # innermost of the outer layers: after CORS, authentication before anything reads a request
    # body, then the body's limits (in front of LeanDispatch, so GETs with a body get them too)
    app.outer_layers = [
        *outer_layers(app, settings),
        AuthenticateFirst,
        lambda inner: BodyLimitMiddleware(
            inner, max_bytes=settings.max_body_bytes, timeout_s=settings.body_timeout_s
        ),
    ]
    add_routes(app, *native.routers, *agno.routers)
    for prefix in agno.PREFIXES:
        app.state.error_renderers.register(prefix, agno.agno_error)
    add_routes(app, memories_ai_router.router, memories_ai_import.router)
    app.state.error_renderers.register("/serve/api", memories_ai_replies.render_error)
    add_routes(app, web_router)
    return app
