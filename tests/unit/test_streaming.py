"""`server.streaming`: a body with streamed lists is the JSON the same body would be whole."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from convostore.models import Thinking
from convostore.server.json_wire import dumps
from convostore.server.streaming import JSONStream, Streamed


async def _chunks(*chunks: Sequence[Any]) -> AsyncIterator[Sequence[Any]]:
    for chunk in chunks:
        yield chunk


def _body(response: JSONStream) -> tuple[list[bytes], bytes]:
    async def collect() -> list[bytes]:
        return [bytes(piece) async for piece in response.body_iterator]  # type: ignore[arg-type]

    pieces = asyncio.run(collect())
    return pieces, b"".join(pieces)


def test_a_streamed_list_is_written_as_the_whole_list() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    items = [{"n": i, "at": when, "step": Thinking(title="t", content=str(i))} for i in range(7)]
    whole = {"object": "list", "data": items, "has_more": False}
    streamed = {
        "object": "list",
        "data": Streamed(items[:2], _chunks(items[2:3], [], items[3:7])),
        "has_more": False,
    }
    pieces, body = _body(JSONStream(streamed))
    assert body == dumps(whole)
    assert len(pieces) > 3  # sent as it was read, not gathered first


@pytest.mark.parametrize(
    "streamed, whole",
    [
        (Streamed(), []),
        (Streamed([]), []),
        (Streamed((), _chunks([], [])), []),
        (Streamed([1]), [1]),
        (Streamed((), _chunks(["a"], ["b", "c"])), ["a", "b", "c"]),
    ],
)
def test_edges(streamed: Streamed, whole: list[Any]) -> None:
    _, body = _body(JSONStream({"x": streamed, "y": [Streamed([None])]}))
    assert orjson.loads(body) == {"x": whole, "y": [[None]]}


def test_streamed_lists_nest_and_follow_each_other() -> None:
    runs = [
        {"id": "r1", "messages": Streamed([{"seq": 1}], _chunks([{"seq": 2}]))},
        {"id": "r2", "messages": Streamed()},
    ]
    body = {
        "runs": Streamed((), _chunks(runs[:1], runs[1:])),
        "then": Streamed(["z"]),
        "tail": 1,
    }
    _, text = _body(JSONStream(body))
    assert orjson.loads(text) == {
        "runs": [
            {"id": "r1", "messages": [{"seq": 1}, {"seq": 2}]},
            {"id": "r2", "messages": []},
        ],
        "then": ["z"],
        "tail": 1,
    }


def test_stored_text_cannot_forge_a_placeholder() -> None:
    """The placeholder token is random per response: text that looks like one stays text."""
    fake = '"convostore-streamed-00000000000000000000000000000000"'
    body = {"title": fake[1:-1], "items": Streamed(["a"]), "text": fake}
    _, text = _body(JSONStream(body))
    assert orjson.loads(text) == {"title": fake[1:-1], "items": ["a"], "text": fake}
