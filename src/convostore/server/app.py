"""`create_app(settings)`: the one place a convostore server is assembled.

Nothing connects at import. The store is opened in the lifespan (or passed in, for tests that
share one), the native and compatibility routers are mounted, and every error goes through the
per-surface renderers of `server.errors`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from convostore import __version__
from convostore.auth import KeyService
from convostore.config import Settings
from convostore.server.body_limit import BodyLimitMiddleware
from convostore.server.compat import agno
from convostore.server.compat.memories_ai import envelope as memories_ai_envelope
from convostore.server.compat.memories_ai import import_router as memories_ai_import
from convostore.server.compat.memories_ai import router as memories_ai_router
from convostore.server.context import AppContext, is_loopback
from convostore.server.errors import install_error_handlers
from convostore.server.native import router as native_router
from convostore.server.web import router as web_router
from convostore.service import SessionService
from convostore.storage import open_store
from convostore.storage.base import Store

DESCRIPTION = """\
convostore keeps AI conversations — messages, reasoning steps, cited evidence with timestamps,
token metrics, summaries and state — and serves them back fast.

* **Native API** under `/v1`: errors are `{"error": {"type", "message", "param"}}`.
* Authenticate with `Authorization: Bearer <key>` (or the raw key). With no key configured and
  a loopback bind, requests run as the `default` tenant.
"""


def _open(settings: Settings, url: str) -> Store:
    return open_store(
        url,
        pool_size=settings.pool_size,
        statement_timeout_ms=settings.statement_timeout_ms,
        sqlite_synchronous=settings.sqlite_synchronous,
        migrate=settings.migrate_on_start,
        connect_retries=settings.connect_retries,
        connect_retry_interval_s=settings.connect_retry_interval_s,
    )


def build_context(settings: Settings, store: Store | None = None) -> AppContext:
    main = store if store is not None else _open(settings, settings.database_url)
    stores: dict[str, Store] = {settings.default_database_id: main}
    for name, url in settings.databases.items():
        if name != settings.default_database_id:
            stores[name] = _open(settings, url)
    return AppContext(
        settings=settings,
        store=main,
        service=SessionService(main, settings.limits()),
        keys=KeyService(main),
        allow_open=is_loopback(settings.host) or settings.insecure,
        stores=stores,
    )


def create_app(settings: Settings | None = None, *, store: Store | None = None) -> FastAPI:
    """Build the ASGI app. A `store` passed in is shared, and not closed when the app stops."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx = build_context(settings, store)
        app.state.ctx = ctx
        try:
            yield
        finally:
            for name, opened in ctx.stores.items():
                if opened is not store or name != settings.default_database_id:
                    opened.close()

    app = FastAPI(
        title="convostore",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.include_router(native_router)
    app.include_router(agno.router)
    for prefix in agno.PREFIXES:
        app.state.error_renderers.register(prefix, agno.agno_error)
    app.include_router(memories_ai_router.router)
    app.include_router(memories_ai_import.router)
    app.state.error_renderers.register("/serve/api", memories_ai_envelope.render_error)
    app.include_router(web_router)
    return app
