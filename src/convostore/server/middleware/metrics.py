"""Prometheus metrics, kept in plain dicts and written out in the text exposition format.

Requests are counted by method, route *template* (`/v1/sessions/{session_id}`, never the raw
path, so ids cannot explode the number of series) and status; their latency goes into a histogram
by method and route. Requests no route matched share the route label `unmatched`, and methods
outside the standard set share `other`. Database errors are counted from the engines' own error
events, by database and error class. Tenants are never a label: `/metrics` shows traffic, not who
made it.

Request counters are touched only on the event loop, so they need no lock; database errors are
reported from worker threads and take one. `/metrics` is open like `/health`, unless a
`metrics_token` is configured, in which case it needs `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import hmac
import threading
import time
from bisect import bisect_left
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from convostore.auth import key_from_header
from convostore.errors import Unauthenticated
from convostore.server.fastpath import LeanRoute
from convostore.storage.base import Store
from convostore.version import __version__

__all__ = ["LATENCY_BUCKETS", "Metrics", "MetricsMiddleware", "router", "watch_database_errors"]

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
UNMATCHED = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class Metrics:
    """The process's counters and histograms, and their rendering as Prometheus text."""

    def __init__(self, buckets: tuple[float, ...] = LATENCY_BUCKETS) -> None:
        self.buckets = buckets
        self.requests: dict[tuple[str, str, int], int] = {}
        self.latency: dict[tuple[str, str], _Histogram] = {}
        self.database_errors: dict[tuple[str, str], int] = {}
        self._db_lock = threading.Lock()

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        self.requests[key] = self.requests.get(key, 0) + 1
        series = self.latency.get((method, route))
        if series is None:
            series = self.latency[(method, route)] = _Histogram(len(self.buckets))
        series.counts[bisect_left(self.buckets, seconds)] += 1
        series.sum += seconds

    def database_error(self, database: str, error: str) -> None:
        with self._db_lock:
            key = (database, error)
            self.database_errors[key] = self.database_errors.get(key, 0) + 1

    def render(self) -> str:
        lines = [
            "# HELP convostore_build_info The running convostore version.",
            "# TYPE convostore_build_info gauge",
            f'convostore_build_info{{version="{_label(__version__)}"}} 1',
            "# HELP convostore_http_requests_total HTTP requests answered, by route template.",
            "# TYPE convostore_http_requests_total counter",
        ]
        for (method, route, status), count in sorted(self.requests.items()):
            labels = f'method="{method}",route="{_label(route)}",status="{status}"'
            lines.append(f"convostore_http_requests_total{{{labels}}} {count}")
        name = "convostore_http_request_duration_seconds"
        lines.append(f"# HELP {name} Time to answer an HTTP request, by route template.")
        lines.append(f"# TYPE {name} histogram")
        for (method, route), series in sorted(self.latency.items(), key=lambda item: item[0]):
            labels = f'method="{method}",route="{_label(route)}"'
            total = 0
            for bound, count in zip(self.buckets, series.counts, strict=False):
                total += count
                lines.append(f'{name}_bucket{{{labels},le="{bound}"}} {total}')
            total += series.counts[-1]
            lines.append(f'{name}_bucket{{{labels},le="+Inf"}} {total}')
            lines.append(f"{name}_sum{{{labels}}} {series.sum!r}")
            lines.append(f"{name}_count{{{labels}}} {total}")
        name = "convostore_database_errors_total"
        lines.append(f"# HELP {name} Errors raised by the database driver, by error class.")
        lines.append(f"# TYPE {name} counter")
        with self._db_lock:
            errors = sorted(self.database_errors.items())
        for (database, error), count in errors:
            labels = f'database="{_label(database)}",error="{_label(error)}"'
            lines.append(f"{name}{{{labels}}} {count}")
        lines.append("")
        return "\n".join(lines)


class _Histogram:
    """Counts per latency bucket (the last one: above every bound) and their total in seconds."""

    __slots__ = ("counts", "sum")

    def __init__(self, buckets: int) -> None:
        self.counts = [0] * (buckets + 1)
        self.sum = 0.0


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class MetricsMiddleware:
    """Pure ASGI: times each request and files it under its route template once it is answered."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_and_note)
        finally:
            elapsed = time.perf_counter() - started
            method = scope["method"]
            route = getattr(scope.get("route"), "path", None)
            self.metrics.observe(
                method if method in _METHODS else "other",
                route if isinstance(route, str) else UNMATCHED,
                status,
                elapsed,
            )


def watch_database_errors(metrics: Metrics, stores: dict[str, Store]) -> Callable[[], None]:
    """Count every error the stores' engines raise; returns the function that stops counting."""
    undo: list[Callable[[], None]] = []
    for database, store in stores.items():
        engine = getattr(store, "engine", None)
        if isinstance(engine, sa.Engine):
            undo.append(_listen(metrics, database, engine))

    def stop() -> None:
        for step in undo:
            step()

    return stop


def _listen(metrics: Metrics, database: str, engine: sa.Engine) -> Callable[[], None]:
    def on_error(context: Any) -> None:
        if not getattr(context, "is_pre_ping", False):  # a stale pooled connection, replaced
            metrics.database_error(database, type(context.original_exception).__name__)

    sa.event.listen(engine, "handle_error", on_error)
    return lambda: sa.event.remove(engine, "handle_error", on_error)


router = APIRouter(route_class=LeanRoute, include_in_schema=False)


@router.get("/metrics")
async def metrics_endpoint(request: Request) -> Response:
    """The Prometheus scrape target; needs the configured token, if one is."""
    token = request.app.state.ctx.settings.metrics_token
    if token is not None:
        presented = key_from_header(request.headers.get("authorization")) or ""
        if not hmac.compare_digest(presented.encode(), token.get_secret_value().encode()):
            raise Unauthenticated("a valid metrics token is required")
    metrics: Metrics = request.app.state.metrics
    return Response(metrics.render(), media_type=CONTENT_TYPE)
