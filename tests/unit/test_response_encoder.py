"""Native response bodies are compiled from the response models that document them: each body has
the model's fields, in its order, and reads back as the model."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

import pytest
from pydantic import BaseModel

from convostore.demo import build_demo
from convostore.models import ApiKey, Memory, MemorySource, Message, Summary, UserErasure
from convostore.server.json_wire import dumps
from convostore.server.native import schemas
from convostore.server.response_encoder import response_encoder

NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)


def _cases() -> list[tuple[type[BaseModel], dict[str, Any]]]:
    demo = build_demo(now=NOW, sessions=9)
    bundle = next(b for b in demo.bundles if b.runs)
    session = bundle.session.model_copy(
        update={"summary": Summary(text="a cat", topics=["cats"], covers_through_seq=2)}
    )
    messages = [schemas.message_json(m) for m in bundle.messages]
    key = ApiKey(id="k1", tenant_id="t", role="read", name="ci", created_at=NOW)
    memory = demo.memories[0].model_copy(update={"source": MemorySource(session_id="s", seqs=[1])})
    return [
        (schemas.SessionItemOut, schemas.session_item_json(session)),
        (schemas.SessionOut, schemas.session_json(session)),
        (schemas.MessageOut, messages[0]),
        (schemas.MessageListOut, schemas.list_json(messages, True, "3")),
        (schemas.RunOut, schemas.run_json(bundle.runs[0], bundle.messages)),
        (schemas.KeyOut, schemas.key_json(key, "secret")),
        (schemas.MemoryOut, schemas.memory_json(memory)),
        (
            schemas.ErasureOut,
            schemas.erasure_json(
                UserErasure(user_id="u", sessions=1, runs=0, messages=2, memories=3)
            ),
        ),
    ]


CASES = _cases()


@pytest.mark.parametrize(("model", "body"), CASES, ids=[model.__name__ for model, _ in CASES])
def test_a_body_has_its_models_fields_in_order_and_reads_back_as_it(
    model: type[BaseModel], body: dict[str, Any]
) -> None:
    assert list(body) == list(model.model_fields)
    model.model_validate_json(dumps(body))


def test_optional_parts_are_left_to_the_caller() -> None:
    key = ApiKey(id="k1", tenant_id="t", role="read", created_at=NOW)
    assert "key" not in schemas.key_json(key)
    run = next(b for b in build_demo(now=NOW, sessions=9).bundles if b.runs).runs[0]
    assert "messages" not in schemas.run_json(run)


def test_a_field_the_domain_value_lacks_is_refused_when_the_encoder_is_built() -> None:
    class Out(BaseModel):
        object: Literal["memory"] = "memory"
        id: str
        nickname: str

    with pytest.raises(ValueError, match="nickname"):
        response_encoder(Out, Memory)
    encode = response_encoder(Out, Memory, renamed={"nickname": "memory"})
    memory = Memory(id="m1", user_id="u", memory="likes tea", created_at=NOW, updated_at=NOW)
    assert encode(memory) == {"object": "memory", "id": "m1", "nickname": "likes tea"}
    with pytest.raises(ValueError, match="unknown_field"):
        response_encoder(Out, Message, left_out=("unknown_field",))
