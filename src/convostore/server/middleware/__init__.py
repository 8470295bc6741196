"""The protective and observing layers around every surface, all pure ASGI.

From the outside in: request id and access log, metrics, security headers, CORS (off only when
no origin is allowed), then the app's body-size limit and routes. The outer layers see every
answer — including refusals by the inner ones — so each gets an id, a log line, a count and the
hardening headers. Rate limits are not a layer here: they need the authenticated caller, so the
surfaces apply them right after authentication (`AppContext.admit`).
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from starlette.types import ASGIApp

from convostore.config import Settings
from convostore.server.database import Database
from convostore.server.middleware.access_log import configure_access_log, flush_access_log
from convostore.server.middleware.cors import SurfaceCORS
from convostore.server.middleware.metrics import (
    Metrics,
    MetricsMiddleware,
    watch_database_errors,
)
from convostore.server.middleware.metrics import router as metrics_router
from convostore.server.middleware.request_id import (
    RequestIdMiddleware,
    RequestInfo,
    current_request,
)
from convostore.server.middleware.security_headers import SecurityHeadersMiddleware
from convostore.server.routers import add_routes

__all__ = [
    "Metrics",
    "RequestInfo",
    "current_request",
    "flush_access_log",
    "outer_layers",
    "watch_databases",
]


def outer_layers(app: FastAPI, settings: Settings) -> list[Callable[[ASGIApp], ASGIApp]]:
    """The layers that wrap the whole app, outermost first (the app puts them outside FastAPI's
    own stack, so they also see what FastAPI answers by itself)."""
    layers: list[Callable[[ASGIApp], ASGIApp]] = []
    if settings.access_log:
        configure_access_log()
    layers.append(
        lambda inner: RequestIdMiddleware(
            inner, log=settings.access_log, log_format=settings.log_format
        )
    )
    if settings.metrics_enabled:
        metrics = app.state.metrics = Metrics()
        layers.append(lambda inner: MetricsMiddleware(inner, metrics=metrics))
        add_routes(app, metrics_router)
    layers.append(SecurityHeadersMiddleware)
    if settings.cors_origins:
        origins = settings.cors_origins
        layers.append(lambda inner: SurfaceCORS(inner, owner=app, origins=origins))
    return layers


def watch_databases(app: FastAPI, databases: dict[str, Database]) -> Callable[[], None]:
    """Count the databases' errors in the app's metrics; returns how to stop."""
    metrics: Metrics | None = getattr(app.state, "metrics", None)
    if metrics is None:
        return lambda: None
    return watch_database_errors(metrics, {name: db.store for name, db in databases.items()})
