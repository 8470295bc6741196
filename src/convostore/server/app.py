"""`create_app(settings)`: the one place a convostore server is assembled.

Nothing connects at import. The store is opened in the lifespan (or passed in, for tests that
share one), the native and compatibility routers are mounted, and every error goes through the
per-surface renderers of `server.errors`.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

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
from convostore.server.dispatch import serve_reads, stop_reads
from convostore.server.errors import install_error_handlers
from convostore.server.middleware import flush_access_log, outer_layers, watch_databases
from convostore.server.routing import LeanDispatch, add_routes
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
    main = store if store is not None else open_configured(settings, settings.database_url)
    stores: dict[str, Store] = {settings.default_database_id: main}
    for name, url in settings.databases.items():
        if name != settings.default_database_id:
            stores[name] = open_configured(settings, url)
    for opened in stores.values():
        serve_reads(opened, threads=settings.read_threads)
    return AppContext(
        settings=settings,
        store=main,
        service=SessionService(main, settings.limits()),
        keys=KeyService(main),
        allow_open=settings.insecure or binds_only_loopback(settings.host),
        open_any_host=settings.insecure,
        stores=stores,
        rate_limiter=(
            RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
            if settings.rate_limit_per_minute > 0
            else None
        ),
    )


_frozen = False


def freeze_startup_objects() -> None:
    """Once per process, when the first app starts: collect, then move everything start-up made
    (modules, schemas, routes, the stores) out of the garbage collector's sight (`gc.freeze`).

    A full collection walks every tracked object; with start-up's ~1M objects in view it paused
    the server long enough to show in the tail: PostgreSQL list pages under load had a p99 of
    15-60 ms, 9 ms with start-up frozen (about the same as with the collector off).
    """
    global _frozen
    if not _frozen:
        _frozen = True
        gc.collect()
        gc.freeze()


class ConvostoreApp(FastAPI):
    """FastAPI with convostore's layers (request ids, metrics, headers, CORS) outside its own
    stack, and `LeanDispatch` in front of that stack for the GETs of lean routes."""

    outer_layers: list[Callable[[ASGIApp], ASGIApp]]
    # whether OpenTelemetry providers are configured, as found when the app started (None: not
    # started); FastAPI asks on every request, which cost about 2% of a list page
    otel_configured: bool | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.otel_configured is False and not self.root_path:
            scope["app"] = self
            if self.middleware_stack is None:
                self.middleware_stack = self.build_middleware_stack()
            await self.middleware_stack(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    def build_middleware_stack(self) -> ASGIApp:
        stack: ASGIApp = LeanDispatch(self, super().build_middleware_stack())
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
        freeze_startup_objects()
        stop_watching = watch_databases(app, ctx.stores)
        if isinstance(app, ConvostoreApp):
            app.otel_configured = app._native_telemetry.enabled()
        try:
            yield
        finally:
            flush_access_log()
            stop_watching()
            for name, opened in ctx.stores.items():
                opened.close_loop_reads()  # this loop's connections, shared stores' too
                if opened is not store or name != settings.default_database_id:
                    stop_reads(opened)
                    opened.close()

    app = ConvostoreApp(
        title="convostore",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
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
