"""Identifiers a client chooses — Idempotency-Key, session, run, message and memory ids — reused by
another caller of the same tenant, and by another tenant.

alice and bob are end users of tenant acme, each holding a write key confined to them. Whatever
bob sends with one of alice's identifiers, he gets none of her data, learns no more than that an
id unique in the tenant is taken (answered the same whichever user holds it), and leaves alice
free to go on using it. Another tenant collides with nothing at all.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from convostore.auth import KeyService
from convostore.storage import SqlStore
from convostore.storage.tables import idempotency_keys, messages, sessions
from tests.conftest import bearer
from tests.security.conftest import make_client

TENANT, OTHER_TENANT = "acme", "globex"
Headers = dict[str, str]


@dataclass(frozen=True)
class Callers:
    alice: Headers
    bob: Headers
    admin: Headers  # acme's tenant-wide key: it may act for every user
    stranger: Headers  # an admin of another tenant


@pytest.fixture(scope="module")
def client(module_store: SqlStore, module_database_url: str) -> Iterator[TestClient]:
    with make_client(module_store, module_database_url) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def callers(module_store: SqlStore) -> Callers:
    keys = KeyService(module_store)
    return Callers(
        alice=bearer(keys.create(TENANT, "write", user_id="alice").key),
        bob=bearer(keys.create(TENANT, "write", user_id="bob").key),
        admin=bearer(keys.create(TENANT, "admin").key),
        stranger=bearer(keys.create(OTHER_TENANT, "admin").key),
    )


def _token(label: str) -> str:
    return f"{label}-{secrets.token_hex(6)}"


def _said(content: str, **fields: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": content}], **fields}


def _append(
    client: TestClient, who: Headers, session_id: str, body: Any, key: str | None = None
) -> Any:
    headers = {**who, **({"Idempotency-Key": key} if key is not None else {})}
    return client.post(f"/v1/sessions/{session_id}/messages", json=body, headers=headers)


def _record_run(
    client: TestClient, who: Headers, session_id: str, body: Any, key: str | None = None
) -> Any:
    headers = {**who, **({"Idempotency-Key": key} if key is not None else {})}
    return client.post(f"/v1/sessions/{session_id}/runs", json=body, headers=headers)


def _answer(response: Any, *ids: str) -> tuple[int, str, str | None]:
    """Status, body with the request's own ids blanked out, and the replay header: two answers
    that are equal here tell the caller the same thing."""
    text = response.text
    for value in ids:
        text = text.replace(value, "<id>")
    return response.status_code, text, response.headers.get("Idempotent-Replayed")


def _stored(store: SqlStore, tenant: str, session_id: str) -> list[tuple[Any, ...]]:
    """The session's rows and everything filed under it, as the database holds them."""
    out: list[tuple[Any, ...]] = []
    with store.engine.connect() as conn:
        out += conn.execute(
            sa.select(sessions).where(sessions.c.tenant_id == tenant, sessions.c.id == session_id)
        ).all()
        for table in (messages, idempotency_keys):
            out += conn.execute(
                sa.select(table)
                .where(table.c.tenant_id == tenant, table.c.session_id == session_id)
                .order_by(*table.primary_key.columns)
            ).all()
    return [tuple(row) for row in out]


# --- Idempotency-Key ------------------------------------------------------------------------------


def test_a_used_key_replays_for_nobody_who_could_not_have_sent_the_request(
    client: TestClient, module_store: SqlStore, callers: Callers
) -> None:
    """bob replays alice's request, key and body alike: he gets exactly what the same request
    gets without the key ever having been used, and no byte of her stored answer."""
    used, unused = _token("alice-s"), _token("alice-s")
    key, secret = _token("key"), _token("SECRET")
    for session_id in (used, unused):
        created = _append(client, callers.alice, session_id, _said("hi", create_if_missing=True))
        assert created.status_code == 201, created.text
    first = _append(client, callers.alice, used, _said(secret), key)
    assert first.status_code == 201, first.text
    before = _stored(module_store, TENANT, used)
    hers = [m["id"] for m in first.json()["data"]]
    requests = [
        (_append, _said(secret)),  # her request, to the byte
        (_append, _said("something else")),
        (_append, _said(secret, create_if_missing=True)),
        (_record_run, {"input": secret}),
    ]
    for send, body in requests:
        replayed = send(client, callers.bob, used, body, key)
        fresh = send(client, callers.bob, unused, body, key)
        assert _answer(replayed, used) == _answer(fresh, unused), replayed.text
        assert replayed.status_code in (404, 409), replayed.text
        assert not any(message_id in replayed.text for message_id in hers)
    missing = _token("nowhere")
    assert _answer(_append(client, callers.bob, used, _said(secret), key), used) == _answer(
        _append(client, callers.bob, missing, _said(secret), key), missing
    )
    assert _stored(module_store, TENANT, used) == before


def test_nobody_can_use_up_another_users_key(
    client: TestClient, module_store: SqlStore, callers: Callers
) -> None:
    """bob uses a key first, on his own session: alice's later request with that key is hers
    alone, written and then replayed to her; bob's retries replay his own answer."""
    his, hers, key = _token("bob-s"), _token("alice-s"), _token("key")
    bob_first = _append(client, callers.bob, his, _said("bob's", create_if_missing=True), key)
    assert bob_first.status_code == 201, bob_first.text
    alice_body = _said("alice's", create_if_missing=True)
    alice_first = _append(client, callers.alice, hers, alice_body, key)
    assert alice_first.status_code == 201, alice_first.text
    assert "Idempotent-Replayed" not in alice_first.headers
    assert [m["content"] for m in alice_first.json()["data"]] == ["alice's"]
    alice_again = _append(client, callers.alice, hers, alice_body, key)
    assert alice_again.headers.get("Idempotent-Replayed") == "true"
    assert alice_again.json() == alice_first.json()
    bob_again = _append(client, callers.bob, his, _said("bob's", create_if_missing=True), key)
    assert bob_again.headers.get("Idempotent-Replayed") == "true"
    assert bob_again.json() == bob_first.json()
    # and alice may use a key bob has not yet: he cannot claim it afterwards either
    later = _token("key")
    assert _append(client, callers.alice, hers, _said("once more"), later).status_code == 201
    assert _append(client, callers.bob, his, _said("mine"), later).status_code == 201
    detail = client.get(f"/v1/sessions/{hers}", headers=callers.alice).json()
    assert detail["message_count"] == 2
    assert client.get(f"/v1/sessions/{his}", headers=callers.bob).json()["message_count"] == 2


def test_the_tenants_own_key_replays_what_it_could_have_sent(
    client: TestClient, callers: Callers
) -> None:
    """A tenant-wide key may write to alice's sessions, so her key and body replay to it."""
    session_id, key = _token("alice-s"), _token("key")
    body = _said("hers", create_if_missing=True, session={"user_id": "alice"})
    first = _append(client, callers.alice, session_id, body, key)
    again = _append(client, callers.admin, session_id, body, key)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()


def test_a_key_belongs_to_one_session(client: TestClient, callers: Callers) -> None:
    """One caller's key on two sessions is two keys; on one session, a request of another kind
    (messages, then a run) is a reuse with a different request."""
    one, two, key = _token("alice-s"), _token("alice-s"), _token("key")
    body = _said("same", create_if_missing=True)
    assert _append(client, callers.alice, one, body, key).status_code == 201
    second = _append(client, callers.alice, two, body, key)
    assert second.status_code == 201 and "Idempotent-Replayed" not in second.headers
    run = _record_run(client, callers.alice, one, {"input": "same"}, key)
    assert run.status_code == 409 and run.json()["error"]["param"] == "Idempotency-Key"


def test_a_deleted_session_takes_its_keys_along(
    client: TestClient, module_store: SqlStore, callers: Callers
) -> None:
    """Erasing a user leaves none of its keys (nor the answers they hold): the same request
    after the erasure is a new one."""
    session_id, key, secret = _token("erased-s"), _token("key"), _token("SECRET")
    body = _said(secret, create_if_missing=True, session={"user_id": "carol"})
    first = _append(client, callers.admin, session_id, body, key)
    assert first.status_code == 201, first.text
    assert client.delete("/v1/users/carol", headers=callers.admin).status_code == 200
    assert _stored(module_store, TENANT, session_id) == []
    again = _append(client, callers.admin, session_id, body, key)
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert again.json()["data"][0]["id"] != first.json()["data"][0]["id"]


# --- ids unique in a tenant: sessions and memories ----------------------------------------------


def test_a_session_id_another_user_holds(
    client: TestClient, module_store: SqlStore, callers: Callers
) -> None:
    """Creating a session whose id is taken fails, and says only that, the same way whoever
    holds it; the holder's session is untouched."""
    hers, his, secret = _token("alice-s"), _token("bob-s"), _token("SECRET")
    assert _append(client, callers.alice, hers, _said(secret, create_if_missing=True)).is_success
    assert _append(client, callers.bob, his, _said("his", create_if_missing=True)).is_success
    before = _stored(module_store, TENANT, hers)
    taken = client.post("/v1/sessions", json={"id": hers}, headers=callers.bob)
    own = client.post("/v1/sessions", json={"id": his}, headers=callers.bob)
    assert taken.status_code == 409
    assert _answer(taken, hers) == _answer(own, his)
    created = _append(client, callers.bob, hers, _said("intruder", create_if_missing=True))
    assert created.status_code == 409, created.text
    assert created.json()["error"] == {
        "type": "conflict",
        "message": f"session {hers!r} already exists",
        "param": "session_id",
    }
    agno = client.post("/sessions", json={"session_id": hers}, headers=callers.bob)
    assert agno.status_code == 409 and hers not in agno.text
    for answer in (taken, created, agno):
        assert secret not in answer.text and '"alice"' not in answer.text
    assert _stored(module_store, TENANT, hers) == before


def test_a_memory_id_another_user_holds(client: TestClient, callers: Callers) -> None:
    hers, his = _token("alice-m"), _token("bob-m")
    fact = _token("FACT")
    mine = {"id": hers, "memory": fact}
    assert client.post("/v1/memories", json=mine, headers=callers.alice).status_code == 201
    assert client.post(
        "/v1/memories", json={"id": his, "memory": "x"}, headers=callers.bob
    ).is_success
    taken = client.post("/v1/memories", json={"id": hers, "memory": "x"}, headers=callers.bob)
    own = client.post("/v1/memories", json={"id": his, "memory": "x"}, headers=callers.bob)
    assert taken.status_code == 409
    assert _answer(taken, hers) == _answer(own, his)
    changes = [
        client.put(f"/v1/memories/{hers}", json={"memory": "x"}, headers=callers.bob),
        client.patch(f"/memories/{hers}", json={"memory": "x"}, headers=callers.bob),
        client.delete(f"/v1/memories/{hers}", headers=callers.bob),
    ]
    for answer in changes:
        assert answer.status_code == 404, answer.text
        assert fact not in answer.text
    kept = client.get(f"/v1/memories/{hers}", headers=callers.alice).json()
    assert kept["memory"] == fact and kept["user_id"] == "alice"


# --- ids unique in a session: runs and messages -------------------------------------------------


def test_run_and_message_ids_another_user_uses(
    client: TestClient, module_store: SqlStore, callers: Callers
) -> None:
    """Run and message ids are the session's own: bob may use alice's in his sessions, reaches
    nothing of hers with them, and she goes on using them."""
    hers, his = _token("alice-s"), _token("bob-s")
    run_id, message_id = _token("run"), _token("msg")
    secret = _token("SECRET")
    alice_run = {
        "id": run_id,
        "input": secret,
        "messages": [{"id": message_id, "role": "user", "content": secret}],
    }
    body = {**alice_run, "create_if_missing": True}
    assert _record_run(client, callers.alice, hers, body).status_code == 201
    before = _stored(module_store, TENANT, hers)
    bob_run = {
        "id": run_id,
        "input": "his",
        "messages": [{"id": message_id, "role": "user", "content": "his"}],
        "create_if_missing": True,
    }
    recorded = _record_run(client, callers.bob, his, bob_run)
    assert recorded.status_code == 201, recorded.text
    assert secret not in recorded.text
    reads = [
        client.get(f"/v1/sessions/{hers}/runs/{run_id}", headers=callers.bob),
        client.get(f"/sessions/{hers}/runs/{run_id}", headers=callers.bob),
    ]
    for answer in reads:
        assert answer.status_code == 404 and secret not in answer.text
    assert _stored(module_store, TENANT, hers) == before
    again = _record_run(client, callers.alice, hers, {"id": run_id, "input": "again"})
    assert again.status_code == 409  # taken in her own session, by her
    taken = _append(client, callers.alice, hers, {"messages": [{"id": message_id, "role": "user"}]})
    assert taken.status_code == 409
    theirs = client.get(f"/v1/sessions/{his}/runs/{run_id}", headers=callers.bob).json()
    assert theirs["input"] == "his"
    # ids bob uses first in his session stay free for alice in hers
    first_run, first_message = _token("run"), _token("msg")
    for who, session_id in ((callers.bob, his), (callers.alice, hers)):
        run = {"id": first_run, "messages": [{"id": first_message, "role": "user"}]}
        assert _record_run(client, who, session_id, run).status_code == 201


# --- another tenant -----------------------------------------------------------------------------


def test_another_tenant_collides_with_nothing(
    client: TestClient, module_store: SqlStore, callers: Callers
) -> None:
    """Every id and key of acme's, sent by another tenant with the same bodies: all new, and
    nothing of acme's is read or changed."""
    session_id, run_id, message_id = _token("s"), _token("run"), _token("msg")
    memory_id, key, secret = _token("m"), _token("key"), _token("SECRET")
    body = {
        "messages": [{"id": message_id, "role": "user", "content": secret}],
        "create_if_missing": True,
    }
    run = {"id": run_id, "input": secret, "messages": []}
    memory = {"id": memory_id, "memory": secret}
    answers: dict[str, list[Any]] = {}
    for who in ("alice", "stranger"):
        headers = getattr(callers, who)
        answers[who] = [
            _append(client, headers, session_id, body, key),
            _record_run(client, headers, session_id, run, key + "-run"),
            client.post("/v1/memories", json=memory, headers=headers),
        ]
        if who == "alice":
            before = _stored(module_store, TENANT, session_id)
    for answer in answers["stranger"]:
        assert answer.status_code == 201, answer.text
        assert "Idempotent-Replayed" not in answer.headers
    own_ids = {m["id"] for m in answers["alice"][0].json()["data"]}
    assert own_ids == {m["id"] for m in answers["stranger"][0].json()["data"]} == {message_id}
    assert _stored(module_store, TENANT, session_id) == before
    assert len(_stored(module_store, OTHER_TENANT, session_id)) == 1 + 1 + 2  # + keys
    for who in ("alice", "stranger"):
        detail = client.get(f"/v1/sessions/{session_id}", headers=getattr(callers, who)).json()
        assert detail["message_count"] == 1 and detail["run_count"] == 1
