"""The protective and observing layers around every surface, all pure ASGI.

From the outside in: request id and access log, metrics, security headers, CORS (only when
origins are configured), then the app's body-size limit and routes. The outer layers see every
answer — including refusals by the inner ones — so each gets an id, a log line, a count and the
hardening headers. Rate limits are not a layer here: they need the authenticated caller, so the
surfaces apply them right after authentication (`AppContext.admit`).
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from convostore.config import Settings
from convostore.server.middleware.metrics import (
    Metrics,
    MetricsMiddleware,
    watch_database_errors,
)
from convostore.server.middleware.metrics import router as metrics_router
from convostore.server.middleware.request_id import (
    RequestIdMiddleware,
    RequestInfo,
    configure_access_log,
    current_request,
)
from convostore.server.middleware.security_headers import SecurityHeadersMiddleware
from convostore.server.routing import add_routes
from convostore.storage.base import Store

__all__ = [
    "Metrics",
    "RequestInfo",
    "current_request",
    "install_middleware",
    "watch_databases",
]

CORS_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
CORS_REQUEST_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"]
CORS_EXPOSED_HEADERS = ["X-Request-ID", "Retry-After", "Idempotent-Replayed"]


def install_middleware(app: FastAPI, settings: Settings) -> None:
    """Wrap the app in its layers; call after the app's own middleware so these sit outside it."""
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=CORS_METHODS,
            allow_headers=CORS_REQUEST_HEADERS,
            expose_headers=CORS_EXPOSED_HEADERS,
            allow_credentials=False,  # keys travel in Authorization, never in cookies
            max_age=600,
        )
    app.add_middleware(SecurityHeadersMiddleware)
    if settings.metrics_enabled:
        metrics = app.state.metrics = Metrics()
        app.add_middleware(MetricsMiddleware, metrics=metrics)
        add_routes(app, metrics_router)
    if settings.access_log:
        configure_access_log()
    app.add_middleware(RequestIdMiddleware, log=settings.access_log, log_format=settings.log_format)


def watch_databases(app: FastAPI, stores: dict[str, Store]) -> Callable[[], None]:
    """Count the stores' database errors in the app's metrics; returns how to stop."""
    metrics: Metrics | None = getattr(app.state, "metrics", None)
    if metrics is None:
        return lambda: None
    return watch_database_errors(metrics, stores)
