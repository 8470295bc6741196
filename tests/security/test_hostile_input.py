"""Hostile input on all three surfaces: every answer is a 4xx in the surface's convention (the
envelope's error code for memories.ai), never a 5xx, and the database is byte-for-byte unchanged.

Searches must treat SQL and LIKE metacharacters literally: the expected results are computed in
Python from the seeded values, so a pattern that widens a match fails as surely as a crash.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from convostore.auth import KeyService
from convostore.storage import SqlStore
from tests.conftest import bearer
from tests.security.conftest import error_problem, make_client, snapshot, surface_of

MAX_BODY = 64 * 1024
TITLES = ["100% sure", "snake_case title", "back\\slash", 'say "hi"', "O'Brien's", "plain words"]
META = ["' OR 1=1 --", "%", "_", "\\", '"', "'", "%%", "a%b", "\\%", "*", "?", ";", "--", "/*"]
ABSURD = ["0", "-1", str(10**30), "NaN", "1e3", "", "1.5", "0x10", " 7", "∞"]


@dataclass
class Hostile:
    client: TestClient
    store: SqlStore
    headers: dict[str, str]

    def send(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send, and fail on a 5xx or on any change to the database."""
        before = snapshot(self.store)
        headers = {**self.headers, **kwargs.pop("headers", {})}
        response = self.client.request(method, path, headers=headers, **kwargs)
        assert response.status_code < 500, f"{method} {path}: {response.text[:300]}"
        assert snapshot(self.store) == before, f"{method} {path} changed the database"
        return response

    def refused(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send, and require an error in the path's surface convention."""
        response = self.send(method, path, **kwargs)
        problem = error_problem(surface_of(path), response)
        assert problem is None, f"{method} {path} {kwargs}: {problem}"
        return response


@pytest.fixture(scope="module")
def hostile(module_store: SqlStore, module_database_url: str) -> Iterator[Hostile]:
    key = KeyService(module_store).create("acme", "admin").key
    settings = {
        "max_body_bytes": MAX_BODY,
        "max_title_chars": 200,
        "max_content_chars": 20_000,
        "max_json_bytes": 8_000,
    }
    with make_client(module_store, module_database_url, **settings) as client:
        headers = bearer(key)
        for index, title in enumerate(TITLES):
            response = client.post(
                f"/v1/sessions/meta-{index}/messages",
                json={
                    "messages": [{"role": "user", "content": title}],
                    "create_if_missing": True,
                    "session": {"title": title, "user_id": "u1", "component_id": "agent-1"},
                },
                headers=headers,
            )
            assert response.status_code == 201, response.text
            response = client.post(
                "/v1/memories",
                json={"id": f"mem-{index}", "memory": title, "user_id": "u1", "topics": [title]},
                headers=headers,
            )
            assert response.status_code == 201, response.text
        yield Hostile(client, module_store, headers)


def _raw_json(hostile: Hostile, method: str, path: str, raw: bytes, **kwargs: Any) -> Any:
    headers = {"Content-Type": "application/json"}
    return hostile.refused(method, path, content=raw, headers=headers, **kwargs)


# Routes that take a JSON body, with a valid body to corrupt.
JSON_WRITES: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/v1/sessions", {"title": "t"}),
    ("PATCH", "/v1/sessions/meta-0", {"title": "t"}),
    ("POST", "/v1/sessions/meta-0/messages", {"messages": [{"role": "user", "content": "t"}]}),
    ("POST", "/v1/sessions/meta-0/runs", {"input": "t"}),
    ("POST", "/v1/memories", {"memory": "t", "user_id": "u1"}),
    ("PUT", "/v1/memories/mem-0", {"memory": "t", "user_id": "u1"}),
    ("POST", "/v1/keys", {"role": "read", "name": "t"}),
    (
        "POST",
        "/v1/import/memories-ai",
        {"unique_id": "t", "sessions": [{"session_id": "x", "messages": []}]},
    ),
    ("POST", "/sessions", {"session_name": "t", "user_id": "u1"}),
    ("PATCH", "/sessions/meta-0", {"session_name": "t"}),
    ("POST", "/sessions/meta-0/rename", {"session_name": "t"}),
    ("POST", "/memories", {"memory": "t", "user_id": "u1"}),
    ("PATCH", "/memories/mem-0", {"memory": "t", "user_id": "u1"}),
]


# --- bodies -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "body"), JSON_WRITES)
def test_oversized_body_is_413(hostile: Hostile, method: str, path: str, body: Any) -> None:
    big = {**body, "padding": "x" * (MAX_BODY + 10)}
    response = hostile.refused(method, path, json=big)
    assert response.status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        yield b'{"padding": "'
        for _ in range(MAX_BODY // 1000 + 2):
            yield b"y" * 1000
        yield b'"}'

    response = hostile.refused(
        method, path, content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413


def test_memories_ai_oversized_body_is_an_envelope_error(hostile: Hostile) -> None:
    for name in ("list_sessions", "get_session_detail"):
        body = json.dumps({"unique_id": "u1", "padding": "x" * (MAX_BODY + 10)})
        hostile.refused(
            "GET",
            f"/serve/api/v1/{name}",
            content=body.encode(),
            headers={"Content-Type": "application/json"},
        )


@pytest.mark.parametrize(("method", "path", "body"), JSON_WRITES)
def test_corrupt_bodies(hostile: Hostile, method: str, path: str, body: Any) -> None:
    valid = json.dumps(body).encode()
    for raw in (
        b"{",  # truncated
        b"\xff\xfe\x00{",  # not UTF-8 at all
        valid.replace(b'"t"', b'"\xff\xfe"', 1),  # invalid UTF-8 inside a string
        valid.replace(b'"t"', b'"\\ud800"', 1),  # a lone surrogate
        valid.replace(b'"t"', b'"a\\u0000b"', 1),  # a NUL character
        valid.replace(b'"t"', b'"' + b"z" * 30_000 + b'"', 1),  # a huge string
        b"[" * 100_000 + b"]" * 100_000,  # nesting deeper than any parser allows
        *([] if path == "/sessions" else [b"null"]),  # AgentOS creates with no body at all
        b"[]",
        b'"text"',
        b"1e999999",
    ):
        _raw_json(hostile, method, path, raw)


DEEP_FIELDS: list[tuple[str, str, str]] = [
    ("PATCH", "/v1/sessions/meta-0", "state"),
    ("PATCH", "/v1/sessions/meta-0", "metadata"),
    ("POST", "/v1/sessions", "component_data"),
    ("POST", "/v1/memories", "extra"),
    ("PATCH", "/sessions/meta-0", "session_state"),
    ("PATCH", "/sessions/meta-0", "metadata"),
    ("POST", "/sessions", "session_state"),
]


@pytest.mark.parametrize(("method", "path", "name"), DEEP_FIELDS)
@pytest.mark.parametrize("depth", [300, 3000])
def test_deeply_nested_json(
    hostile: Hostile, method: str, path: str, name: str, depth: int
) -> None:
    deep = "[" * depth + "]" * depth
    base = {"memory": "m", "user_id": "u1"} if "memor" in path else {}
    raw = json.dumps(base)[:-1] + ("," if base else "") + f'"{name}": {{"k": {deep}}}}}'
    _raw_json(hostile, method, path, raw.encode())


@pytest.mark.parametrize(
    "value", [2**64, -(2**64), 10**400], ids=["u64-overflow", "i64-underflow", "googol4"]
)
def test_integers_beyond_64_bits(hostile: Hostile, value: int) -> None:
    raw = json.dumps({"state": {"n": value}}).encode()
    _raw_json(hostile, "PATCH", "/v1/sessions/meta-0", raw)
    _raw_json(
        hostile, "PATCH", "/sessions/meta-0", json.dumps({"session_state": {"n": value}}).encode()
    )
    message = {"role": "user", "content": "x", "metrics": {"total_tokens": value}}
    _raw_json(
        hostile,
        "POST",
        "/v1/sessions/meta-0/messages",
        json.dumps({"messages": [message]}).encode(),
    )


# --- numbers: NaN, Infinity, overflows, -0 ----------------------------------------------------

# JSON tokens that are not finite 64-bit numbers; the parsers behind the surfaces accept the
# first five (1e309 overflows to infinity) and orjson would store them all as null.
NOT_FINITE = ["NaN", "Infinity", "-Infinity", "1e309", "-1e309"]
HUGE_INTEGERS = [str(2**64), str(-(2**63) - 1), "1" + "0" * 400]
MESSAGE = '{"messages": [{"role": "assistant", "content": "x", %s}]}'
ITEM = '"refs": [{"source": {"id": "v"}, "items": [{"kind": "keyframe", %s}]}]'
IMPORT = '{"unique_id": "u1", "sessions": [{"session_id": "imported-1", "messages": [%s]}]}'
MEMORIES_AI_REF = (
    '{"role": "assistant", "content": "x", "refs": [{"video": {"video_no": "v"},'
    ' "refItems": [{"videoNo": "v", "type": "keyframe", %s}]}]}'
)
# Every surface and field family that takes numbers; `@` is where the number goes.
NUMBER_FIELDS: list[tuple[str, str, str]] = [
    ("POST", "/v1/sessions/meta-0/messages", MESSAGE % '"metrics": {"total_tokens": @}'),
    ("POST", "/v1/sessions/meta-0/messages", MESSAGE % ITEM % '"start": @'),
    ("POST", "/v1/sessions/meta-0/messages", MESSAGE % ITEM % '"start": 1, "end": @'),
    ("POST", "/v1/sessions/meta-0/messages", MESSAGE % ITEM % '"start": 1, "extra": {"n": @}'),
    (
        "POST",
        "/v1/sessions/meta-0/messages",
        MESSAGE % '"refs": [{"source": {"id": "v", "duration": @}}]',
    ),
    (
        "POST",
        "/v1/sessions/meta-0/messages",
        MESSAGE % '"refs": [{"source": {"id": "v", "extra": {"n": [@]}}}]',
    ),
    ("POST", "/v1/sessions/meta-0/messages", MESSAGE % '"thinkings": [{"extra": {"n": @}}]'),
    ("POST", "/v1/sessions/meta-0/messages", MESSAGE % '"tool_calls": [{"arguments": {"n": @}}]'),
    ("POST", "/v1/sessions/meta-0/messages", MESSAGE % '"extra": {"a": [1, {"b": @}]}'),
    (
        "POST",
        "/v1/sessions/numbers-new/messages",
        '{"messages": [{"role": "user", "content": "x"}], "create_if_missing": true,'
        ' "session": {"state": {"n": @}}}',
    ),
    ("POST", "/v1/sessions/meta-0/runs", '{"input": "x", "metrics": {"total_tokens": @}}'),
    ("POST", "/v1/sessions/meta-0/runs", '{"input": "x", "content": @}'),
    ("POST", "/v1/sessions/meta-0/runs", '{"input": "x", "content": {"n": @}}'),
    ("POST", "/v1/sessions/meta-0/runs", '{"input": "x", "extra": {"n": @}}'),
    (
        "POST",
        "/v1/sessions/meta-0/runs",
        '{"input": "x", "messages": [{"role": "user", "metrics": {"cost": @}}]}',
    ),
    ("POST", "/v1/sessions", '{"state": {"n": @}}'),
    ("POST", "/v1/sessions", '{"metadata": {"n": @}}'),
    ("POST", "/v1/sessions", '{"component_data": {"n": @}}'),
    ("POST", "/v1/sessions", '{"extra": {"n": @}}'),
    ("POST", "/v1/sessions", '{"summary": {"text": "s", "covers_through_seq": @}}'),
    ("PATCH", "/v1/sessions/meta-0", '{"state": {"n": @}}'),
    ("PATCH", "/v1/sessions/meta-0", '{"summary": {"text": "s", "extra": {"n": @}}}'),
    ("POST", "/v1/memories", '{"memory": "m", "user_id": "u1", "extra": {"n": @}}'),
    ("POST", "/v1/memories", '{"memory": "m", "user_id": "u1", "source": {"seqs": [@]}}'),
    ("PUT", "/v1/memories/mem-0", '{"memory": "m", "user_id": "u1", "extra": {"n": @}}'),
    ("POST", "/v1/import/memories-ai", IMPORT % MEMORIES_AI_REF % '"startTime": @'),
    ("POST", "/v1/import/memories-ai", IMPORT % MEMORIES_AI_REF % '"startTime": 1, "endTime": @'),
    ("POST", "/v1/import/memories-ai", IMPORT % '{"role": "user", "content": "x", "n": @}'),
    ("POST", "/sessions", '{"session_state": {"n": @}}'),
    ("POST", "/sessions", '{"metadata": {"n": @}}'),
    ("PATCH", "/sessions/meta-0", '{"session_state": {"n": @}}'),
    ("PATCH", "/sessions/meta-0", '{"metadata": {"n": [@]}}'),
    ("PATCH", "/sessions/meta-0", '{"summary": {"summary": "s", "n": @}}'),
    ("POST", "/memories", '{"memory": "m", "user_id": "u1", "topics": [@]}'),
    ("PATCH", "/memories/mem-0", '{"memory": "m", "user_id": "u1", "topics": [@]}'),
]


@pytest.mark.parametrize(("method", "path", "template"), NUMBER_FIELDS)
def test_numbers_that_are_not_finite_or_too_big_are_422(
    hostile: Hostile, method: str, path: str, template: str
) -> None:
    """NaN, ±Infinity and integers beyond 64 bits are refused in every field on every
    surface, nested or not: nothing is stored (orjson would have stored null)."""
    for number in (*NOT_FINITE, *HUGE_INTEGERS):
        raw = template.replace("@", number).encode()
        response = _raw_json(hostile, method, path, raw)
        assert response.status_code == 422, (number, response.text)


RANGES: list[tuple[str, str, list[str]]] = [
    # metric values: the signed 64-bit range, floats too
    (
        "/v1/sessions/meta-0/messages",
        MESSAGE % '"metrics": {"total_tokens": @}',
        [str(2**63), "1e308", "9.3e18", "-9.3e18"],
    ),
    ("/v1/sessions/meta-0/runs", '{"metrics": {"cost": @}}', [str(2**63), "1e308"]),
    # evidence times: within ±2^53
    ("/v1/sessions/meta-0/messages", MESSAGE % ITEM % '"start": @', ["1e300", str(2**53 + 2)]),
    ("/v1/sessions/meta-0/messages", MESSAGE % ITEM % '"start": 0, "end": @', ["-1e16"]),
    (
        "/v1/sessions/meta-0/messages",
        MESSAGE % '"refs": [{"source": {"id": "v", "duration": @}}]',
        ["1e20"],
    ),
    ("/v1/import/memories-ai", IMPORT % MEMORIES_AI_REF % '"startTime": @', [str(2**60)]),
]


@pytest.mark.parametrize(("path", "template", "numbers"), RANGES)
def test_numbers_out_of_their_range_are_422(
    hostile: Hostile, path: str, template: str, numbers: list[str]
) -> None:
    for number in numbers:
        raw = template.replace("@", number).encode()
        response = _raw_json(hostile, "POST", path, raw)
        assert response.status_code == 422, (number, response.text)
        assert response.json()["error"]["param"], response.text


def test_numbers_at_the_edges_are_kept(hostile: Hostile) -> None:
    """Finite numbers of any size in free JSON, integers up to 2^64-1, metrics up to 2^63-1 and
    evidence times up to ±2^53 are stored and read back as they were sent."""
    state = {"big": 1e308, "small": 5e-324, "u64": 2**64 - 1, "i64": -(2**63)}
    item = {"kind": "keyframe", "start": -(2.0**53), "end": 2.0**53}
    message = {
        "role": "assistant",
        "content": "x",
        "metrics": {"total_tokens": 2**63 - 1, "cost": -(2**63)},
        "refs": [{"source": {"id": "edge-video", "duration": 2.0**53}, "items": [item]}],
    }
    body = {"messages": [message], "create_if_missing": True, "session": {"state": state}}
    path = "/v1/sessions/numbers-edges"
    try:
        created = hostile.client.post(f"{path}/messages", json=body, headers=hostile.headers)
        assert created.status_code == 201, created.text
        session = hostile.client.get(path, headers=hostile.headers).json()
        assert session["state"] == state
        assert session["metrics"] == {"total_tokens": 2**63 - 1, "cost": -(2**63)}
        read = hostile.client.get(f"{path}/messages", headers=hostile.headers).json()
        assert read["data"][0]["refs"][0]["items"][0] == {**item, "text": None, "extra": {}}
    finally:
        hostile.client.delete(path, headers=hostile.headers)


def test_negative_zero_is_stored_as_zero(hostile: Hostile) -> None:
    """-0 is the integer 0; -0.0 is stored (and read back) as 0.0 wherever it is, as
    PostgreSQL's JSON keeps it, so both backends answer the same."""
    raw = (
        '{"messages": [{"role": "assistant", "content": "x", "metrics": {"cost": -0.0, "n": -0},'
        ' "extra": {"a": [-0.0, {"b": -0.0}]}, "refs": [{"source": {"id": "zero-video",'
        ' "duration": -0.0}, "items": [{"kind": "keyframe", "start": -0.0, "end": -0.0}]}]}],'
        ' "create_if_missing": true, "session": {"state": {"z": -0.0, "i": -0}}}'
    )
    path = "/v1/sessions/numbers-zero"
    headers = {**hostile.headers, "Content-Type": "application/json"}
    try:
        created = hostile.client.post(f"{path}/messages", content=raw, headers=headers)
        assert created.status_code == 201, created.text
        hits = hostile.client.get(
            "/v1/evidence", params={"source_id": "zero-video"}, headers=hostile.headers
        )
        for response in (
            created,
            hostile.client.get(path, headers=hostile.headers),
            hostile.client.get(f"{path}/messages", headers=hostile.headers),
            hits,
        ):
            assert response.status_code == 200 or response is created, response.text
            assert "-0.0" not in response.text, response.text
        assert hits.json()["data"][0]["start"] == 0.0
    finally:
        hostile.client.delete(path, headers=hostile.headers)
    assert "-0.0" not in repr(snapshot(hostile.store))


def test_metric_totals_saturate_and_stay_appendable(hostile: Hostile) -> None:
    """Totals that would pass the signed 64-bit range stop at its edge, floats as integers do
    (1e308 twice would overflow to infinity, stored as null, and break every later append);
    the session stays readable and appendable, and its evidence searchable."""
    path = "/v1/sessions/metrics-overflow"
    near_edge = {"total_tokens": 2**63 - 1, "cost": 9.2e18}
    message = {"role": "user", "content": "x", "metrics": near_edge}
    body = {"messages": [message, message], "create_if_missing": True}
    edge = {"total_tokens": 2**63 - 1, "cost": 2**63 - 1}
    try:
        created = hostile.client.post(f"{path}/messages", json=body, headers=hostile.headers)
        assert created.status_code == 201, created.text
        for read in (path, "/sessions/metrics-overflow"):
            response = hostile.client.get(read, headers=hostile.headers)
            assert response.status_code == 200, response.text
            assert response.json()["metrics"] == edge
        for _ in range(2):  # refused each time, and nothing changes
            raw = (MESSAGE % '"metrics": {"total_tokens": 1e308}').encode()
            assert _raw_json(hostile, "POST", f"{path}/messages", raw).status_code == 422
        cited = {
            "role": "assistant",
            "content": "y",
            "metrics": {"total_tokens": 5, "cost": -1e15},
            "refs": [{"source": {"id": "overflow-video"}, "items": [{"kind": "k", "start": 2}]}],
        }
        again = {"messages": [cited]}
        appended = hostile.client.post(f"{path}/messages", json=again, headers=hostile.headers)
        assert appended.status_code == 201, appended.text
        session = hostile.client.get(path, headers=hostile.headers).json()
        assert session["metrics"]["total_tokens"] == 2**63 - 1
        assert session["metrics"]["cost"] < 2**63 - 1
        hits = hostile.client.get(
            "/v1/evidence", params={"source_id": "overflow-video"}, headers=hostile.headers
        )
        assert hits.status_code == 200 and len(hits.json()["data"]) == 1, hits.text
    finally:
        hostile.client.delete(path, headers=hostile.headers)


def test_sessions_stay_appendable_after_refused_numbers(hostile: Hostile) -> None:
    """After every refusal above (most of them aimed at it), meta-0 still takes appends and
    runs, its total sums, and evidence search answers."""
    message = {
        "role": "assistant",
        "content": "x",
        "metrics": {"total_tokens": 3},
        "refs": [{"source": {"id": "after-video"}, "items": [{"kind": "k", "start": 1.5}]}],
    }
    before = hostile.client.get("/v1/sessions/meta-0", headers=hostile.headers).json()
    appended = hostile.client.post(
        "/v1/sessions/meta-0/messages", json={"messages": [message]}, headers=hostile.headers
    )
    assert appended.status_code == 201, appended.text
    run = hostile.client.post(
        "/v1/sessions/meta-0/runs",
        json={"input": "y", "metrics": {"total_tokens": 2}},
        headers=hostile.headers,
    )
    assert run.status_code == 201, run.text
    after = hostile.client.get("/v1/sessions/meta-0", headers=hostile.headers).json()
    assert after["metrics"]["total_tokens"] == before["metrics"].get("total_tokens", 0) + 5
    hits = hostile.client.get(
        "/v1/evidence", params={"source_id": "after-video"}, headers=hostile.headers
    )
    assert hits.status_code == 200 and hits.json()["data"][0]["start"] == 1.5, hits.text


# --- NUL bytes, invalid UTF-8 and huge strings outside bodies -------------------------------------


NUL_REQUESTS: list[tuple[str, str, dict[str, str]]] = [
    ("GET", "/v1/sessions", {"user_id": "a\x00"}),
    ("GET", "/v1/sessions", {"component_id": "a\x00"}),
    ("GET", "/v1/sessions", {"q": "a\x00"}),
    ("GET", "/v1/sessions/a%00b", {}),
    ("PATCH", "/v1/sessions/a%00b", {}),
    ("DELETE", "/v1/sessions/a%00b", {}),
    ("GET", "/v1/sessions/a%00b/messages", {}),
    ("GET", "/v1/sessions/meta-0/messages", {"run_id": "a\x00"}),
    ("GET", "/v1/sessions/a%00b/runs", {}),
    ("GET", "/v1/sessions/meta-0/runs", {"status": "a\x00"}),
    ("GET", "/v1/sessions/meta-0/runs/a%00b", {}),
    ("DELETE", "/v1/users/a%00b", {}),
    ("GET", "/v1/memories", {"user_id": "a\x00"}),
    ("GET", "/v1/memories", {"agent_id": "a\x00"}),
    ("GET", "/v1/memories", {"topic": "a\x00"}),
    ("GET", "/v1/memories", {"search": "a\x00"}),
    ("GET", "/v1/memories/a%00b", {}),
    ("DELETE", "/v1/memories/a%00b", {}),
    ("DELETE", "/v1/keys/a%00b", {}),
    ("GET", "/sessions", {"user_id": "a\x00"}),
    ("GET", "/sessions", {"component_id": "a\x00"}),
    ("GET", "/sessions", {"session_name": "a\x00"}),
    ("GET", "/sessions/a%00b", {}),
    ("GET", "/sessions/meta-0", {"user_id": "a\x00"}),
    ("DELETE", "/sessions/a%00b", {}),
    ("GET", "/sessions/a%00b/runs", {}),
    ("GET", "/sessions/meta-0/runs/a%00b", {}),
    ("GET", "/memories", {"user_id": "a\x00"}),
    ("GET", "/memories", {"topics": "a\x00"}),
    ("GET", "/memories", {"search_content": "a\x00"}),
    ("GET", "/memories/a%00b", {}),
    ("DELETE", "/memories/a%00b", {}),
    ("GET", "/memory_topics", {"user_id": "a\x00"}),
    ("GET", "/user_memory_stats", {"user_id": "a\x00"}),
    ("GET", "/serve/api/v1/list_sessions", {"unique_id": "a\x00"}),
    ("GET", "/serve/api/v1/get_session_detail", {"sessionId": "a\x00"}),
    ("GET", "/serve/api/v1/get_session_detail", {"sessionId": "meta-0", "unique_id": "\x00"}),
]


@pytest.mark.parametrize(("method", "path", "query"), NUL_REQUESTS)
def test_nul_bytes_outside_bodies(
    hostile: Hostile, method: str, path: str, query: dict[str, str]
) -> None:
    hostile.refused(method, path, params=query)


def test_nul_bytes_in_json_ids(hostile: Hostile) -> None:
    for method, path, body in (
        ("DELETE", "/sessions", {"session_ids": ["a\x00"], "session_types": ["agent"]}),
        ("DELETE", "/memories", {"memory_ids": ["a\x00"]}),
        ("DELETE", "/memories", {"memory_ids": ["mem-0"], "user_id": "a\x00"}),
        ("POST", "/v1/sessions", {"id": "a\x00"}),
        ("POST", "/sessions", {"session_id": "a\x00"}),
        ("POST", "/v1/memories", {"memory": "m", "user_id": "a\x00"}),
    ):
        hostile.refused(method, path, json=body)
    body = json.dumps({"unique_id": "a\x00"}).encode()
    for name in ("list_sessions", "get_session_detail"):
        hostile.refused(
            "GET",
            f"/serve/api/v1/{name}",
            content=body,
            headers={"Content-Type": "application/json"},
        )


@pytest.mark.parametrize(
    ("method", "path", "name"),
    [
        ("GET", "/v1/sessions", "q"),
        ("GET", "/v1/sessions", "user_id"),
        ("GET", "/v1/memories", "search"),
        ("GET", "/sessions", "session_name"),
        ("GET", "/sessions", "user_id"),
        ("GET", "/memories", "search_content"),
        ("GET", "/serve/api/v1/list_sessions", "unique_id"),
        ("GET", "/serve/api/v1/get_session_detail", "sessionId"),
    ],
)
def test_invalid_utf8_and_huge_query_strings(
    hostile: Hostile, method: str, path: str, name: str
) -> None:
    """Invalid UTF-8 decodes to replacement characters and matches nothing; a huge value is
    refused or matches nothing. Either way, no error of ours and no change."""
    for raw in (f"{name}=%FF%FE%C0%AF", f"{name}=" + "%E2%82" * 10, f"{name}=" + "z" * 20_000):
        response = hostile.send(method, f"{path}?{raw}")
        if response.status_code == 200 and surface_of(path) != "memories_ai":
            assert "meta-" not in response.text, "a garbled filter must match nothing"
        elif surface_of(path) == "memories_ai":
            assert response.json()["code"] in ("0000", "0001", "0003")
            assert "meta-" not in json.dumps(response.json()["data"])
    hostile.send("GET", "/v1/sessions/%FF%FE")
    hostile.send("GET", "/sessions/" + "z" * 5000)
    hostile.send("GET", "/v1/sessions/" + "z" * 5000)


# --- SQL and LIKE metacharacters --------------------------------------------------------------


def _ids(response: Any, key: str = "id") -> set[str]:
    assert response.status_code == 200, response.text
    return {str(item[key]) for item in response.json()["data"]}


def _contains(needle: str) -> set[int]:
    return {i for i, title in enumerate(TITLES) if needle.lower() in title.lower()}


@pytest.mark.parametrize("needle", [*META, "sure", "CASE", 'hi"', "'s"])
def test_searches_are_literal(hostile: Hostile, needle: str) -> None:
    expected = _contains(needle)
    sessions = {f"meta-{i}" for i in expected}
    memories = {f"mem-{i}" for i in expected}
    send = hostile.send
    assert _ids(send("GET", "/v1/sessions", params={"q": needle})) == sessions
    assert _ids(send("GET", "/v1/memories", params={"search": needle})) == memories
    found = send("GET", "/sessions", params={"session_name": needle})
    assert _ids(found, "session_id") == sessions
    found = send("GET", "/memories", params={"search_content": needle})
    assert _ids(found, "memory_id") == memories


@pytest.mark.parametrize("value", META)
def test_exact_filters_match_nothing_but_themselves(hostile: Hostile, value: str) -> None:
    send = hostile.send
    for path, name, key in (
        ("/v1/sessions", "user_id", "id"),
        ("/v1/sessions", "component_id", "id"),
        ("/v1/memories", "user_id", "id"),
        ("/v1/memories", "agent_id", "id"),
        ("/sessions", "user_id", "session_id"),
        ("/sessions", "component_id", "session_id"),
        ("/memories", "user_id", "memory_id"),
    ):
        found = _ids(send("GET", path, params={name: value}), key)
        assert found == set(), (path, name, value)
    topics = send("GET", "/v1/memories", params={"topic": value})
    assert _ids(topics) == {f"mem-{i}" for i, t in enumerate(TITLES) if t == value}
    stats = send("GET", "/user_memory_stats", params={"user_id": value})
    assert stats.status_code == 200 and stats.json()["data"] == []
    assert send("GET", "/memory_topics", params={"user_id": value}).json() == []
    envelope = send("GET", "/serve/api/v1/list_sessions", params={"unique_id": value}).json()
    assert envelope["code"] in ("0000", "0003")
    assert not (envelope["data"] or {}).get("sessions")


@pytest.mark.parametrize("value", [*META, "title; DROP TABLE sessions", "updated_at desc"])
def test_sort_parameters_are_closed_sets(hostile: Hostile, value: str) -> None:
    for path, name in (
        ("/v1/sessions", "sort"),
        ("/v1/sessions", "order"),
        ("/v1/memories", "order"),
        ("/v1/sessions/meta-0/messages", "order"),
        ("/sessions", "sort_by"),
        ("/sessions", "sort_order"),
        ("/memories", "sort_by"),
        ("/memories", "sort_order"),
    ):
        hostile.refused("GET", path, params={name: value})


# --- paging -----------------------------------------------------------------------------------


PAGING: list[tuple[str, str]] = [
    ("/v1/sessions", "limit"),
    ("/v1/sessions/meta-0", "include_messages"),
    ("/v1/sessions/meta-0/messages", "limit"),
    ("/v1/sessions/meta-0/messages", "after"),
    ("/v1/sessions/meta-0/messages", "before"),
    ("/v1/memories", "limit"),
    ("/sessions", "limit"),
    ("/sessions", "page"),
    ("/memories", "limit"),
    ("/memories", "page"),
    ("/user_memory_stats", "limit"),
    ("/user_memory_stats", "page"),
    ("/sessions/meta-0/runs", "created_after"),
    ("/sessions/meta-0/runs", "created_before"),
    ("/serve/api/v1/list_sessions", "page"),
]


@pytest.mark.parametrize(("path", "name"), PAGING)
@pytest.mark.parametrize("value", ABSURD)
def test_absurd_numbers(hostile: Hostile, path: str, name: str, value: str) -> None:
    response = hostile.send("GET", path, params={name: value})
    if error_problem(surface_of(path), response) is None:
        return
    # a few values are legitimate for some parameters (0 for `after`, an empty value for
    # optional ones); those must then give a proper answer
    assert response.status_code == 200, response.text
    if surface_of(path) == "memories_ai":
        assert response.json()["code"] == "0000"


def test_huge_pages_are_refused(hostile: Hostile) -> None:
    for path in ("/sessions", "/memories", "/user_memory_stats"):
        response = hostile.refused("GET", path, params={"page": str(2**62)})
        assert response.status_code == 400
    for name in ("after", "before"):
        response = hostile.refused("GET", "/v1/sessions/meta-0/messages", params={name: str(2**63)})
        assert response.json()["error"]["param"] == name


# --- cursors ----------------------------------------------------------------------------------


def _cursor(value: Any) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


BAD_CURSORS = [
    "!!!",
    "=",
    "a",
    "x" * 5000,
    "\x00",
    "é",
    _cursor(b"\xff\xfe"),
    _cursor(b"not json"),
    _cursor({"sort": "updated_at"}),
    _cursor([]),
    _cursor(["updated_at", "desc", 1]),
    _cursor(["updated_at", "desc", True, "x"]),
    _cursor(["updated_at", "desc", 10**30, "x"]),
    _cursor(["updated_at", "desc", -(10**30), "x"]),
    _cursor(["updated_at", "desc", 1.5, "x"]),
    _cursor(["updated_at", "desc", "text", "x"]),
    _cursor(["updated_at", "desc", 1, "a\x00"]),
    _cursor(["updated_at", "desc", 1, "\ud800"]),
    _cursor(["updated_at", "desc", 1, None]),
    _cursor(["title", "asc", "x", "y"]),
    _cursor(["created_at", "desc", 1, "x"]),
    _cursor(["updated_at' OR 1=1 --", "desc", 1, "x"]),
    _cursor(b"[" * 1500),  # nesting deeper than a recursive parser goes
    _cursor(b"[" * 1500 + b"]" * 1500),
    _cursor(["evidence", "s", 1, [[[[]]]]]),
]


@pytest.mark.parametrize("cursor", BAD_CURSORS)
def test_malformed_cursors(hostile: Hostile, cursor: str) -> None:
    """Every opaque value a client hands back (the native lists' and evidence's `after`; the
    other surfaces page by number) is a 400 when it is not one the server wrote."""
    for path, params in (
        ("/v1/sessions", {}),
        ("/v1/memories", {}),
        ("/v1/evidence", {"source_id": "v1"}),
    ):
        response = hostile.refused("GET", path, params={**params, "after": cursor})
        assert response.status_code == 400
        assert response.json()["error"]["param"] == "after"
        message = response.json()["error"]["message"]
        assert "cursor" in message or (cursor == "\x00" and "NUL" in message)
