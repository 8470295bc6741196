"""Stored components as AgentOS describes its agents, teams and workflows.

AgentOS builds these answers from live objects; convostore has only what sessions recorded of
them (`agent_data`/`team_data`/`workflow_data`: name, id, model, and whatever else the writer
kept). So each answer has AgentOS's shape with the fields that can be known and no others: the
name, description and model that were stored, the database that holds the sessions, and AgentOS's
own defaults for the flags. Nulls are left out, as AgentOS leaves them out
(`response_model_exclude_none`).
"""

from __future__ import annotations

from typing import Any

from convostore.compat.agno.wire import without_nulls
from convostore.models import Component, JSONObject


def _data(component: Component) -> JSONObject:
    return component.data if isinstance(component.data, dict) else {}


def _text(data: JSONObject, key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def _stored_model(data: JSONObject) -> JSONObject:
    model = data.get("model")
    return model if isinstance(model, dict) else {}


def model_response(data: JSONObject) -> JSONObject | None:
    """`ModelResponse` (`/agents`, `/teams`): `{name, model, provider}` from Agno's stored
    `Model.to_dict()` (`{name, id, provider}`); Agent UI's model box reads `model.model`."""
    stored = _stored_model(data)
    body = without_nulls(
        {
            "name": _text(stored, "name"),
            "model": _text(stored, "id"),
            "provider": _text(stored, "provider"),
        }
    )
    return body or None


def summary_model(data: JSONObject) -> JSONObject | None:
    """`Model` (`/config`'s summaries and `available_models`): `{id, provider}`."""
    stored = _stored_model(data)
    body = without_nulls({"id": _text(stored, "id"), "provider": _text(stored, "provider")})
    return body or None


def _sdk(data: JSONObject) -> JSONObject | None:
    """An external framework's agent is marked `metadata.sdk`, as AgentOS marks it."""
    sdk = data.get("sdk") or data.get("framework")
    return {"sdk": sdk} if isinstance(sdk, str) and sdk else None


def to_agent_response(component: Component, db_id: str, session_table: str) -> JSONObject:
    """`AgentResponse` (`GET /agents`, `GET /agents/{id}`)."""
    data = _data(component)
    body: dict[str, Any] = {
        "id": component.id,
        "name": _text(data, "name"),
        "db_id": db_id,
        "filesystem": False,
        "description": _text(data, "description"),
        "role": _text(data, "role"),
        "is_factory": False,
        "model": model_response(data),
        "sessions": {"session_table": session_table},
        "metadata": _sdk(data),
        "is_component": False,
        "sandboxed": False,
    }
    return without_nulls(body)


def to_team_response(component: Component, db_id: str, session_table: str) -> JSONObject:
    """`TeamResponse` (`GET /teams`, `GET /teams/{id}`)."""
    data = _data(component)
    body: dict[str, Any] = {
        "id": component.id,
        "name": _text(data, "name"),
        "db_id": db_id,
        "description": _text(data, "description"),
        "role": _text(data, "role"),
        "mode": _text(data, "mode"),
        "model": model_response(data),
        "sessions": {"session_table": session_table},
        "is_factory": False,
        "is_component": False,
        "sandboxed": False,
    }
    return without_nulls(body)


def to_workflow_response(component: Component, db_id: str) -> JSONObject:
    """`WorkflowResponse` (`GET /workflows/{id}`): the steps Agno stored, if any."""
    data = _data(component)
    steps = data.get("steps")
    body: dict[str, Any] = {
        "id": component.id,
        "name": _text(data, "name"),
        "db_id": db_id,
        "description": _text(data, "description"),
        "steps": steps if isinstance(steps, list) else None,
        "workflow_agent": False,
        "is_factory": False,
        "is_component": False,
        "sandboxed": False,
    }
    return without_nulls(body)


def to_summary(component: Component, db_id: str) -> JSONObject:
    """`AgentSummaryResponse`, `TeamSummaryResponse` or `WorkflowSummaryResponse` (`/config`,
    and `GET /workflows`)."""
    data = _data(component)
    body: dict[str, Any] = {
        "id": component.id,
        "name": _text(data, "name"),
        "description": _text(data, "description"),
        "db_id": db_id,
    }
    if component.type == "workflow":
        body.update(is_factory=False, is_component=False)
    else:
        if component.type == "team":
            body["mode"] = _text(data, "mode")
        body["model"] = summary_model(data)
        body["metadata"] = _sdk(data) if component.type == "agent" else None
    body["sandboxed"] = False
    return without_nulls(body)
