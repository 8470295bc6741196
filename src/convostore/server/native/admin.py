"""`/v1/health`, `/v1/users/{id}` (erasure) and `/v1/keys` (API key management)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from convostore.errors import PermissionDenied
from convostore.models import Principal
from convostore.server.authn import principal_from
from convostore.server.context import context
from convostore.server.fastpath import LeanRoute
from convostore.server.native.schemas import (
    ERRORS,
    CreateKeyBody,
    ErasureOut,
    KeyOut,
    erasure_json,
    key_json,
)
from convostore.server.responses import JSONResponse
from convostore.service import require_admin
from convostore.version import __version__

router = APIRouter(route_class=LeanRoute, prefix="/v1", responses=ERRORS)
Caller = Annotated[Principal, Depends(principal_from)]


@router.get("/health", tags=["health"], summary="Liveness and database reachability")
async def health(request: Request) -> JSONResponse:
    db = context(request).db
    ok = await db.read(db.store.ping)
    body = {"status": "ok" if ok else "degraded", "database": "ok" if ok else "unreachable"}
    body["version"] = __version__
    return JSONResponse(body, status_code=200 if ok else 503)


@router.delete(
    "/users/{user_id}",
    tags=["users"],
    response_model=ErasureOut,
    summary="Erase every session, run, message and memory of one end user",
)
async def delete_user(request: Request, user_id: str, caller: Caller) -> JSONResponse:
    ctx = context(request)
    erasure = await ctx.db.write(ctx.service.delete_user, caller, user_id)
    return JSONResponse(erasure_json(erasure))


def _tenant_for(caller: Principal, requested: str | None) -> str:
    require_admin(caller)
    if caller.user_id is not None:
        raise PermissionDenied("a user-scoped key cannot manage keys")
    if requested is None or requested == caller.tenant_id:
        return caller.tenant_id
    if caller.key_id is None:  # open mode on loopback: the local operator bootstraps tenants
        return requested
    raise PermissionDenied("an admin key manages only its own tenant's keys", param="tenant")


@router.post("/keys", tags=["keys"], status_code=201, response_model=KeyOut, summary="Create a key")
async def create_key(request: Request, body: CreateKeyBody, caller: Caller) -> JSONResponse:
    ctx = context(request)
    tenant = _tenant_for(caller, body.tenant)
    keys = ctx.keys
    created = await ctx.db.write(
        keys.create, tenant, body.role, user_id=body.user_id, name=body.name
    )
    return JSONResponse(key_json(created.record, created.key), status_code=201)


@router.get("/keys", tags=["keys"], summary="List the tenant's keys (never their secrets)")
async def list_keys(request: Request, caller: Caller) -> JSONResponse:
    ctx = context(request)
    keys = await ctx.db.read(ctx.keys.list, _tenant_for(caller, None))
    return JSONResponse({"object": "list", "data": [key_json(k) for k in keys]})


@router.delete("/keys/{key_id}", tags=["keys"], response_model=KeyOut, summary="Revoke a key")
async def revoke_key(request: Request, key_id: str, caller: Caller) -> JSONResponse:
    ctx = context(request)
    record = await ctx.db.write(ctx.keys.revoke, _tenant_for(caller, None), key_id)
    return JSONResponse(key_json(record))
