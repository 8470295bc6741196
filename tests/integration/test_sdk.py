"""The blocking SDK driven against the in-process app, on every database backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Unpack

import httpx
import pytest
from fastapi.testclient import TestClient

from convostore import (
    AuthenticationError,
    BadRequestError,
    Client,
    ConflictError,
    ConvostoreConnectionError,
    ConvostoreTimeoutError,
    NotFoundError,
    PermissionDeniedError,
    UnprocessableEntityError,
)
from convostore.auth import DEFAULT_TENANT, KeyService
from convostore.client.types import SessionFilters
from convostore.models import EvidenceRef, NewMessage, NewRun, Thinking
from tests.conftest import LOCAL_URL

T0 = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture
def sdk(client: TestClient) -> Client:
    return Client(http_client=client)


def test_health(sdk: Client) -> None:
    health = sdk.health()
    assert (health.status, health.database) == ("ok", "ok")


def test_session_lifecycle(sdk: Client) -> None:
    created = sdk.create_session(
        id="s-1", user_id="alice", component_id="agent-1", metadata={"a": 1}, created_at=T0
    )
    assert (created.id, created.user_id, created.metadata) == ("s-1", "alice", {"a": 1})
    assert created.created_at == T0 and created.created_at.tzinfo is not None

    changed = sdk.update_session("s-1", title="Renamed", state={"step": 2}, metadata=None)
    assert (changed.title, changed.state, changed.metadata) == ("Renamed", {"step": 2}, None)
    assert changed.component_id == "agent-1"  # untouched: PATCH sends only what was given

    read = sdk.get_session("s-1")
    assert read.title == "Renamed" and read.messages is None

    assert sdk.delete_session("s-1").deleted is True
    with pytest.raises(NotFoundError) as raised:
        sdk.get_session("s-1")
    error = raised.value
    assert (error.status_code, error.type, error.param) == (404, "not_found", "session_id")
    assert error.response is not None and error.response.status_code == 404
    with pytest.raises(NotFoundError):
        sdk.delete_session("s-1")


def test_create_session_twice_is_a_conflict(sdk: Client) -> None:
    sdk.create_session(id="dup")
    with pytest.raises(ConflictError) as raised:
        sdk.create_session(id="dup")
    assert raised.value.status_code == 409


def test_iter_sessions_follows_the_cursor_once_per_session(sdk: Client) -> None:
    for i in range(45):
        sdk.create_session(id=f"s{i:02}", user_id="u", created_at=T0 + timedelta(minutes=i))
    first = sdk.list_sessions(limit=10, include_total=True)
    assert (len(first.data), first.has_more, first.total_count) == (10, True, 45)
    assert first.next_cursor is not None

    seen = [s.id for s in sdk.iter_sessions(limit=10, sort="created_at", order="asc")]
    assert seen == [f"s{i:02}" for i in range(45)]
    second = sdk.list_sessions(limit=10, after=first.next_cursor)
    assert not {s.id for s in second.data} & {s.id for s in first.data}


def test_list_sessions_filters(sdk: Client) -> None:
    sdk.create_session(id="a", user_id="alice", type="team", component_id="t1", created_at=T0)
    sdk.create_session(
        id="b", user_id="bob", title="Travel plans", created_at=T0 + timedelta(days=2)
    )
    sdk.create_session(id="c", user_id="bob", title="Cooking", created_at=T0 + timedelta(days=4))

    def ids(**filters: Unpack[SessionFilters]) -> list[str]:
        return sorted(s.id for s in sdk.iter_sessions(**filters))

    assert ids(user_id="bob") == ["b", "c"]
    assert ids(type="team") == ["a"]
    assert ids(component_id="t1") == ["a"]
    assert ids(q="travel") == ["b"]
    assert ids(created_after=T0 + timedelta(days=1)) == ["b", "c"]
    assert ids(created_before=T0 + timedelta(days=3)) == ["a", "b"]
    assert ids(created_after=T0.replace(tzinfo=None) + timedelta(days=3)) == ["c"]  # naive = UTC
    later = datetime.now(UTC) + timedelta(hours=1)
    assert ids(updated_before=later) == ["a", "b", "c"]
    assert ids(updated_after=later) == []
    titles = [s.title for s in sdk.list_sessions(sort="title", order="asc", user_id="bob").data]
    assert titles == ["Cooking", "Travel plans"]


def test_append_and_read_messages(sdk: Client) -> None:
    evidence = EvidenceRef.model_validate(
        {"source": {"kind": "video", "id": "v1"}, "items": [{"kind": "keyframe", "start": 1.5}]}
    )
    appended = sdk.append_messages(
        "chat",
        [
            {"role": "user", "content": "what happens at 0:01?"},
            NewMessage(
                role="assistant",
                content="a dog runs",
                thinkings=[Thinking(title="look", content="frame 1")],
                refs=[evidence],
                metrics={"output_tokens": 7},
            ),
        ],
        session={"user_id": "alice", "component_id": "agent-1"},
    )
    assert appended.session_id == "chat" and not appended.replayed
    assert [m.seq for m in appended.messages] == [1, 2]
    assert appended.messages[1].refs == [evidence]
    assert appended.messages[1].thinkings[0].title == "look"
    assert appended.messages[0].created_at.tzinfo is not None

    session = sdk.get_session("chat", include_messages=1)
    assert (session.user_id, session.title, session.message_count) == (
        "alice",
        "what happens at 0:01?",
        2,
    )
    assert session.messages is not None and [m.seq for m in session.messages.data] == [1]

    sdk.append_messages("chat", [{"role": "user", "content": f"m{i}"} for i in range(3, 11)])
    assert [m.seq for m in sdk.iter_messages("chat", limit=3)] == list(range(1, 11))
    assert [m.seq for m in sdk.iter_messages("chat", limit=4, order="desc")] == list(
        range(10, 0, -1)
    )
    assert [m.seq for m in sdk.iter_messages("chat", after=4, before=8, limit=2)] == [5, 6, 7]
    page = sdk.list_messages("chat", limit=2, order="desc")
    assert ([m.seq for m in page.data], page.has_more) == ([10, 9], True)


def test_append_to_a_missing_session_without_create_is_not_found(sdk: Client) -> None:
    with pytest.raises(NotFoundError):
        sdk.append_messages("absent", [{"role": "user", "content": "hi"}])
    with pytest.raises(NotFoundError):  # session= values are not sent when creation is refused
        sdk.append_messages(
            "absent", [{"role": "user", "content": "hi"}], session={}, create_if_missing=False
        )
    created = sdk.append_messages(
        "absent", [{"role": "user", "content": "hi"}], create_if_missing=True
    )
    assert created.messages[0].seq == 1


def test_idempotent_append_replays_without_storing_twice(sdk: Client) -> None:
    batch = [{"role": "user", "content": "hello"}, {"role": "assistant", "content": "hi!"}]
    first = sdk.append_messages("chat", batch, idempotency_key="k-1", create_if_missing=True)
    again = sdk.append_messages("chat", batch, idempotency_key="k-1", create_if_missing=True)
    assert again.replayed and not first.replayed
    assert again.messages == first.messages
    assert sdk.get_session("chat").message_count == 2
    assert len(list(sdk.iter_messages("chat"))) == 2

    with pytest.raises(ConflictError) as raised:
        sdk.append_messages("chat", batch[:1], idempotency_key="k-1")
    assert raised.value.status_code == 409


def test_runs(sdk: Client) -> None:
    run = sdk.record_run(
        "chat",
        NewRun(
            id="r1",
            input="hi",
            content={"answer": "hello"},
            messages=[NewMessage(role="user", content="hi")],
        ),
        session={"user_id": "alice"},
    )
    assert (run.id, run.index, run.content) == ("r1", 0, {"answer": "hello"})
    assert run.messages is not None and run.messages[0].run_id == "r1"
    sdk.record_run(
        "chat", {"id": "r2", "status": "ERROR", "messages": [{"role": "user", "content": "x"}]}
    )

    assert [r.id for r in sdk.list_runs("chat")] == ["r1", "r2"]
    assert [r.id for r in sdk.list_runs("chat", status="error")] == ["r2"]
    assert [r.id for r in sdk.list_runs("chat", status=["completed", "error"])] == ["r1", "r2"]
    assert sdk.list_runs("chat", created_after=datetime.now(UTC) + timedelta(hours=1)) == []
    assert len(sdk.list_runs("chat", created_before=datetime.now(UTC) + timedelta(hours=1))) == 2
    fetched = sdk.get_run("chat", "r1")
    assert fetched.messages is not None and [m.content for m in fetched.messages] == ["hi"]
    assert [m.run_id for m in sdk.list_messages("chat", run_id="r2").data] == ["r2"]
    with pytest.raises(NotFoundError) as raised:
        sdk.get_run("chat", "nope")
    assert raised.value.param == "run_id"


def test_delete_user_erases_everything(sdk: Client) -> None:
    sdk.append_messages("a1", [{"role": "user", "content": "x"}], session={"user_id": "alice"})
    sdk.record_run(
        "a2", {"messages": [{"role": "user", "content": "y"}]}, session={"user_id": "alice"}
    )
    sdk.create_memory("likes tea", user_id="alice")
    sdk.create_session(id="b1", user_id="bob")
    erasure = sdk.delete_user("alice")
    assert erasure.user_id == "alice"
    assert erasure.deleted.model_dump() == {"sessions": 2, "runs": 1, "messages": 2, "memories": 1}
    assert [s.id for s in sdk.iter_sessions()] == ["b1"]


def test_memories(sdk: Client) -> None:
    memory = sdk.create_memory(
        "likes tea", id="m0", user_id="alice", topics=["drinks"], source={"session_id": "s"}
    )
    assert (memory.id, memory.topics, memory.source and memory.source.session_id) == (
        "m0",
        ["drinks"],
        "s",
    )
    assert sdk.get_memory("m0").memory == "likes tea"
    replaced = sdk.replace_memory("m0", "likes coffee", topics=["drinks", "coffee"])
    assert (replaced.memory, replaced.user_id, replaced.topics) == (
        "likes coffee",
        "alice",
        ["drinks", "coffee"],
    )
    for i in range(24):
        sdk.create_memory(f"fact {i}", user_id="bob", agent_id="agent-1")
    assert len({m.id for m in sdk.iter_memories(limit=10)}) == 25
    assert len(list(sdk.iter_memories(user_id="bob", agent_id="agent-1", limit=7))) == 24
    assert [m.id for m in sdk.list_memories(topic=["drinks", "coffee"]).data] == ["m0"]
    assert [m.id for m in sdk.list_memories(search="coffee").data] == ["m0"]
    page = sdk.list_memories(user_id="bob", limit=5, order="asc")
    assert page.has_more and len(page.data) == 5

    assert sdk.delete_memory("m0").deleted is True
    with pytest.raises(NotFoundError):
        sdk.get_memory("m0")


def test_import_memories_ai_is_idempotent(sdk: Client) -> None:
    detail = {
        "session_id": "606120397242167296",
        "title": "where to travel?",
        "messages": [
            {"role": "user", "content": "where to travel?"},
            {
                "role": "assistant",
                "content": "Kyoto",
                "thinkings": [{"title": "t", "content": "c"}],
            },
        ],
    }
    first = sdk.import_memories_ai([detail], unique_id="alice")
    assert (first.unique_id, first.imported, first.skipped, first.messages) == ("alice", 1, 0, 2)
    again = sdk.import_memories_ai([{"code": "0000", "data": detail}], unique_id="alice")
    assert (again.imported, again.skipped) == (0, 1)
    session = sdk.get_session("606120397242167296", include_messages=10)
    assert (session.user_id, session.title, session.message_count) == (
        "alice",
        "where to travel?",
        2,
    )
    assert session.messages is not None and session.messages.data[1].thinkings[0].title == "t"
    with pytest.raises(UnprocessableEntityError):
        sdk.import_memories_ai([], unique_id="alice")


def test_invalid_input_raises_typed_errors(sdk: Client) -> None:
    with pytest.raises(UnprocessableEntityError) as raised:
        sdk.append_messages("chat", [{"role": "robot"}], create_if_missing=True)
    assert raised.value.status_code == 422 and raised.value.param is not None
    with pytest.raises(UnprocessableEntityError):
        sdk.list_sessions(limit=0)
    with pytest.raises(BadRequestError) as bad:
        sdk.list_sessions(after="not-a-cursor")
    assert bad.value.status_code == 400 and bad.value.param == "after"


def test_keys_roles_and_scopes(client: TestClient, keys: KeyService) -> None:
    admin = keys.create(DEFAULT_TENANT, "admin").key
    reader = keys.create(DEFAULT_TENANT, "read").key
    alice_only = keys.create(DEFAULT_TENANT, "write", user_id="alice").key

    with pytest.raises(AuthenticationError) as raised:  # a key exists: open mode is over
        Client(http_client=client).list_sessions()
    assert (raised.value.status_code, raised.value.type) == (401, "unauthenticated")
    with pytest.raises(AuthenticationError):
        Client(http_client=client, api_key="csk_nope_nope").list_sessions()

    with pytest.raises(PermissionDeniedError) as denied:
        Client(http_client=client, api_key=reader).create_session(id="x")
    assert denied.value.status_code == 403
    with pytest.raises(PermissionDeniedError):
        Client(http_client=client, api_key=alice_only).create_key("read")

    as_admin = Client(http_client=client, api_key=admin)
    as_admin.create_session(id="bob-s", user_id="bob")
    as_alice = Client(http_client=client, api_key=alice_only)
    as_alice.create_session(id="alice-s")
    assert [s.id for s in as_alice.iter_sessions()] == ["alice-s"]
    assert {s.id for s in as_admin.iter_sessions()} == {"alice-s", "bob-s"}

    created = as_admin.create_key("write", user_id="carol", name="browser")
    assert created.key is not None and created.key.startswith("csk_")
    assert (created.role, created.user_id, created.tenant) == ("write", "carol", DEFAULT_TENANT)
    listed = {k.id: k for k in as_admin.list_keys()}
    assert created.id in listed and listed[created.id].key is None
    revoked = as_admin.revoke_key(created.id)
    assert revoked.revoked_at is not None and revoked.revoked_at.tzinfo is not None
    with pytest.raises(AuthenticationError):
        Client(http_client=client, api_key=created.key).list_sessions()
    with pytest.raises(NotFoundError):
        as_admin.revoke_key("no-such-key")


def test_api_key_comes_from_the_environment(
    client: TestClient, keys: KeyService, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = keys.create(DEFAULT_TENANT, "read").key
    monkeypatch.setenv("CONVOSTORE_API_KEY", key)
    with Client(http_client=client) as from_env:
        assert from_env.list_sessions().data == []
    with pytest.raises(AuthenticationError):
        Client(http_client=client, api_key="csk_a_b").list_sessions()  # an argument wins


class LosesFirstAnswer(httpx.BaseTransport):
    """Delivers every request to the app but drops the first answer, as a network failure would."""

    def __init__(self, app_client: TestClient) -> None:
        self.app_client = app_client
        self.sent = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        answer = self.app_client.send(request)
        if self.sent == 1:
            raise httpx.ReadError("connection reset", request=request)
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)


def test_idempotent_append_is_retried_after_a_lost_answer(client: TestClient) -> None:
    transport = LosesFirstAnswer(client)
    with Client(LOCAL_URL, transport=transport, max_retries=2) as sdk:
        result = sdk.append_messages(
            "chat", [{"role": "user", "content": "once"}], idempotency_key="k", session={}
        )
    assert transport.sent == 2 and result.replayed
    assert Client(http_client=client).get_session("chat").message_count == 1


def test_writes_without_idempotency_key_are_never_retried(client: TestClient) -> None:
    transport = LosesFirstAnswer(client)
    sdk = Client(LOCAL_URL, transport=transport, max_retries=3)
    with pytest.raises(ConvostoreConnectionError):
        sdk.create_session(id="once")
    assert transport.sent == 1
    assert Client(http_client=client).get_session("once").id == "once"


def test_transport_failures_become_connection_errors() -> None:
    def time_out(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(ConvostoreTimeoutError):
        Client(transport=httpx.MockTransport(time_out)).health()
    unreachable = Client("http://127.0.0.1:9", timeout=2)
    with unreachable, pytest.raises(ConvostoreConnectionError) as raised:
        unreachable.health()
    assert not isinstance(raised.value, ConvostoreTimeoutError)


def test_construction_and_closing() -> None:
    borrowed = httpx.Client()
    with Client(http_client=borrowed) as sdk:
        assert sdk.base_url == "http://127.0.0.1:8080"
    assert not borrowed.is_closed  # the caller's client is the caller's to close
    borrowed.close()
    owned = Client("http://example.invalid/prefix/")
    assert owned.base_url == "http://example.invalid/prefix"
    owned.close()
    owned.close()
    with pytest.raises(ValueError):
        Client(transport=httpx.MockTransport(lambda r: httpx.Response(200)), http_client=borrowed)
