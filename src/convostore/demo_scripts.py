"""The scripts of the demo data, read from `demo_content.json`, which ships with the package.

The text lives in JSON, not in Python, so it can be read and edited as data; this module gives it
types. `convostore.demo` turns the scripts into sessions with ids, timestamps and metrics. The
file is read the first time the demo is built, never at import.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

CONTENT_FILE = "demo_content.json"

# --- video chat (memories.ai style) -------------------------------------------------------------


@dataclass(frozen=True)
class Video:
    id: str
    name: str
    duration: float


@dataclass(frozen=True)
class Cite:
    """One timed piece of evidence: `video` indexes the chat's videos."""

    video: int
    kind: str
    start: float
    end: float | None = None
    text: str | None = None


@dataclass(frozen=True)
class VideoTurn:
    question: str
    answer: str
    thinkings: tuple[tuple[str, str], ...]  # (title, content)
    cites: tuple[Cite, ...]


@dataclass(frozen=True)
class VideoChat:
    videos: tuple[Video, ...]
    turns: tuple[VideoTurn, ...]
    user: str = "default"  # who asks, so sessions and memories tell one story per user


# --- agents, teams and workflows (Agno style) ---------------------------------------------------


@dataclass(frozen=True)
class Component:
    type: str  # agent | team | workflow
    id: str
    name: str
    model: dict[str, str] | None = None
    instructions: str = ""
    members: tuple[str, ...] = ()
    steps: tuple[str, ...] = ()


@dataclass(frozen=True)
class ToolUse:
    name: str
    arguments: dict[str, Any]
    result: str


@dataclass(frozen=True)
class Delegation:
    """A team leader handing a task to one member agent."""

    member: str
    task: str
    answer: str


@dataclass(frozen=True)
class AgentTurn:
    input: str
    answer: str
    tool: ToolUse | None = None
    delegation: Delegation | None = None


@dataclass(frozen=True)
class AgentChat:
    component: str
    turns: tuple[AgentTurn, ...]
    user: str = "default"
    title: str | None = None
    summary: str | None = None
    topics: tuple[str, ...] = ()
    state: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WorkflowRunScript:
    input: str
    steps: tuple[tuple[str, str], ...]  # (step name, output)


@dataclass(frozen=True)
class WorkflowChat:
    component: str
    runs: tuple[WorkflowRunScript, ...]
    user: str = "default"
    state: dict[str, Any] = field(default_factory=dict)


# --- memories -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemoryScript:
    user: str
    memory: str
    topics: tuple[str, ...]
    agent_id: str | None = None


@dataclass(frozen=True)
class DemoScripts:
    components: dict[str, Component]
    video_chats: tuple[VideoChat, ...]
    agent_chats: tuple[AgentChat, ...]
    team_chats: tuple[AgentChat, ...]
    workflow_chats: tuple[WorkflowChat, ...]
    memories: tuple[MemoryScript, ...]


@functools.cache
def demo_scripts() -> DemoScripts:
    """The demo's scripts, read once from the package's `demo_content.json`."""
    text = resources.files("convostore").joinpath(CONTENT_FILE).read_text(encoding="utf-8")
    return scripts_from_json(json.loads(text))


def scripts_from_json(data: dict[str, Any]) -> DemoScripts:
    """The scripts of a decoded `demo_content.json`; a key it does not know is an error."""
    components = tuple(_component(c) for c in data["components"])
    return DemoScripts(
        components={c.id: c for c in components},
        video_chats=tuple(_video_chat(c) for c in data["video_chats"]),
        agent_chats=tuple(_agent_chat(c) for c in data["agent_chats"]),
        team_chats=tuple(_agent_chat(c) for c in data["team_chats"]),
        workflow_chats=tuple(_workflow_chat(c) for c in data["workflow_chats"]),
        memories=tuple(_memory(m) for m in data["memories"]),
    )


def _memory(data: dict[str, Any]) -> MemoryScript:
    return MemoryScript(**{**data, "topics": tuple(data["topics"])})


def _video_chat(data: dict[str, Any]) -> VideoChat:
    return VideoChat(
        **{
            **data,
            "videos": tuple(Video(**v) for v in data["videos"]),
            "turns": tuple(_video_turn(t) for t in data["turns"]),
        }
    )


def _video_turn(data: dict[str, Any]) -> VideoTurn:
    return VideoTurn(
        **{
            **data,
            "thinkings": tuple((t["title"], t["content"]) for t in data["thinkings"]),
            "cites": tuple(Cite(**c) for c in data["cites"]),
        }
    )


def _component(data: dict[str, Any]) -> Component:
    return Component(
        **{
            **data,
            "members": tuple(data.get("members", ())),
            "steps": tuple(data.get("steps", ())),
        }
    )


def _agent_chat(data: dict[str, Any]) -> AgentChat:
    return AgentChat(
        **{
            **data,
            "turns": tuple(_agent_turn(t) for t in data["turns"]),
            "topics": tuple(data.get("topics", ())),
        }
    )


def _agent_turn(data: dict[str, Any]) -> AgentTurn:
    tool, delegation = data.get("tool"), data.get("delegation")
    return AgentTurn(
        **{
            **data,
            "tool": ToolUse(**tool) if tool is not None else None,
            "delegation": Delegation(**delegation) if delegation is not None else None,
        }
    )


def _workflow_chat(data: dict[str, Any]) -> WorkflowChat:
    runs = tuple(
        WorkflowRunScript(
            input=run["input"],
            steps=tuple((step["name"], step["output"]) for step in run["steps"]),
        )
        for run in data["runs"]
    )
    return WorkflowChat(**{**data, "runs": runs})
