"""`json_wire` writes a domain value as its fields: exactly what `model_dump()` would give."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from convostore.models import (
    EvidenceItem,
    EvidenceRef,
    EvidenceSource,
    Message,
    Thinking,
    Value,
)
from convostore.server.json_wire import OPTIONS, dumps
from convostore.server.native.schemas import message_json


def _all_values(cls: type[Value] = Value) -> list[type[Value]]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_all_values(sub))
    return found


def test_every_domain_value_keeps_exactly_its_fields_in_its_dict() -> None:
    """What makes `__dict__` equal to `model_dump()`: no extra fields, no aliases, no custom
    serializers or computed fields on any domain value."""
    values = _all_values()
    assert Message in values and EvidenceRef in values
    for cls in values:
        assert cls.model_config.get("extra") == "forbid", cls
        decorators = cls.__pydantic_decorators__
        assert not decorators.field_serializers, cls
        assert not decorators.model_serializers, cls
        assert not decorators.computed_fields, cls
        for name, field in cls.model_fields.items():
            assert field.serialization_alias is None and field.alias is None, (cls, name)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
floats = st.floats(allow_nan=False, allow_infinity=False, width=64)
items = st.builds(
    EvidenceItem,
    kind=st.sampled_from(["keyframe", "transcript"]),
    start=floats,
    end=st.none() | floats,
    text=st.none() | st.text(max_size=20),
    extra=st.dictionaries(st.text(max_size=5), json_values, max_size=2),
)
refs = st.builds(
    EvidenceRef,
    source=st.builds(
        EvidenceSource,
        id=st.text(min_size=1, max_size=10),
        name=st.none() | st.text(max_size=10),
        duration=st.none() | floats,
    ),
    items=st.lists(items, max_size=3),
)
messages = st.builds(
    Message,
    session_id=st.just("s"),
    seq=st.integers(1, 10**6),
    id=st.text(min_size=1, max_size=10),
    role=st.sampled_from(["user", "assistant"]),
    content=st.text(max_size=50),
    thinkings=st.lists(
        st.builds(Thinking, title=st.text(max_size=10), content=st.text(max_size=20)), max_size=3
    ),
    refs=st.lists(refs, max_size=2),
    created_at=st.datetimes(timezones=st.just(UTC)),
)


def _dumped(m: Message) -> dict[str, Any]:
    body = message_json(m)
    body["thinkings"] = [t.model_dump() for t in m.thinkings]
    body["refs"] = [r.model_dump() for r in m.refs]
    return body


@given(messages)
def test_a_message_is_written_as_its_model_dump(message: Message) -> None:
    assert dumps(message_json(message)) == orjson.dumps(_dumped(message), option=OPTIONS)


def test_text_orjson_refuses_is_still_written_with_the_values_fields() -> None:
    ref = EvidenceRef(source=EvidenceSource(id="v"), items=[EvidenceItem(kind="k", start=1.0)])
    body = {"bad": "\ud800", "big": 2**70, "refs": [ref], "at": datetime(2026, 1, 1, tzinfo=UTC)}
    decoded = json.loads(dumps(body))
    assert decoded["refs"] == [ref.model_dump()] and decoded["big"] == 2**70
