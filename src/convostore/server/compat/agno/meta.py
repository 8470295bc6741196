"""`/health`, `/config`, `/agents`, `/teams` and `/workflows`: what an AgentOS client reads to
find its way.

convostore hosts no agents; these routes describe the components its stored sessions name (see
`components.py` for which sessions may describe them), each with the `db_id` of the database that
holds them: Agent UI browses those sessions by them, and agno's `RemoteAgent` builds its `db` (a
`RemoteDb`) from `GET /agents/{id}`. Running one answers AgentOS's "not found".
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from convostore.compat.agno.components_map import (
    to_agent_response,
    to_summary,
    to_team_response,
    to_workflow_response,
)
from convostore.compat.agno.wire import iso_z
from convostore.components import list_components
from convostore.models import Component, JSONObject, Principal, SessionType
from convostore.server.compat.agno.access import (
    MEMORY_TABLES,
    SESSION_TABLES,
    authenticate,
    database_ids,
)
from convostore.server.compat.agno.errors import not_found
from convostore.server.context import context
from convostore.server.fastpath import LeanRoute
from convostore.server.responses import JSONResponse
from convostore.service import require_write
from convostore.version import __version__

router = APIRouter(route_class=LeanRoute, tags=["Core"])
Caller = Annotated[Principal, Depends(authenticate)]


@router.get("/health", operation_id="health_check", summary="Health Check")
async def health(request: Request) -> JSONResponse:
    """Open to everyone; a database that cannot be reached turns it into 503 "degraded"."""
    ctx = context(request)
    ok = await ctx.db.read(ctx.store.ping)
    body = {"status": "ok" if ok else "degraded", "instantiated_at": iso_z(ctx.started_at)}
    return JSONResponse(body, status_code=200 if ok else 503)


async def _components(
    request: Request, principal: Principal, kind: SessionType, component_id: str | None = None
) -> list[tuple[Component, str]]:
    """The components of one type in every database, each with the id of its database."""
    ctx = context(request)
    out: list[tuple[Component, str]] = []
    for db_id in database_ids(ctx):
        found = await ctx.databases[db_id].read(
            list_components, ctx.services[db_id], principal, kind, component_id=component_id
        )
        out.extend((c, db_id) for c in found)
    return out


async def _one(
    request: Request, principal: Principal, kind: SessionType, component_id: str
) -> tuple[Component, str]:
    """The component of that id (from the first database that has it), or AgentOS's 404."""
    found = await _components(request, principal, kind, component_id)
    if not found:
        raise not_found(f"{kind.title()} not found")
    return found[0]


@router.get("/agents", operation_id="get_agents", summary="List All Agents")
async def get_agents(request: Request, principal: Caller) -> JSONResponse:
    agents = await _components(request, principal, "agent")
    return JSONResponse([to_agent_response(c, db, SESSION_TABLES[0]) for c, db in agents])


@router.get("/agents/{agent_id}", operation_id="get_agent", summary="Get Agent Details")
async def get_agent(request: Request, principal: Caller, agent_id: str) -> JSONResponse:
    found = await _one(request, principal, "agent", agent_id)
    return JSONResponse(to_agent_response(*found, SESSION_TABLES[0]))


@router.get("/teams", operation_id="get_teams", summary="List All Teams")
async def get_teams(request: Request, principal: Caller) -> JSONResponse:
    teams = await _components(request, principal, "team")
    return JSONResponse([to_team_response(c, db, SESSION_TABLES[0]) for c, db in teams])


@router.get("/teams/{team_id}", operation_id="get_team", summary="Get Team Details")
async def get_team(request: Request, principal: Caller, team_id: str) -> JSONResponse:
    found = await _one(request, principal, "team", team_id)
    return JSONResponse(to_team_response(*found, SESSION_TABLES[0]))


@router.get("/workflows", operation_id="get_workflows", summary="List All Workflows")
async def get_workflows(request: Request, principal: Caller) -> JSONResponse:
    workflows = await _components(request, principal, "workflow")
    return JSONResponse([to_summary(c, db) for c, db in workflows])


@router.get("/workflows/{workflow_id}", operation_id="get_workflow", summary="Get Workflow Details")
async def get_workflow(request: Request, principal: Caller, workflow_id: str) -> JSONResponse:
    return JSONResponse(
        to_workflow_response(*await _one(request, principal, "workflow", workflow_id))
    )


_NOT_RUN = "{} not found: convostore keeps stored sessions and runs no agents or teams"


@router.post("/agents/{agent_id}/runs", operation_id="create_agent_run", summary="Create Run")
async def create_agent_run(request: Request, principal: Caller, agent_id: str) -> JSONResponse:
    """AgentOS's answer for an agent it does not have: convostore runs none (Agent UI shows the
    text). A key that may not write is refused first, as for any other write."""
    require_write(principal)
    raise not_found(_NOT_RUN.format("Agent"))


@router.post("/teams/{team_id}/runs", operation_id="create_team_run", summary="Create Team Run")
async def create_team_run(request: Request, principal: Caller, team_id: str) -> JSONResponse:
    """As `create_agent_run`, for teams."""
    require_write(principal)
    raise not_found(_NOT_RUN.format("Team"))


def _domain(display_name: str, ids: list[str], table: str) -> JSONObject:
    return {
        "display_name": display_name,
        "dbs": [
            {"db_id": i, "domain_config": {"display_name": display_name}, "tables": [table]}
            for i in ids
        ],
    }


@router.get("/config", operation_id="get_config", summary="Get OS Configuration")
async def get_config(request: Request, principal: Caller) -> JSONResponse:
    ctx = context(request)
    ids = database_ids(ctx)
    agents = [to_summary(c, db) for c, db in await _components(request, principal, "agent")]
    teams = [to_summary(c, db) for c, db in await _components(request, principal, "team")]
    workflows = [to_summary(c, db) for c, db in await _components(request, principal, "workflow")]
    models = {
        (m.get("id"), m.get("provider")): m
        for c in (*agents, *teams)
        if (m := c.get("model")) is not None
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
