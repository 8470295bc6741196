"""Agno runs (`RunOutput.to_dict`) to and from convostore runs, and the three run schemas.

A run keeps its id, parent, component, status, input text, content and numeric metrics in
convostore's columns; everything else of the Agno run (content_type, tools, events, media, the
full `input` object, which kind of component ran it as `run_type`, ...) is kept in `extra`. Its
messages are stored as message rows of the run and rebuilt from there.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from convostore.compat.agno.messages_map import from_agno_message, to_agno_message
from convostore.compat.agno.tools_map import tools_from_messages
from convostore.compat.agno.wire import from_epoch, iso_z, split_metrics, without_nulls
from convostore.models import JSONObject, Message, NewRun, Run, Session

RUN_STATUSES = ("CANCELLED", "COMPLETED", "ERROR", "PAUSED", "PENDING", "REGENERATED", "RUNNING")
PREVIEW_CHARS = 280
_COMPONENT_KEYS = {"agent": "agent_id", "team": "team_id", "workflow": "workflow_id"}
_OWN = frozenset(
    {"run_id", "parent_run_id", "agent_id", "team_id", "workflow_id", "session_id", "user_id"}
    | {"status", "content", "metrics", "messages", "created_at"}
)


def stringify_input(value: Any) -> str:
    """Agno's way of showing a run input as text."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return json.dumps(value, indent=2, default=str)
    if isinstance(value, list) and value:
        first = value[0]
        if isinstance(first, dict) and first.get("role") == "user":
            return str(first.get("content", str(value)))
    return str(value)


def run_type_of(data: JSONObject) -> str:
    if data.get("workflow_id") is not None:
        return "workflow"
    if data.get("team_id") is not None:
        return "team"
    return "agent"


def from_agno_run(data: JSONObject) -> NewRun:
    """An Agno run dict as a run to record, with its messages."""
    run_type = str(data.get("run_type") or run_type_of(data))
    component_id = data.get(_COMPONENT_KEYS.get(run_type, "agent_id"))
    extra: JSONObject = {k: v for k, v in data.items() if k not in _OWN}
    extra["run_type"] = run_type
    numbers, rest = split_metrics(data.get("metrics"))
    if rest:
        extra["metrics"] = rest
    raw_input = data.get("input")
    text: str | None = None
    if isinstance(raw_input, dict) and raw_input.get("input_content") is not None:
        text = stringify_input(raw_input["input_content"])
    elif raw_input is not None and not isinstance(raw_input, dict):
        text = stringify_input(raw_input)
    run_id = str(data.get("run_id") or "") or None
    messages = [
        from_agno_message(m, run_id=run_id)
        for m in data.get("messages") or ()
        if isinstance(m, dict)
    ]
    return NewRun(
        id=run_id,
        parent_run_id=data.get("parent_run_id") or None,
        component_id=str(component_id) if component_id else None,
        status=str(data.get("status") or "COMPLETED"),
        input=text,
        content=data.get("content"),
        metrics=numbers,
        extra=extra,
        created_at=from_epoch(data.get("created_at")),
        messages=messages,
    )


def run_kind(run: Run, session: Session) -> str:
    """Which component ran it: as recorded by Agno, else the session's own type."""
    kind = run.extra.get("run_type")
    return kind if kind in _COMPONENT_KEYS else session.type


def _run_input(run: Run, messages: Sequence[Message]) -> str:
    if run.input is not None:
        return run.input
    for message in reversed(messages):
        if message.role == "user":
            return message.content
    return ""


def _metrics(run: Run) -> JSONObject:
    return {**run.metrics, **(run.extra.get("metrics") or {})}


def _input_media(run: Run) -> JSONObject:
    raw = run.extra.get("input")
    raw = raw if isinstance(raw, dict) else {}
    return {name: list(raw.get(name) or []) for name in ("images", "videos", "audios", "files")}


def _content(run: Run) -> Any:
    return "" if run.content is None else run.content


def _format(run: Run) -> str:
    return "text" if run.extra.get("content_type", "str") == "str" else "json"


def _with_sdk(metadata: Any, component_data: JSONObject | None) -> Any:
    sdk = None
    if isinstance(component_data, dict):
        sdk = component_data.get("sdk") or component_data.get("framework")
    if isinstance(sdk, str) and sdk:
        return {**(metadata or {}), "sdk": sdk}
    return dict(metadata) if isinstance(metadata, dict) else metadata


# The results a run's tools hold back behind a call not yet answered (see `tools_map`).
TOOL_RESULTS_HELD = 4 * 1024 * 1024


def _tools(run: Run, messages: Sequence[Message]) -> list[JSONObject] | None:
    """The tools Agno recorded with the run, else those its messages show (see `tools_map`)."""
    return run.extra.get("tools") or tools_from_messages(messages, TOOL_RESULTS_HELD) or None


def _for_agent_ui(body: JSONObject, run: Run) -> JSONObject:
    """Agent UI draws reasoning steps from a run's `extra_data.reasoning_steps` (AgentOS 1.x's
    place for them), not from `reasoning_steps`: a run that has some carries them there too."""
    steps = run.extra.get("reasoning_steps")
    if steps:
        body["extra_data"] = {"reasoning_steps": steps}
    return body


def _lineage(run: Run) -> JSONObject:
    x = run.extra
    return {
        "forked_from_run_id": x.get("forked_from_run_id"),
        "forked_from_message_index": x.get("forked_from_message_index"),
        "forked_from_session_id": x.get("forked_from_session_id"),
        "regenerated_from": x.get("regenerated_from"),
        "last_checkpoint_at_message_index": x.get("last_checkpoint_at_message_index"),
    }


def to_agent_run(run: Run, messages: Sequence[Message], session: Session) -> JSONObject:
    """`RunSchema`: every key, nulls included (the list endpoint drops the nulls)."""
    x = run.extra
    agent_data = None
    if session.type == "agent" and run.component_id in (None, session.component_id):
        agent_data = session.component_data
    agent_id = run.component_id if run_kind(run, session) == "agent" else None
    body: JSONObject = {
        "run_id": run.id,
        "parent_run_id": run.parent_run_id or "",
        "agent_id": agent_id or "",
        "user_id": run.user_id or "",
        "status": run.status,
        "cancellation_stage": x.get("cancellation_stage"),
        "run_input": _run_input(run, messages),
        "content": _content(run),
        "run_response_format": _format(run),
        "reasoning_content": x.get("reasoning_content") or "",
        "reasoning_steps": x.get("reasoning_steps") or [],
        "metrics": _metrics(run),
        "metadata": _with_sdk(x.get("metadata"), agent_data),
        "messages": [to_agno_message(m) for m in messages] or None,
        "tools": _tools(run, messages),
        "events": x.get("events") or None,
        "created_at": iso_z(run.created_at),
        "references": x.get("references") or [],
        "citations": x.get("citations"),
        "reasoning_messages": x.get("reasoning_messages") or [],
        "session_state": x.get("session_state"),
        "images": x.get("images") or [],
        "videos": x.get("videos") or [],
        "audio": x.get("audio") or [],
        "files": x.get("files") or [],
        "response_audio": x.get("response_audio"),
        "input_media": _input_media(run),
        "followups": x.get("followups"),
        **_lineage(run),
    }
    return _for_agent_ui(body, run)


def to_team_run(run: Run, messages: Sequence[Message]) -> JSONObject:
    """`TeamRunSchema`: the agent shape with `team_id` and without `metadata`."""
    x = run.extra
    body: JSONObject = {
        "run_id": run.id,
        "parent_run_id": run.parent_run_id or "",
        "team_id": run.component_id or "",
        "user_id": run.user_id,
        "status": run.status,
        "cancellation_stage": x.get("cancellation_stage"),
        "content": _content(run),
        "reasoning_content": x.get("reasoning_content") or "",
        "reasoning_steps": x.get("reasoning_steps") or [],
        "run_input": _run_input(run, messages),
        "run_response_format": _format(run),
        "metrics": _metrics(run),
        "tools": _tools(run, messages),
        "messages": [to_agno_message(m) for m in messages] or None,
        "events": x.get("events") or None,
        "created_at": iso_z(run.created_at),
        "references": x.get("references") or [],
        "citations": x.get("citations"),
        "reasoning_messages": x.get("reasoning_messages") or [],
        "session_state": x.get("session_state"),
        "input_media": _input_media(run),
        "images": x.get("images") or [],
        "videos": x.get("videos") or [],
        "audio": x.get("audio") or [],
        "files": x.get("files") or [],
        "response_audio": x.get("response_audio"),
        "followups": x.get("followups"),
        **_lineage(run),
    }
    return _for_agent_ui(body, run)


def _workflow_input(run: Run, messages: Sequence[Message]) -> str:
    if run.input is not None:
        return run.input
    raw = run.extra.get("input")
    if raw is not None:
        return stringify_input(raw)
    steps = run.extra.get("step_executor_runs") or []
    if steps and isinstance(steps[0], dict):
        for message in reversed(steps[0].get("messages") or []):
            if isinstance(message, dict) and message.get("role") == "user":
                return str(message.get("content", ""))
    return _run_input(run, messages)


def to_workflow_run(run: Run, messages: Sequence[Message]) -> JSONObject:
    """`WorkflowRunSchema`."""
    x = run.extra
    return {
        "run_id": run.id,
        "run_input": _workflow_input(run, messages),
        "events": x.get("events") or [],
        "workflow_id": run.component_id or "",
        "user_id": run.user_id or "",
        "content": _content(run),
        "content_type": x.get("content_type", ""),
        "status": run.status,
        "cancellation_stage": x.get("cancellation_stage"),
        "step_results": x.get("step_results") or [],
        "step_executor_runs": x.get("step_executor_runs") or [],
        "step_requirements": x.get("step_requirements"),
        "pause_kind": x.get("pause_kind"),
        "paused_step_name": x.get("paused_step_name"),
        "paused_step_index": x.get("paused_step_index"),
        "metrics": _metrics(run),
        "created_at": iso_z(run.created_at),
        "reasoning_content": x.get("reasoning_content") or "",
        "reasoning_steps": x.get("reasoning_steps") or [],
        "references": x.get("references") or [],
        "citations": x.get("citations"),
        "reasoning_messages": x.get("reasoning_messages") or [],
        "images": x.get("images") or [],
        "videos": x.get("videos") or [],
        "audio": x.get("audio") or [],
        "files": x.get("files") or [],
        "response_audio": x.get("response_audio"),
    }


def to_run(run: Run, messages: Sequence[Message], session: Session) -> JSONObject:
    """One run in the schema its own component calls for (the single-run endpoint)."""
    kind = run_kind(run, session)
    if kind == "workflow":
        return to_workflow_run(run, messages)
    if kind == "team":
        return to_team_run(run, messages)
    return to_agent_run(run, messages, session)


def to_session_run(
    run: Run,
    messages: Sequence[Message],
    session: Session,
    session_type: str,
    *,
    with_nulls: bool = False,
) -> JSONObject | None:
    """One run as the runs list shows it in a session of `session_type`, or None if hidden.

    Agent sessions show every run as an agent run; team sessions show team runs and member agent
    runs; workflow sessions choose by the run's own component. The list leaves nulls out.
    """
    kind = run_kind(run, session)
    if session_type == "agent":
        body = to_agent_run(run, messages, session)
    elif session_type == "team":
        if kind == "team":
            body = to_team_run(run, messages)
        elif kind == "agent":
            body = to_agent_run(run, messages, session)
        else:
            return None
    else:
        body = to_run(run, messages, session)
    return body if with_nulls else without_nulls(body)


def input_from_messages(run: Run) -> bool:
    """Whether the run's `run_input` is read from its messages (it recorded no input)."""
    x = run.extra
    return run.input is None and x.get("input") is None and not x.get("step_executor_runs")


def _preview(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text[:PREVIEW_CHARS]


_PREVIEW_IDS = ("run_id", "parent_run_id", "agent_id", "team_id", "workflow_id", "user_id")


def to_run_preview(run: JSONObject) -> JSONObject:
    """`SessionRunPreviewSchema` of one item of the runs list (AgentOS builds it from that item:
    the same ids, `""` included, and its `run_input`), nulls left out."""
    body: JSONObject = {key: run.get(key) for key in _PREVIEW_IDS}
    body["status"] = run.get("status")
    body["run_input"] = _preview(run.get("run_input"))
    body["content_preview"] = _preview(run.get("content"))
    body["created_at"] = run.get("created_at")
    return without_nulls(body)


def messages_by_run(messages: Sequence[Message]) -> dict[str | None, list[Message]]:
    """Each run's messages, in order, in one pass (for a list of runs)."""
    grouped: dict[str | None, list[Message]] = {}
    for message in messages:
        grouped.setdefault(message.run_id, []).append(message)
    return grouped
