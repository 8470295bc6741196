"""Who is calling and which database they mean, the AgentOS way.

Authentication follows AgentOS: `Authorization: Bearer <key>` or the raw key, with its two 401
texts (the caller is found by `server.authn`, as on every surface). A convostore key stands in
for the security key; with no key configured and a loopback bind, calls run as the default tenant.
A user-scoped key behaves like an AgentOS JWT with user isolation: its user is forced on every
read and write.

`db_id` picks one of the configured databases (Agno's `get_db` rules and texts). Each database has
its own `SessionService`, built once and cached on the app.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from fastapi import Request

from convostore.models import Principal
from convostore.server import authn
from convostore.server.compat.agno.errors import bad_request, not_found
from convostore.server.context import AppContext, context
from convostore.server.dispatch import read, write
from convostore.service import SessionService
from convostore.storage.base import Store

# Table names a `table` parameter may name: ours, and the defaults of an Agno database.
SESSION_TABLES = ("sessions", "agno_sessions")
MEMORY_TABLES = ("memories", "agno_memories")
_lock = threading.Lock()


@dataclass(frozen=True)
class Target:
    """A caller bound to one database: the principal, that database's service and its id."""

    principal: Principal
    service: SessionService
    db_id: str

    def for_user(self, user_id: str | None) -> Principal:
        """The principal confined to `user_id` (a filter), unless a scoped key already is."""
        if user_id is None or self.principal.user_id is not None:
            return self.principal
        return self.principal.model_copy(update={"user_id": user_id})


P = ParamSpec("P")
R = TypeVar("R")


def _store_of(kwargs: dict[str, Any]) -> Store:
    for value in kwargs.values():
        if isinstance(value, Target):
            return value.service.store
        if isinstance(value, Request):
            return context(value).store
    raise TypeError("an AgentOS endpoint needs a Target or the Request among its arguments")


def _as_endpoint(fn: Callable[P, R], run: Callable[..., Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    @functools.wraps(fn)
    async def endpoint(*args: P.args, **kwargs: P.kwargs) -> R:
        return await run(fn, kwargs, *args)

    # FastAPI reads the parameters from the signature; resolve the annotations against the
    # wrapped function's module, not this one.
    endpoint.__signature__ = inspect.signature(fn, eval_str=True)  # type: ignore[attr-defined]
    return endpoint


def reads(fn: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """A read-only endpoint: on the event loop for an embedded database, else in a thread."""

    async def run(f: Callable[..., R], kwargs: dict[str, Any], *args: Any) -> R:
        return await read(_store_of(kwargs), f, *args, **kwargs)

    return _as_endpoint(fn, run)


def writes(fn: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """An endpoint that writes: always in a worker thread."""

    async def run(f: Callable[..., R], kwargs: dict[str, Any], *args: Any) -> R:
        return await write(f, *args, **kwargs)

    return _as_endpoint(fn, run)


async def authenticate(request: Request) -> Principal:
    """The caller, AgentOS-style: its two 401 texts are the error renderer's (`errors`)."""
    return await authn.authenticate(context(request), request.scope)


def database_ids(ctx: AppContext) -> list[str]:
    return list(ctx.stores) or [ctx.settings.default_database_id]


def service_for(request: Request, db_id: str) -> SessionService:
    """The service of one database; the main one is the app's own."""
    ctx = context(request)
    if db_id == ctx.settings.default_database_id:
        return ctx.service
    state = request.app.state
    with _lock:
        services: dict[str, SessionService] | None = getattr(state, "agno_services", None)
        if services is None:
            services = state.agno_services = {}
        service = services.get(db_id)
        if service is None:
            store: Store = ctx.stores[db_id]
            service = services[db_id] = SessionService(store, ctx.settings.limits())
    return service


def resolve_db(request: Request, tables: tuple[str, ...]) -> str:
    ctx = context(request)
    db_id = table = None
    raw: bytes = request.scope.get("query_string", b"")
    # neither name can be in a query string that spells neither and escapes nothing: skip
    # parsing it (Starlette's parser cost a few percent of an Agno list page)
    if b"db_id" in raw or b"table" in raw or b"%" in raw:
        db_id = request.query_params.get("db_id") or None
        table = request.query_params.get("table") or None
    if table and not db_id:
        raise bad_request("The db_id query parameter is required when passing a table")
    if db_id is None:
        ids = database_ids(ctx)
        if len(ids) > 1:
            raise bad_request("The db_id query parameter is required when using multiple databases")
        return ids[0]
    if db_id not in database_ids(ctx):
        raise not_found(f"No database found with id '{db_id}'")
    if table and table not in tables:
        raise not_found(f"No database with id '{db_id}' has table '{table}'")
    return db_id


async def session_target(request: Request) -> Target:
    principal = await authenticate(request)
    db_id = resolve_db(request, SESSION_TABLES)
    return Target(principal, service_for(request, db_id), db_id)


async def memory_target(request: Request) -> Target:
    principal = await authenticate(request)
    db_id = resolve_db(request, MEMORY_TABLES)
    return Target(principal, service_for(request, db_id), db_id)
