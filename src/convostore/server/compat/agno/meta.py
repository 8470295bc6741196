"""`/health`, `/config`, `/agents` and `/teams`: what an AgentOS client reads to find its way.

convostore hosts no agents; `/agents` and `/teams` list the components its stored sessions name,
each with the `db_id` of the database that holds them, so the Agent UI can browse those sessions.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from convostore import __version__
from convostore.components import Component, list_components
from convostore.models import JSONObject, Principal, SessionType
from convostore.server.compat.agno.access import (
    MEMORY_TABLES,
    SESSION_TABLES,
    authenticate,
    database_ids,
    reads,
    service_for,
)
from convostore.server.compat.agno.wire import iso_z
from convostore.server.context import context
from convostore.server.responses import JSONResponse
from convostore.server.routing import LeanRoute

router = APIRouter(route_class=LeanRoute, tags=["Core"])
Caller = Annotated[Principal, Depends(authenticate)]


@router.get("/health", operation_id="health_check", summary="Health Check")
@reads
def health(request: Request) -> JSONResponse:
    """Open to everyone; a database that cannot be reached turns it into 503 "degraded"."""
    ctx = context(request)
    ok = ctx.store.ping()
    body = {"status": "ok" if ok else "degraded", "instantiated_at": iso_z(ctx.started_at)}
    return JSONResponse(body, status_code=200 if ok else 503)


def _model(data: JSONObject | None) -> JSONObject | None:
    model = data.get("model") if isinstance(data, dict) else None
    if not isinstance(model, dict) or (model.get("id") is None and model.get("provider") is None):
        return None
    return {"id": model.get("id"), "provider": model.get("provider")}


def _summary(component: Component, db_id: str) -> JSONObject:
    data = component.data if isinstance(component.data, dict) else {}
    body: JSONObject = {
        "id": component.id,
        "name": data.get("name") or component.id,
        "description": data.get("description"),
        "db_id": db_id,
        "model": _model(data),
    }
    if component.type == "team":
        body["mode"] = data.get("mode")
    body["metadata"] = None
    body["sandboxed"] = False
    return body


def _components(request: Request, principal: Principal, kind: SessionType) -> list[JSONObject]:
    out: list[JSONObject] = []
    for db_id in database_ids(context(request)):
        service = service_for(request, db_id)
        out.extend(_summary(c, db_id) for c in list_components(service, principal, kind))
    return out


@router.get("/agents", operation_id="get_agents", summary="List Agents")
@reads
def get_agents(request: Request, principal: Caller) -> JSONResponse:
    return JSONResponse(_components(request, principal, "agent"))


@router.get("/teams", operation_id="get_teams", summary="List Teams")
@reads
def get_teams(request: Request, principal: Caller) -> JSONResponse:
    return JSONResponse(_components(request, principal, "team"))


def _domain(display_name: str, ids: list[str], table: str) -> JSONObject:
    return {
        "display_name": display_name,
        "dbs": [
            {"db_id": i, "domain_config": {"display_name": display_name}, "tables": [table]}
            for i in ids
        ],
    }


@router.get("/config", operation_id="get_config", summary="Get OS Configuration")
@reads
def get_config(request: Request, principal: Caller) -> JSONResponse:
    ctx = context(request)
    ids = database_ids(ctx)
    agents = _components(request, principal, "agent")
    teams = _components(request, principal, "team")
    workflows = [
        {"id": w["id"], "name": w["name"], "description": None, "db_id": w["db_id"]}
        for w in _components(request, principal, "workflow")
    ]
    models = {
        (m["id"], m["provider"]): m for c in (*agents, *teams) if (m := c.get("model")) is not None
    }
    body: JSONObject = {
        "os_id": "convostore",
        "name": "convostore",
        "description": f"convostore {__version__}: stored sessions and memories",
        "available_models": list(models.values()),
        "os_database": ctx.settings.default_database_id,
        "databases": ids,
        "session": _domain("Sessions", ids, SESSION_TABLES[0]),
        "memory": _domain("Memory", ids, MEMORY_TABLES[0]),
        "company": None,
        "agents": agents,
        "teams": teams,
        "workflows": workflows,
        "interfaces": [],
    }
    return JSONResponse(body)
