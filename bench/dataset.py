"""Deterministic benchmark data: sessions of video-chat and agent turns, built as table rows.

Every session has `turns` runs; each run is one user message and one assistant message (with
reasoning steps, one evidence reference and token metrics). Rows carry exactly the columns and
derived fields the store writes on append (title from the first user message, counts, `last_seq`,
metric roll-ups, one evidence row per cited source), so the server cannot tell seeded sessions
from recorded ones. Text comes from pools built once, so generating a row is a few index lookups.

Rows are tuples in the column order of `COLUMNS`, with JSON columns already serialised: the
writers in `bench.seed` hand them to the database driver as they are.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import orjson

from convostore.ids import EPOCH_MS
from convostore.models import EvidenceItem, EvidenceRef, EvidenceSource, Thinking
from convostore.rules import folded

TENANT = "default"
BASE_US = 1_735_689_600_000_000  # 2025-01-01T00:00:00Z
SPAN_US = 300 * 86_400 * 1_000_000  # sessions are spread over 300 days
TURN_GAP_US = 40 * 1_000_000
_NODE_SESSION, _NODE_MESSAGE, _NODE_RUN = 901, 902, 903

COLUMNS: dict[str, tuple[str, ...]] = {
    "sessions": (
        "tenant_id", "id", "user_id", "type", "component_id", "title", "summary", "state",
        "metadata", "component_data", "extra", "metrics", "message_count", "run_count",
        "last_seq", "created_at", "updated_at", "last_message_at", "title_folded",
    ),
    "runs": (
        "tenant_id", "session_id", "id", "run_index", "parent_run_id", "component_id", "user_id",
        "status", "input", "content", "metrics", "extra", "created_at", "updated_at",
    ),
    "messages": (
        "tenant_id", "session_id", "seq", "id", "run_id", "role", "content", "thinkings", "refs",
        "tool_calls", "metrics", "from_history", "extra", "created_at",
    ),
    "evidence": (
        "tenant_id", "source_id", "session_id", "seq", "ref_index", "source_kind", "start_min",
        "end_max",
    ),
}  # fmt: skip

TOPICS = (
    "onboarding", "pricing", "invoice", "refund", "warehouse", "forklift", "recipe", "garden",
    "kitchen", "parking", "soccer", "concert", "wedding", "lecture", "interview", "keynote",
    "traffic", "drone", "aquarium", "museum", "marathon", "hiking", "skiing", "surfing",
    "birthday", "graduation", "unboxing", "repair", "plumbing", "painting", "knitting", "chess",
    "basketball", "tennis", "cycling", "camping", "fishing", "baking", "yoga", "dance",
    "podcast", "webinar", "hackathon", "standup", "retrospective", "demo", "tutorial", "review",
    "security", "inventory",
)  # fmt: skip
_OPENERS = (
    "Can you find the moment in the", "What happens in the", "Summarise the",
    "Where does the speaker mention the", "Show me every clip about the", "Why did the",
    "List the key points of the", "Who appears in the", "When does the", "Compare the two",
)  # fmt: skip
_DETAILS = (
    "video from last week", "recording my team uploaded yesterday", "footage, especially the part "
    "near the end where the lighting changes", "clip and tell me what the people are discussing",
    "session; I need timestamps for the report", "stream, with a short list of the main events",
    "upload and whether anything unusual happens", "video, including what was said about costs "
    "and the next steps agreed by everyone in the room",
)  # fmt: skip
_SENTENCES = (
    "The relevant part starts a little after the two-minute mark, when the camera pans left.",
    "Two people discuss the schedule and agree to meet again on Thursday morning.",
    "A presenter walks through three slides and pauses to answer a question from the audience.",
    "The audio is clear, and the speaker repeats the main figure twice for emphasis.",
    "Nothing unusual happens in the first half; the second half has the interesting moments.",
    "I found four clips that match, listed below with their start and end times.",
    "The lighting changes at the end because someone opens the large door at the back.",
    "Costs come up once: the estimate was revised upward after the supplier call.",
    "The next steps were to send the summary, book the room and review the footage again.",
    "Based on the transcript and the keyframes, the answer is most likely the second option.",
)  # fmt: skip
_AGENTS = ("video-chat", "support-agent", "research-agent", "sales-agent", "ops-agent")


def _user_text(k: int) -> str:
    topic = TOPICS[k % len(TOPICS)]
    opener = _OPENERS[(k // len(TOPICS)) % len(_OPENERS)]
    detail = _DETAILS[(k * 7) % len(_DETAILS)]
    return f"{opener} {topic} {detail}"


def _assistant_text(k: int) -> str:
    count = 2 + k % 7  # roughly 170 to 700 characters
    return " ".join(_SENTENCES[(k + i * 3) % len(_SENTENCES)] for i in range(count))


def _dump(value: Any) -> str:
    return orjson.dumps(value).decode()


@dataclass(frozen=True)
class Pools:
    """Serialised text and JSON values that rows pick from by index."""

    user: tuple[str, ...]
    assistant: tuple[str, ...]
    run_content: tuple[str, ...]
    thinkings: tuple[str, ...]
    refs: tuple[str, ...]
    ref_spans: tuple[tuple[str, float, float], ...]  # source id, start_min, end_max
    metrics: tuple[tuple[str, dict[str, int]], ...]
    component_data: dict[str, str]


def build_pools(size: int = 997) -> Pools:
    """Pools of prime length, so index arithmetic spreads evenly over them."""
    user = tuple(_user_text(k) for k in range(size))
    assistant = tuple(_assistant_text(k) for k in range(size))
    thinkings = tuple(
        _dump(
            [
                Thinking(
                    title=f"Step {j + 1}", content=_SENTENCES[(k + j) % len(_SENTENCES)]
                ).model_dump(mode="json")
                for j in range(1 + k % 3)
            ]
        )
        for k in range(size)
    )
    refs, spans = [], []
    for k in range(size):
        start = float((k * 13) % 3000)
        items = [
            EvidenceItem(kind="keyframe", start=start),
            EvidenceItem(kind="visual_ts", start=start + 2.0, end=start + 9.5, text="a person"),
            EvidenceItem(kind="audio_ts", start=start + 4.0, end=start + 12.0, text="we agreed"),
        ][: 1 + k % 3]
        source = EvidenceSource(kind="video", id=f"video-{k:04d}", name=f"clip {k}.mp4")
        ref = EvidenceRef(source=source, items=items)
        refs.append(_dump([ref.model_dump(mode="json")]))
        ends = [i.end if i.end is not None else i.start for i in items]
        spans.append((source.id, min(i.start for i in items), max(ends)))
    metrics = []
    for k in range(size):
        values = {"input_tokens": 400 + (k * 37) % 3000, "output_tokens": 60 + (k * 11) % 600}
        values["total_tokens"] = values["input_tokens"] + values["output_tokens"]
        if k % 4 == 0:
            values["reasoning_tokens"] = 20 + k % 200
        metrics.append((_dump(values), values))
    component_data = {
        agent: _dump({"name": agent.replace("-", " ").title(), "model": {"provider": "OpenAI",
                                                                          "id": "gpt-4o-mini"}})
        for agent in _AGENTS
    }  # fmt: skip
    return Pools(
        user=user,
        assistant=assistant,
        run_content=tuple(_dump(text) for text in assistant),
        thinkings=thinkings,
        refs=tuple(refs),
        ref_spans=tuple(spans),
        metrics=tuple(metrics),
        component_data=component_data,
    )


@dataclass(frozen=True)
class Spec:
    """What a data set is; a cached one is reused only when its spec is equal."""

    sessions: int
    turns: int = 10  # runs per session; two messages each
    users: int = 100
    version: int = 1  # bump when the generator changes

    def key(self) -> dict[str, int]:
        return asdict(self)


def session_id(spec: Spec, i: int) -> str:
    """A time-ordered 64-bit id, laid out as `convostore.ids` lays out generated ones."""
    return _id(created_us(spec, i), _NODE_SESSION, i)


def user_of(i: int, users: int) -> str:
    return f"user-{(i * 7919) % users:03d}"


def created_us(spec: Spec, i: int) -> int:
    """Sessions are created in index order, evenly over the span, with a little jitter."""
    step = SPAN_US // spec.sessions
    return BASE_US + i * step + (i * 7_919_000) % (step // 2)


def _id(micros: int, node: int, seq: int) -> str:
    ms = micros // 1000 - EPOCH_MS
    return str((ms << 22) | (node << 12) | (seq & 0xFFF))


def updated_us(spec: Spec, i: int) -> int:
    """When session `i` last changed: its last assistant message."""
    return created_us(spec, i) + (spec.turns - 1) * TURN_GAP_US + 9_000_000


def session_type(i: int) -> str:
    return "team" if i % 29 == 0 else "workflow" if i % 31 == 0 else "agent"


@dataclass
class Batch:
    sessions: list[tuple[Any, ...]]
    runs: list[tuple[Any, ...]]
    messages: list[tuple[Any, ...]]
    evidence: list[tuple[Any, ...]]


def batches(spec: Spec, pools: Pools, size: int) -> Iterator[Batch]:
    """All rows of the data set, `size` sessions at a time, in session-id (= index) order."""
    for start in range(0, spec.sessions, size):
        batch = Batch([], [], [], [])
        for i in range(start, min(start + size, spec.sessions)):
            _session(spec, pools, i, batch)
        yield batch


def _session(spec: Spec, p: Pools, i: int, out: Batch) -> None:
    sid = session_id(spec, i)
    user = user_of(i, spec.users)
    kind = session_type(i)
    agent = _AGENTS[i % len(_AGENTS)]
    created = created_us(spec, i)
    n = len(p.user)
    totals: dict[str, int] = {}
    title = ""
    at = created
    for turn in range(spec.turns):
        k = (i * 31 + turn * 7) % n
        at = created + turn * TURN_GAP_US
        answered = at + 9_000_000
        rid = _id(at, _NODE_RUN, i * spec.turns + turn)
        user_text = p.user[k]
        if turn == 0:
            title = user_text.strip()[:1000]
        metrics_json, metrics = p.metrics[(k * 3 + i) % n]
        for key, value in metrics.items():
            totals[key] = totals.get(key, 0) + value
        seq = turn * 2 + 1
        out.messages.append(
            (TENANT, sid, seq, _id(at, _NODE_MESSAGE, seq), rid, "user", user_text,
             None, None, None, None, False, None, at)
        )  # fmt: skip
        ref_k = (k + i) % n
        out.messages.append(
            (TENANT, sid, seq + 1, _id(answered, _NODE_MESSAGE, seq + 1), rid, "assistant",
             p.assistant[k], p.thinkings[ref_k], p.refs[ref_k], None, metrics_json, False, None,
             answered)
        )  # fmt: skip
        source_id, start_min, end_max = p.ref_spans[ref_k]
        out.evidence.append((TENANT, source_id, sid, seq + 1, 0, "video", start_min, end_max))
        out.runs.append(
            (TENANT, sid, rid, turn, None, agent, user, "COMPLETED", user_text, p.run_content[k],
             metrics_json, None, at, answered)
        )  # fmt: skip
    last = updated_us(spec, i)
    count = spec.turns * 2
    out.sessions.append(
        (TENANT, sid, user, kind, agent, title, None, None, None, p.component_data[agent], None,
         _dump(totals), count, spec.turns, count, created, last, last, folded(title))
    )  # fmt: skip
