"""Sample data: video-chat sessions with reasoning and evidence, and agent, team and workflow runs.

`build_demo` is pure and deterministic: the same `seed`, `sessions` and `now` give the same
bundles. Ids do not depend on `now` (they come from a fixed point in time), so loading the demo
again on another day finds the same ids and skips them instead of duplicating. Derived fields
(title, counts, metric roll-ups, last_message_at) are computed with the same rules the store
applies on append, so demo sessions look exactly like recorded ones.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from convostore.config import Limits
from convostore.demo_scripts import (
    AgentChat,
    AgentTurn,
    Component,
    DemoScripts,
    MemoryScript,
    VideoChat,
    VideoTurn,
    WorkflowChat,
    demo_scripts,
)
from convostore.errors import Conflict
from convostore.ids import EPOCH_MS, utcnow
from convostore.models import (
    EvidenceItem,
    EvidenceRef,
    EvidenceSource,
    JSONObject,
    Memory,
    Message,
    Metrics,
    NewMessage,
    Role,
    Run,
    Session,
    SessionType,
    Summary,
    Thinking,
)
from convostore.rules import derive_title, sum_metrics
from convostore.storage.base import SessionBundle, Store

DEFAULT_SESSIONS = 36
USERS = ("alice", "bob", "carol", "dave", "erin", "default")
VIDEO_CHAT_ID = "video-chat"
# Which kind of session the i-th demo session is: 5 video chats to 2 agent, 1 team, 1 workflow.
_PATTERN = ("video", "video", "agent", "video", "team", "video", "agent", "video", "workflow")
# Demo ids use the id layout of `convostore.ids` (ms since EPOCH_MS << 22 | node << 12 | seq)
# at a fixed instant, one minute apart, with nodes of their own.
_DEMO_ANCHOR_MS = 1_748_736_000_000  # 2025-06-01T00:00:00Z
_SESSION_NODE = 1001
_MEMORY_NODE = 1002
_NAMESPACE = uuid.UUID("6f1c0b8e-3d5a-4a7e-9a43-0c5e2b1f9d21")
_SPREAD = timedelta(days=28)
_MARGIN = timedelta(hours=3)  # longer than any one demo session lasts, so none ends after `now`


@dataclass
class DemoData:
    bundles: list[SessionBundle]
    memories: list[Memory]


def demo_id(index: int, *, node: int = _SESSION_NODE) -> str:
    """The 18-digit, time-ordered id of the index-th demo object; the same on every run."""
    ms = _DEMO_ANCHOR_MS - EPOCH_MS + index * 60_000
    return str((ms << 22) | ((node % 1024) << 12))


def _uuid(*parts: object) -> str:
    return str(uuid.uuid5(_NAMESPACE, ":".join(str(p) for p in parts)))


def build_demo(*, now: datetime, sessions: int = DEFAULT_SESSIONS, seed: int = 0) -> DemoData:
    """`sessions` sample sessions spread over the four weeks before `now`, and user memories."""
    scripts = demo_scripts()
    bundles = [_bundle(scripts, index, now, seed) for index in range(max(sessions, 0))]
    return DemoData(bundles=bundles, memories=_memories(scripts.memories, now, seed))


def _bundle(scripts: DemoScripts, index: int, now: datetime, seed: int) -> SessionBundle:
    rng = random.Random(f"convostore-demo:{seed}:{index}")
    round_, position = divmod(index, len(_PATTERN))
    kind = _PATTERN[position]
    # the how-many-th session of its kind this is, so each kind cycles through its scripts
    nth = round_ * _PATTERN.count(kind) + _PATTERN[:position].count(kind)
    of_kind = _of_kind(scripts, kind)
    cycle, slot = divmod(nth, len(of_kind))
    script = of_kind[slot]
    # a script's own user asks it first; repeats of it come from the other users in turn
    user = USERS[(USERS.index(script.user) + cycle) % len(USERS)]
    start = now - _MARGIN - _SPREAD * rng.random()
    builder = _Builder(demo_id(index), user, start, rng, scripts.components)
    if isinstance(script, VideoChat):
        return builder.video(script)
    if isinstance(script, AgentChat):
        return builder.agent(script)
    return builder.workflow(script)


def _of_kind(scripts: DemoScripts, kind: str) -> tuple[VideoChat | AgentChat | WorkflowChat, ...]:
    """The scripts of one kind of session in `_PATTERN`."""
    by_kind: dict[str, tuple[VideoChat | AgentChat | WorkflowChat, ...]] = {
        "video": scripts.video_chats,
        "agent": scripts.agent_chats,
        "team": scripts.team_chats,
        "workflow": scripts.workflow_chats,
    }
    return by_kind[kind]


class _Builder:
    """Accumulates the messages and runs of one session, then computes its derived fields."""

    def __init__(
        self,
        session_id: str,
        user: str,
        start: datetime,
        rng: random.Random,
        components: dict[str, Component],
    ) -> None:
        self.session_id = session_id
        self.user = user
        self.start = start
        self.clock = start + timedelta(seconds=rng.randint(1, 20))
        self.rng = rng
        self.components = components
        self.messages: list[Message] = []
        self.runs: list[Run] = []
        self.context_tokens = rng.randint(120, 400)  # the system prompt and tool definitions

    # --- small steps ---------------------------------------------------------------------------

    def tick(self, low: float, high: float) -> datetime:
        self.clock += timedelta(seconds=self.rng.uniform(low, high))
        return self.clock

    def tokens(self, text: str, *, reasoning: bool = False) -> Metrics:
        """Plausible token counts: the whole conversation goes in, the answer comes out."""
        output = max(8, len(text) // 4 + self.rng.randint(-5, 15))
        metrics: Metrics = {
            "input_tokens": self.context_tokens,
            "output_tokens": output,
            "total_tokens": self.context_tokens + output,
        }
        if reasoning:
            metrics["reasoning_tokens"] = self.rng.randint(80, 600)
            metrics["total_tokens"] += metrics["reasoning_tokens"]
        if len(self.messages) > 4 and self.rng.random() < 0.5:
            metrics["cache_read_tokens"] = self.context_tokens // 2
        self.context_tokens += output
        return metrics

    def add(
        self,
        role: Role,
        content: str,
        *,
        run_id: str | None = None,
        metrics: Metrics | None = None,
        **fields: Any,
    ) -> Message:
        if role in ("user", "tool"):
            self.context_tokens += len(content) // 4
        seq = len(self.messages) + 1
        message = Message(
            session_id=self.session_id,
            seq=seq,
            id=_uuid(self.session_id, "message", seq),
            run_id=run_id,
            role=role,
            content=content,
            metrics=metrics or {},
            created_at=self.clock,
            **fields,
        )
        self.messages.append(message)
        return message

    def run(
        self,
        component: str,
        input_: str,
        content: Any,
        started: datetime,
        *,
        parent: str | None = None,
        extra: JSONObject | None = None,
    ) -> Run:
        """Close a run over the messages already added with its id (see `next_run_id`)."""
        run_id = self.next_run_id()
        own = [m for m in self.messages if m.run_id == run_id]
        metrics = sum_metrics(m.metrics for m in own)
        duration = (self.clock - started).total_seconds()
        metrics |= {
            "duration": round(duration, 3),
            "time_to_first_token": round(min(duration, self.rng.uniform(0.3, 1.4)), 3),
        }
        run = Run(
            session_id=self.session_id,
            id=run_id,
            index=len(self.runs),
            parent_run_id=parent,
            component_id=component,
            user_id=self.user,
            status="COMPLETED",
            input=input_,
            content=content,
            metrics=metrics,
            extra=extra or {},
            created_at=started,
            updated_at=self.clock,
        )
        self.runs.append(run)
        return run

    def next_run_id(self, offset: int = 0) -> str:
        return _uuid(self.session_id, "run", len(self.runs) + offset)

    # --- session kinds -------------------------------------------------------------------------

    def video(self, chat: VideoChat) -> SessionBundle:
        turns = chat.turns[: self.rng.randint(1, len(chat.turns))]
        for turn in turns:
            self.add("user", turn.question)
            self.tick(4, 25)
            self.add(
                "assistant",
                turn.answer,
                metrics=self.tokens(turn.answer, reasoning=True),
                thinkings=[Thinking(title=t, content=c) for t, c in turn.thinkings],
                refs=_refs(chat, turn),
            )
            self.tick(60, 600)
        return self.finish(
            "agent",
            VIDEO_CHAT_ID,
            component_data={"name": "Video Chat", "agent_id": VIDEO_CHAT_ID},
            metadata={"video_nos": [v.id for v in chat.videos]},
        )

    def agent(self, chat: AgentChat) -> SessionBundle:
        component = self.components[chat.component]
        turns = chat.turns[: self.rng.randint(max(1, len(chat.turns) - 1), len(chat.turns))]
        for number, turn in enumerate(turns):
            self.agent_turn(component, turn, first=number == 0)
            self.tick(30, 900)
        summary = None
        if chat.summary and len(turns) > 1:
            summary = Summary(
                text=chat.summary,
                topics=list(chat.topics),
                updated_at=self.messages[-1].created_at + timedelta(seconds=3),
                covers_through_seq=self.messages[-1].seq,
            )
        return self.finish(
            "team" if component.type == "team" else "agent",
            component.id,
            component_data=_component_data(component, self.components),
            title=chat.title,
            summary=summary,
            state=dict(chat.state) or None,
        )

    def agent_turn(self, component: Component, turn: AgentTurn, *, first: bool) -> None:
        started = self.clock
        run_id = self.next_run_id()
        if first and component.instructions:
            self.add("system", component.instructions, run_id=run_id)
        self.add("user", turn.input, run_id=run_id)
        self.tick(1, 4)
        if turn.tool is not None:
            call_id = "call_" + _uuid(run_id, "call").replace("-", "")[:24]
            arguments = _json_text(turn.tool.arguments)
            self.add(
                "assistant",
                "",
                run_id=run_id,
                metrics=self.tokens(arguments),
                tool_calls=[
                    {
                        "id": call_id,
                        "type": "function",
                        "function": {"name": turn.tool.name, "arguments": arguments},
                    }
                ],
            )
            self.tick(0.2, 3)
            self.add(
                "tool",
                turn.tool.result,
                run_id=run_id,
                extra={"tool_call_id": call_id, "tool_name": turn.tool.name},
            )
            self.tick(1, 6)
        member_run = None
        if turn.delegation is not None:
            member_run = self.delegate(component, turn, run_id)
        self.add("assistant", turn.answer, run_id=run_id, metrics=self.tokens(turn.answer))
        self.tick(0.1, 0.5)
        extra: JSONObject = {"model": (component.model or {}).get("id")}
        self.run(component.id, turn.input, turn.answer, started, extra=extra)
        if member_run is not None:
            self.runs.append(member_run.model_copy(update={"index": len(self.runs)}))

    def delegate(self, component: Component, turn: AgentTurn, team_run_id: str) -> Run:
        """The leader calls a member: its messages sit between the call and the result."""
        assert turn.delegation is not None
        task = turn.delegation
        call_id = "call_" + _uuid(team_run_id, "delegate").replace("-", "")[:24]
        arguments = _json_text({"member_id": task.member, "task": task.task})
        self.add(
            "assistant",
            "",
            run_id=team_run_id,
            metrics=self.tokens(arguments),
            tool_calls=[
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": "delegate_task_to_member", "arguments": arguments},
                }
            ],
        )
        started = self.tick(0.2, 1)
        # The member run gets the id after the leader's; it is recorded after the leader's run.
        member_id = self.next_run_id(offset=1)
        self.add("user", task.task, run_id=member_id)
        self.tick(3, 20)
        self.add("assistant", task.answer, run_id=member_id, metrics=self.tokens(task.answer))
        member_started, member_ended = started, self.clock
        self.tick(0.1, 1)
        self.add(
            "tool",
            task.answer,
            run_id=team_run_id,
            extra={"tool_call_id": call_id, "tool_name": "delegate_task_to_member"},
        )
        self.tick(1, 5)
        own = [m for m in self.messages if m.run_id == member_id]
        duration = (member_ended - member_started).total_seconds()
        member = self.components[task.member]
        return Run(
            session_id=self.session_id,
            id=member_id,
            index=0,  # set when it is appended after the leader's run
            parent_run_id=team_run_id,
            component_id=member.id,
            user_id=self.user,
            status="COMPLETED",
            input=task.task,
            content=task.answer,
            metrics=sum_metrics(m.metrics for m in own) | {"duration": round(duration, 3)},
            extra={"model": (member.model or {}).get("id")},
            created_at=member_started,
            updated_at=member_ended,
        )

    def workflow(self, chat: WorkflowChat) -> SessionBundle:
        component = self.components[chat.component]
        for script in chat.runs:
            started = self.clock
            run_id = self.next_run_id()
            self.add("user", script.input, run_id=run_id)
            for step, output in script.steps:
                self.tick(8, 60)
                self.add(
                    "assistant",
                    output,
                    run_id=run_id,
                    metrics=self.tokens(output),
                    extra={"step_name": step},
                )
            final = script.steps[-1][1]
            self.run(component.id, script.input, final, started, extra={"workflow": component.name})
            self.tick(600, 5_400)
        return self.finish(
            "workflow",
            component.id,
            component_data=_component_data(component, self.components),
            state=dict(chat.state) or None,
        )

    def finish(
        self,
        type_: SessionType,
        component_id: str,
        *,
        component_data: JSONObject | None = None,
        metadata: JSONObject | None = None,
        title: str | None = None,
        summary: Summary | None = None,
        state: JSONObject | None = None,
    ) -> SessionBundle:
        """The session row, with every derived field computed from its messages and runs."""
        limits = Limits()
        title = title or derive_title(
            (NewMessage(role=m.role, content=m.content) for m in self.messages),
            limits.max_title_chars,
        )
        if self.runs:
            metrics = sum_metrics(r.metrics for r in self.runs)
        else:
            metrics = sum_metrics(m.metrics for m in self.messages)
        last = self.messages[-1].created_at if self.messages else None
        updated = max(
            t for t in (self.start, last, summary.updated_at if summary else None) if t is not None
        )
        session = Session(
            id=self.session_id,
            user_id=self.user,
            type=type_,
            component_id=component_id,
            title=title,
            summary=summary,
            state=state,
            metadata=metadata,
            component_data=component_data,
            metrics=metrics,
            message_count=len(self.messages),
            run_count=len(self.runs),
            created_at=self.start,
            updated_at=updated,
            last_message_at=last,
        )
        return SessionBundle(session=session, runs=self.runs, messages=self.messages)


def _refs(chat: VideoChat, turn: VideoTurn) -> list[EvidenceRef]:
    """Cites grouped by video, in the order the videos are first cited."""
    refs: dict[int, EvidenceRef] = {}
    for cite in turn.cites:
        video = chat.videos[cite.video]
        ref = refs.setdefault(
            cite.video,
            EvidenceRef(
                source=EvidenceSource(
                    kind="video", id=video.id, name=video.name, duration=video.duration
                )
            ),
        )
        ref.items.append(
            EvidenceItem(kind=cite.kind, start=cite.start, end=cite.end, text=cite.text)
        )
    return list(refs.values())


def _component_data(component: Component, components: dict[str, Component]) -> JSONObject:
    """Agno's agent_data / team_data / workflow_data shape."""
    data: JSONObject = {"name": component.name, f"{component.type}_id": component.id}
    if component.model is not None:
        data["model"] = dict(component.model)
    if component.members:
        data["members"] = [{"agent_id": m, "name": components[m].name} for m in component.members]
    if component.steps:
        data["steps"] = [{"name": s} for s in component.steps]
    return data


def _json_text(value: JSONObject) -> str:
    return json.dumps(value, separators=(", ", ": "))


def _memories(scripts: tuple[MemoryScript, ...], now: datetime, seed: int) -> list[Memory]:
    rng = random.Random(f"convostore-demo-memories:{seed}")
    out = []
    for index, script in enumerate(scripts):
        created = now - _SPREAD * rng.random()
        updated = min(now, created + timedelta(days=rng.uniform(0, 3)))
        out.append(
            Memory(
                id=demo_id(index, node=_MEMORY_NODE),
                user_id=script.user,
                memory=script.memory,
                topics=list(script.topics),
                agent_id=script.agent_id,
                created_at=created,
                updated_at=updated,
            )
        )
    return out


# --- loading --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoLoad:
    """What `load_demo` wrote; sessions and memories already present are counted as skipped."""

    tenant: str
    sessions: int
    messages: int
    runs: int
    memories: int
    skipped_sessions: int
    skipped_memories: int


def load_demo(
    store: Store,
    tenant: str,
    *,
    sessions: int = DEFAULT_SESSIONS,
    seed: int = 0,
    now: datetime | None = None,
) -> DemoLoad:
    """Write the demo into `tenant`; running it again writes nothing new."""
    data = build_demo(now=now or utcnow(), sessions=sessions, seed=seed)
    store.ensure_tenant(tenant)
    new = [b for b in data.bundles if store.get_session(tenant, b.session.id) is None]
    written = store.import_sessions(tenant, new, on_conflict="skip")
    memories = 0
    for memory in data.memories:
        try:
            store.create_memory(tenant, memory)
            memories += 1
        except Conflict:
            continue
    return DemoLoad(
        tenant=tenant,
        sessions=len(written),
        messages=sum(len(b.messages) for b in written),
        runs=sum(len(b.runs) for b in written),
        memories=memories,
        skipped_sessions=len(data.bundles) - len(written),
        skipped_memories=len(data.memories) - memories,
    )
