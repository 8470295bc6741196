"""The pure mapping between domain values and memories.ai JSON: golden documents, losslessness."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convostore.compat.memories_ai.envelope import envelope, error_code
from convostore.compat.memories_ai.mapping import (
    from_ref,
    from_video,
    render_duration,
    to_message,
    to_ref,
    to_session_detail,
    to_session_list,
    to_video,
)
from convostore.config import Limits
from convostore.errors import (
    Conflict,
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    RateLimited,
    Unauthenticated,
    Unavailable,
)
from convostore.importers.memories_ai import bundle_of
from convostore.models import EvidenceItem, EvidenceRef, EvidenceSource, Message, Session, Thinking
from convostore.server.compat.memories_ai.replies import render_error
from convostore.server.errors import InternalError, MethodNotAllowed, RequestInvalid
from tests.compat.memories_ai.conftest import golden

NOW = datetime(2025, 6, 1, tzinfo=UTC)
DETAIL_GOLDENS = [
    "get_session_detail_response.json",
    "get_session_detail_observed.json",
    "marketer_nested_refs.json",
]


def exact(value: Any) -> str:
    """JSON text with sorted keys: equal only if values *and* number types (1 vs 1.0) agree."""
    return json.dumps(value, sort_keys=True)


@pytest.mark.parametrize("name", DETAIL_GOLDENS)
def test_detail_documents_survive_import_and_rendering(name: str) -> None:
    data = golden(name)["data"]
    bundle = bundle_of(data, unique_id="u", limits=Limits())
    assert exact(to_session_detail(bundle.session, bundle.messages)) == exact(data)


def test_doc_example_is_read_into_first_class_evidence() -> None:
    data = golden("get_session_detail_response.json")["data"]
    assistant = bundle_of(data, unique_id="u", limits=Limits()).messages[1]
    assert [t.title for t in assistant.thinkings] == ["Information Retrieval"] * 2
    (ref,) = assistant.refs
    assert ref.source == EvidenceSource(
        kind="video",
        id="VI606140356924534784",
        name="test_video_gz_visual_understanding_fuse_s9_video_fuse_4_video_fuse_4",
        duration=10.0,
    )
    assert [(i.kind, i.start, i.end) for i in ref.items] == [
        ("keyframe", 23.0, None),
        ("visual_ts", 30.0, 36.0),
        ("audio_ts", 30.0, 36.0),
    ]
    assert all(i.extra == {} for i in ref.items)  # nothing left over: fully typed


def test_refs_inside_thinking_steps_stay_there() -> None:
    data = golden("marketer_nested_refs.json")["data"]
    assistant = bundle_of(data, unique_id="u", limits=Limits()).messages[1]
    assert assistant.refs == []
    nested = EvidenceRef.model_validate(assistant.thinkings[0].extra["refs"][0])
    meta = nested.items[0]
    assert meta.kind == "video_meta"
    assert meta.extra == {
        "title": None,
        "summary": None,
        "view_count": 120034,
        "like_count": 5120,
        "share_count": 88,
        "comment_count": 301,
    }


NATIVE_REFS = [
    EvidenceRef(
        source=EvidenceSource(id="VI1", name="clip", duration=10.0),
        items=[EvidenceItem(kind="keyframe", start=23.0)],
    ),
    EvidenceRef(
        source=EvidenceSource(kind="audio", id="AU9", duration=12.5, extra={"lang": "en"}),
        items=[
            EvidenceItem(kind="audio_ts", start=1.25, end=3.5, text="hello", extra={"conf": 0.9})
        ],
    ),
    EvidenceRef(source=EvidenceSource(kind="document", id="D1"), items=[]),
]


@pytest.mark.parametrize("ref", NATIVE_REFS)
def test_native_evidence_round_trips(ref: EvidenceRef) -> None:
    assert from_ref(to_ref(ref)) == ref


def test_native_evidence_renders_as_memories_ai_expects() -> None:
    assert to_ref(NATIVE_REFS[1]) == {
        "video": {
            "duration": "12.5",
            "video_no": "AU9",
            "kind": "audio",
            "lang": "en",
        },
        "refItems": [
            {
                "videoNo": "AU9",
                "startTime": 1.25,
                "endTime": 3.5,
                "type": "audio_ts",
                "text": "hello",
                "conf": 0.9,
            }
        ],
    }


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("10", 10.0),
        ("10.5", 10.5),
        ("10.0", 10.0),
        (" 7", 7.0),
        ("1:30", None),
        ("", None),
        (10, 10.0),
        (None, None),
        (12.5, 12.5),
    ],
)
def test_durations_keep_their_exact_original_form(raw: Any, parsed: float | None) -> None:
    video = {"video_no": "V", "duration": raw}
    source = from_video(video)
    assert source.duration == parsed
    canonical = parsed is not None and render_duration(parsed) == raw
    assert ("duration" in source.extra) is (not canonical)
    assert exact(to_video(source)) == exact(video)


def test_item_of_another_video_and_missing_keys_are_kept() -> None:
    ref = {
        "video": {"video_no": "V1"},
        "refItems": [
            {"videoNo": "V2", "startTime": 23.0, "type": "keyframe"},
            {"startTime": 1},
            {"videoNo": "V1", "type": "x", "endTime": None},
        ],
    }
    assert exact(to_ref(from_ref(ref))) == exact(ref)
    assert from_ref(ref).items[0].extra == {"videoNo": "V2", "startTime": 23.0}


json_values = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=4)
    | st.lists(st.integers(), max_size=2)
)
numbers = st.integers(-(10**20), 10**20) | st.floats(allow_nan=False, allow_infinity=False)
UNKNOWN_KEYS = ["kind", "title", "view_count", "summary"]


@st.composite
def foreign_object(draw: st.DrawFn, known: dict[str, st.SearchStrategy[Any]]) -> dict[str, Any]:
    """An object with any subset of the known keys and a few unknown ones, any JSON values."""
    out: dict[str, Any] = {}
    for key in draw(st.lists(st.sampled_from(UNKNOWN_KEYS), max_size=2, unique=True)):
        out[key] = draw(json_values | st.sampled_from(["video", "audio", ""]))
    for key, values in known.items():
        if draw(st.booleans()):
            out[key] = draw(values)
    return out


videos = foreign_object(
    {
        "video_no": st.sampled_from(["V", "W"]) | st.integers(),
        "video_name": json_values,
        "duration": st.sampled_from(["10", "10.5", "10.0", "1:30"]) | numbers | json_values,
    }
)
items = foreign_object(
    {
        "videoNo": st.sampled_from(["V", "W"]) | st.integers(),
        "startTime": numbers | json_values,
        "endTime": numbers | json_values,
        "type": st.sampled_from(["keyframe", "audio_ts"]) | json_values,
        "text": json_values,
    }
)
refs = foreign_object({"video": videos | json_values, "refItems": st.lists(items, max_size=3)})


@given(refs)
def test_any_memories_ai_ref_round_trips_exactly(ref: dict[str, Any]) -> None:
    assert exact(to_ref(from_ref(ref))) == exact(ref)


def _message(seq: int, role: str, content: str, **fields: Any) -> Message:
    return Message(
        session_id="1", seq=seq, id=str(seq), role=role, content=content, created_at=NOW, **fields
    )


def test_only_conversation_messages_are_shown() -> None:
    session = Session(id="42", user_id="u", type="agent", title="t", created_at=NOW, updated_at=NOW)
    messages = [
        _message(1, "system", "be brief"),
        _message(2, "user", "old", from_history=True),
        _message(3, "user", "hi"),
        _message(4, "assistant", "", tool_calls=[{"id": "c1"}]),
        _message(5, "tool", "42"),
        _message(6, "assistant", "done", thinkings=[Thinking(title="a", content="b")]),
    ]
    assert to_session_detail(session, messages) == {
        "title": "t",
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": ""},
            {"role": "assistant", "content": "done", "thinkings": [{"title": "a", "content": "b"}]},
        ],
        "session_id": "42",
    }
    assert to_message(messages[0]) is None


def test_list_data_has_the_documented_types() -> None:
    session = Session(id="7", user_id="u", type="agent", title="x", created_at=NOW, updated_at=NOW)
    assert to_session_list([session], page=2, total=21) == {
        "sessions": [{"sessionId": "7", "title": "x"}],
        "current_page": 2,
        "page_size": 20,
        "total_count": "21",
    }


def test_malformed_documents_are_invalid_requests() -> None:
    for bad in (
        {"title": "no id", "messages": []},
        {"session_id": "1", "messages": "nope"},
        {"session_id": "1", "messages": [{"role": "wizard", "content": "x"}]},
        {"session_id": "1", "messages": [{"role": "assistant", "refs": ["x"]}]},
        {
            "session_id": "1",
            "messages": [{"role": "assistant", "refs": [{"video": {"video_no": "v" * 129}}]}],
        },
    ):
        with pytest.raises(InvalidRequest):
            bundle_of(bad, unique_id="u", limits=Limits())


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (NotFound("gone"), "0001"),
        (InvalidRequest("bad"), "0003"),
        (RequestInvalid("bad", [], None), "0003"),
        (PayloadTooLarge("big"), "0003"),
        (MethodNotAllowed("POST"), "0003"),
        (Unauthenticated("key"), "0401"),
        (PermissionDenied("no"), "9009"),
        (Conflict("twice"), "0409"),
        (RateLimited("slow down", retry_after=2.4), "0429"),
        (Unavailable("db"), "0001"),
        (InternalError("boom"), "0001"),
    ],
)
def test_every_error_becomes_an_envelope(error: Any, code: str) -> None:
    response = render_error(error)
    assert response.status_code == 200
    body = json.loads(bytes(response.body))
    assert body == envelope(None, code=code, msg=error_code(error)[1])
    assert body["success"] is False and body["failed"] is True
    if code == "0429":
        assert body["msg"] == "Request has exceeded the limit."
        assert response.headers["retry-after"] == "2"
    if code == "0001" and error.status >= 500:
        assert "try again" in body["msg"]  # the message memories.ai clients retry on
