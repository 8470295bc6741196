"""Who is calling and which database they mean, the AgentOS way.

Authentication follows AgentOS: `Authorization: Bearer <key>` or the raw key, with its two 401
texts (the caller is found by `server.authn`, as on every surface). A convostore key stands in
for the security key; in open mode (no key ever created, a loopback bind, a request addressed to
localhost), calls run as the default tenant. A user-scoped key behaves like an AgentOS JWT with
user isolation: its user is forced on every read and write.

`db_id` picks one of the configured databases (Agno's `get_db` rules and texts); a `Target` holds
that database and its service, which the endpoints await (`target.db.read(...)`).
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from convostore.models import Principal
from convostore.server import authn
from convostore.server.compat.agno.errors import bad_request, not_found
from convostore.server.context import AppContext, context
from convostore.server.database import Database
from convostore.service import SessionService

# Table names a `table` parameter may name: ours, and the defaults of an Agno database.
SESSION_TABLES = ("sessions", "agno_sessions")
MEMORY_TABLES = ("memories", "agno_memories")


@dataclass(frozen=True)
class Target:
    """A caller bound to one database: the principal, that database's service and its id."""

    principal: Principal
    service: SessionService
    db: Database
    db_id: str

    def for_user(self, user_id: str | None) -> Principal:
        """The principal confined to `user_id` (a filter), unless a scoped key already is."""
        if user_id is None or self.principal.user_id is not None:
            return self.principal
        return self.principal.model_copy(update={"user_id": user_id})


async def authenticate(request: Request) -> Principal:
    """The caller, AgentOS-style: its two 401 texts are the error renderer's (`errors`)."""
    return await authn.authenticate(context(request), request.scope)


def database_ids(ctx: AppContext) -> list[str]:
    return list(ctx.databases)


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


def target_of(ctx: AppContext, principal: Principal, db_id: str) -> Target:
    return Target(principal, ctx.services[db_id], ctx.databases[db_id], db_id)


async def session_target(request: Request) -> Target:
    principal = await authenticate(request)
    db_id = resolve_db(request, SESSION_TABLES)
    return target_of(context(request), principal, db_id)


async def memory_target(request: Request) -> Target:
    principal = await authenticate(request)
    db_id = resolve_db(request, MEMORY_TABLES)
    return target_of(context(request), principal, db_id)
