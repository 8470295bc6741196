"""The benchmark cases: which requests each one sends, and what the issue's targets say of it.

Request targets are picked from the seeded data set without querying it: `bench.dataset` computes
any session's id, user and last update from its index. Reads rotate through a few hundred
sessions spread over the whole data set (agent sessions only, so every surface can read them).
Appends go to a fixed set of `bench-append-NN` sessions created by the harness, rotating so that
no single row is hot, and so the seeded sessions stay as seeded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench.dataset import TOPICS, Spec, session_id, session_type, updated_us, user_of
from bench.load import Requests
from convostore.cursors import Cursor, encode_cursor

APPEND_TARGETS = tuple(f"bench-append-{k:02d}" for k in range(64))
# Search needs words the generated text never holds: NEEDLE_WORDS, each in NEEDLE_COPIES messages
# of NEEDLE_SESSIONS, which the harness appends before the search cases and deletes after.
NEEDLE_SESSIONS = tuple(f"bench-needle-{k:02d}" for k in range(20))
NEEDLE_WORDS = tuple(f"quillwort{k:02d}" for k in range(20))
NEEDLE_COPIES = 25
# words of the generated assistant text: each in millions of messages of the 1M data set
COMMON_WORDS = (
    "camera", "schedule", "slides", "audience", "emphasis", "clips", "lighting", "supplier",
    "footage", "keyframes",
)  # fmt: skip
PICKS = 400
_FILLER = "x" * 160  # message content is about 200 characters


@dataclass(frozen=True)
class Case:
    name: str
    surface: str  # native | memories.ai | agno
    describe: str
    build: Callable[[Spec], Requests]
    write: bool = False
    needles: bool = False  # the harness adds NEEDLE_SESSIONS first (and drops them after)
    messages_per_request: int = 0
    native_equivalent: str | None = None  # compat cases are compared with this native case


@dataclass(frozen=True)
class Pick:
    id: str
    user: str
    updated_us: int


def picks(spec: Spec, count: int = PICKS) -> list[Pick]:
    """Agent sessions spread evenly over the data set."""
    step = max(spec.sessions // count, 1)
    chosen = []
    for i in range(0, spec.sessions, step):
        j = i if session_type(i) == "agent" else (i + 1) % spec.sessions
        while session_type(j) != "agent":
            j = (j + 1) % spec.sessions
        chosen.append(Pick(session_id(spec, j), user_of(j, spec.users), updated_us(spec, j)))
    return chosen[:count]


def _paths(template: str, spec: Spec) -> tuple[str, ...]:
    return tuple(template.format(id=p.id, user=p.user) for p in picks(spec))


def _users(template: str, spec: Spec) -> tuple[str, ...]:
    return tuple(template.format(user=f"user-{u:03d}") for u in range(spec.users))


def _deep_cursors(spec: Spec) -> tuple[str, ...]:
    """Cursors in the older half of the newest-first list: pages far from the first."""
    deep = [p for p in picks(spec) if p.updated_us <= updated_us(spec, spec.sessions // 2)]
    return tuple(
        "/v1/sessions?limit=20&after="
        + encode_cursor(Cursor(sort="updated_at", order="desc", key=p.updated_us, id=p.id))
        for p in deep
    )


def _append(batch: int) -> Callable[[Spec], Requests]:
    def build(_spec: Spec) -> Requests:
        roles = ("user", "assistant")
        rest = "".join(
            f',{{"role":"{roles[k % 2]}","content":"message {k} {_FILLER}"}}'
            for k in range(1, batch)
        )
        return Requests(
            method="POST",
            paths=tuple(f"/v1/sessions/{t}/messages" for t in APPEND_TARGETS),
            body_head='{"messages":[{"role":"user","content":"append ',
            body_tail=f' {_FILLER}"}}{rest}]}}',
        )

    return build


def needle_messages(k: int) -> list[dict[str, str]]:
    """The messages of NEEDLE_SESSIONS[k]: NEEDLE_COPIES of them across all sessions per word."""
    per = len(NEEDLE_WORDS) * NEEDLE_COPIES // len(NEEDLE_SESSIONS)
    return [
        {
            "role": "user" if j % 2 == 0 else "assistant",
            "content": f"Note {j}: the {NEEDLE_WORDS[(k + j) % len(NEEDLE_WORDS)]} costs {_FILLER}",
        }
        for j in range(per)
    ]


def _video_spans(spec: Spec) -> tuple[str, ...]:
    """A search for words of cited transcript lines, within one video and a span of it: the
    sources (and spans) `bench.dataset` cites whose items say "we agreed"."""
    paths = []
    for k in range(2, 997, 3 * 11):
        start = float((k * 13) % 3000)
        paths.append(
            f"/v1/search?q=agreed&source_id=video-{k:04d}&start={start + 5}&end={start + 8}"
            "&limit=20"
        )
    return tuple(paths)


def _get(paths: Callable[[Spec], tuple[str, ...]]) -> Callable[[Spec], Requests]:
    return lambda spec: Requests(method="GET", paths=paths(spec))


CASES: tuple[Case, ...] = (
    Case("list_first", "native", "GET /v1/sessions?limit=20 (newest first)",
         _get(lambda s: ("/v1/sessions?limit=20",))),
    Case("list_user", "native", "GET /v1/sessions?user_id=U&limit=20, over 100 users",
         _get(lambda s: _users("/v1/sessions?user_id={user}&limit=20", s))),
    Case("list_deep_cursor", "native", "GET /v1/sessions?limit=20&after=C, C in the older half",
         _get(_deep_cursors)),
    Case("search_title", "native", "GET /v1/sessions?q=WORD&limit=20 (title substring)",
         _get(lambda s: tuple(f"/v1/sessions?q={t}&limit=20" for t in TOPICS))),
    Case("detail_20", "native", "GET /v1/sessions/ID?include_messages=20",
         _get(lambda s: _paths("/v1/sessions/{id}?include_messages=20", s))),
    Case("messages_page", "native", "GET /v1/sessions/ID/messages?limit=20",
         _get(lambda s: _paths("/v1/sessions/{id}/messages?limit=20", s))),
    Case("mai_list", "memories.ai", "GET /serve/api/v1/list_sessions?unique_id=U (page 1)",
         _get(lambda s: _users("/serve/api/v1/list_sessions?unique_id={user}", s)),
         native_equivalent="list_user"),
    Case("mai_detail", "memories.ai", "GET /serve/api/v1/get_session_detail?sessionId=ID",
         _get(lambda s: _paths(
             "/serve/api/v1/get_session_detail?sessionId={id}&unique_id={user}", s)),
         native_equivalent="detail_20"),
    Case("agno_list", "agno", "GET /sessions?type=agent&limit=20",
         _get(lambda s: ("/sessions?type=agent&limit=20",)), native_equivalent="list_first"),
    Case("agno_detail", "agno", "GET /sessions/ID (with its chat history)",
         _get(lambda s: _paths("/sessions/{id}", s)), native_equivalent="detail_20"),
    Case("agno_runs", "agno", "GET /sessions/ID/runs (10 runs with their messages)",
         _get(lambda s: _paths("/sessions/{id}/runs", s)), native_equivalent="detail_20"),
    Case("search_selective", "native", "GET /v1/search?q=W&limit=20, W in 25 messages",
         _get(lambda s: tuple(f"/v1/search?q={w}&limit=20" for w in NEEDLE_WORDS)),
         needles=True),
    Case("search_common", "native", "GET /v1/search?q=W&limit=20, W in millions of messages",
         _get(lambda s: tuple(f"/v1/search?q={w}&limit=20" for w in COMMON_WORDS))),
    Case("search_user", "native", "GET /v1/search?q=W&user_id=U&limit=20, over 100 users",
         _get(lambda s: tuple(
             f"/v1/search?q={COMMON_WORDS[u % len(COMMON_WORDS)]}&user_id=user-{u:03d}&limit=20"
             for u in range(s.users)))),
    Case("search_video", "native",
         "GET /v1/search?q=agreed&source_id=V&start=S&end=E (a span of one video)",
         _get(_video_spans)),
    Case("append_1", "native", "POST /v1/sessions/T/messages, 1 message, over 64 sessions",
         _append(1), write=True, messages_per_request=1),
    Case("append_100", "native", "POST /v1/sessions/T/messages, 100 messages, over 64 sessions",
         _append(100), write=True, messages_per_request=100),
)  # fmt: skip

BY_NAME = {case.name: case for case in CASES}
