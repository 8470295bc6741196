"""The isolation matrix: every route of every surface, called by every kind of caller that must
not reach the victim's data, is denied or told "not found" in its surface's convention, leaks
nothing of the victim in its body or headers, and changes nothing of the victim's.

The victim is end user `bob` of tenant `acme`. The callers: an admin of another tenant, a
read-only key of acme (writing), a key confined to acme's user `alice`, a revoked key, and no key
at all. Routes are read from the app itself, so a new endpoint fails `test_every_route_is_covered`
until it gets a sample request below. Keys and victim data are built once per backend.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from convostore import auth
from convostore.auth import KeyService
from convostore.config import Settings
from convostore.server import create_app
from convostore.storage import SqlStore
from convostore.storage.tables import api_keys, metadata, tenants
from tests.conftest import bearer
from tests.security.conftest import (
    all_text,
    envelope_code,
    error_problem,
    make_client,
    surface_of,
)

VICTIM_TENANT, ATTACKER_TENANT = "acme", "globex"
VICTIM_USER, OTHER_USER = "bob", "alice"
Scenario = Literal["other_tenant", "read_only", "other_user", "revoked", "no_key"]
SCENARIOS: tuple[Scenario, ...] = ("other_tenant", "read_only", "other_user", "revoked", "no_key")

# Routes anyone may call: they are checked only for server errors and leaks.
PUBLIC_PATHS = frozenset(
    {
        "/openapi.json",
        "/docs",
        "/docs/oauth2-redirect",
        "/",
        "/ui",
        "/ui/",
        "/ui/static/{path:path}",
        "/ui/search",
        "/ui/sessions/{session_id:path}",
        "/v1/health",
        "/health",
        "/metrics",
    }
)


def _token(label: str) -> str:
    return f"{label}-{secrets.token_hex(6)}"


@dataclass(frozen=True)
class Victim:
    """What bob of acme owns; every token is unique, so finding one in a response is a leak."""

    session: str = field(default_factory=lambda: _token("victim-session"))
    hidden_session: str = field(default_factory=lambda: _token("victim-hidden"))
    run: str = field(default_factory=lambda: _token("victim-run"))
    memory: str = field(default_factory=lambda: _token("victim-memory"))
    title: str = field(default_factory=lambda: _token("TITLE"))
    hidden_title: str = field(default_factory=lambda: _token("HIDDENTITLE"))
    content: str = field(default_factory=lambda: _token("CONTENT"))
    answer: str = field(default_factory=lambda: _token("ANSWER"))
    state: str = field(default_factory=lambda: _token("STATE"))
    agent: str = field(default_factory=lambda: _token("victim-agent"))
    agent_name: str = field(default_factory=lambda: _token("AGENTNAME"))
    run_input: str = field(default_factory=lambda: _token("RUNINPUT"))
    run_output: str = field(default_factory=lambda: _token("RUNOUTPUT"))
    fact: str = field(default_factory=lambda: _token("FACT"))
    topic: str = field(default_factory=lambda: _token("TOPIC"))
    source: str = field(default_factory=lambda: _token("victim-video"))
    cited: str = field(default_factory=lambda: _token("CITED"))

    def tokens(self) -> list[str]:
        return list(vars(self).values())


@dataclass(frozen=True)
class Sample:
    """One request to a route. `foreign` says what a caller who may not see the victim gets:
    "deny" (401/403/404 or the envelope's error) or "own" (a 2xx confined to the caller's own
    scope is also fine: lists, creations, and Agno's idempotent deletes and memory upserts)."""

    query: dict[str, str] = field(default_factory=dict)
    body: Any = None
    foreign: Literal["deny", "own"] = "deny"


@dataclass
class World:
    client: TestClient
    store: SqlStore
    victim: Victim
    headers: dict[Scenario, dict[str, str]]
    victim_key_ids: list[str]
    spare_key_id: str
    secrets: list[str]


def _samples(v: Victim) -> dict[tuple[str, str], Sample]:
    bob = {"user_id": VICTIM_USER}
    message = {"messages": [{"role": "user", "content": "intruder"}]}
    memory = {"memory": "intruder", "user_id": VICTIM_USER}
    detail = {"unique_id": VICTIM_USER, "sessionId": v.session}
    out: dict[tuple[str, str], Sample] = {
        # native
        ("DELETE", "/v1/users/{user_id}"): Sample(foreign="own"),
        ("POST", "/v1/keys"): Sample(body={"role": "admin", "tenant": VICTIM_TENANT}),
        ("GET", "/v1/keys"): Sample(foreign="own"),
        ("DELETE", "/v1/keys/{key_id}"): Sample(),
        ("POST", "/v1/sessions"): Sample(body={"user_id": VICTIM_USER}, foreign="own"),
        ("GET", "/v1/sessions"): Sample(query=bob, foreign="own"),
        ("GET", "/v1/sessions/{session_id}"): Sample(query={"include_messages": "10"}),
        ("PATCH", "/v1/sessions/{session_id}"): Sample(body={"title": "intruder"}),
        ("DELETE", "/v1/sessions/{session_id}"): Sample(),
        ("POST", "/v1/sessions/{session_id}/messages"): Sample(body=message),
        ("GET", "/v1/sessions/{session_id}/messages"): Sample(),
        ("POST", "/v1/sessions/{session_id}/runs"): Sample(body={"input": "intruder"}),
        ("GET", "/v1/sessions/{session_id}/runs"): Sample(),
        ("GET", "/v1/sessions/{session_id}/runs/{run_id}"): Sample(),
        ("POST", "/v1/memories"): Sample(body=memory, foreign="own"),
        ("GET", "/v1/memories"): Sample(query=bob, foreign="own"),
        ("GET", "/v1/memories/{memory_id}"): Sample(),
        ("PUT", "/v1/memories/{memory_id}"): Sample(body=memory),
        ("DELETE", "/v1/memories/{memory_id}"): Sample(),
        ("GET", "/v1/evidence"): Sample(query={"source_id": v.source}, foreign="own"),
        ("GET", "/v1/search"): Sample(query={"q": v.content, **bob}, foreign="own"),
        ("POST", "/v1/import/memories-ai"): Sample(
            body={
                "unique_id": VICTIM_USER,
                "sessions": [{"session_id": "imported-by-intruder", "messages": []}],
            },
            foreign="own",
        ),
        # Agno AgentOS
        ("GET", "/sessions"): Sample(query=bob, foreign="own"),
        ("POST", "/sessions"): Sample(
            body={"session_name": "intruder", "user_id": VICTIM_USER}, foreign="own"
        ),
        ("GET", "/sessions/{session_id}"): Sample(query=bob),
        ("POST", "/sessions/{session_id}/rename"): Sample(
            query=bob, body={"session_name": "intruder"}
        ),
        ("PATCH", "/sessions/{session_id}"): Sample(query=bob, body={"session_name": "intruder"}),
        ("DELETE", "/sessions/{session_id}"): Sample(query=bob, foreign="own"),
        ("DELETE", "/sessions"): Sample(
            query=bob,
            body={"session_ids": [v.session], "session_types": ["agent"]},
            foreign="own",
        ),
        ("GET", "/sessions/{session_id}/runs"): Sample(query=bob),
        ("GET", "/sessions/{session_id}/run-previews"): Sample(query=bob),
        ("GET", "/sessions/{session_id}/runs/{run_id}"): Sample(query=bob),
        ("POST", "/memories"): Sample(body=memory, foreign="own"),
        ("GET", "/memories"): Sample(query=bob, foreign="own"),
        ("GET", "/memories/{memory_id}"): Sample(query=bob),
        ("PATCH", "/memories/{memory_id}"): Sample(body=memory, foreign="own"),
        ("DELETE", "/memories/{memory_id}"): Sample(query=bob, foreign="own"),
        ("DELETE", "/memories"): Sample(
            body={"memory_ids": [v.memory], "user_id": VICTIM_USER}, foreign="own"
        ),
        ("GET", "/memory_topics"): Sample(query=bob, foreign="own"),
        ("GET", "/user_memory_stats"): Sample(query=bob, foreign="own"),
        ("GET", "/agents"): Sample(foreign="own"),
        ("GET", "/agents/{agent_id}"): Sample(),
        ("POST", "/agents/{agent_id}/runs"): Sample(),
        ("GET", "/teams"): Sample(foreign="own"),
        ("GET", "/teams/{team_id}"): Sample(),
        ("POST", "/teams/{team_id}/runs"): Sample(),
        ("GET", "/workflows"): Sample(foreign="own"),
        ("GET", "/workflows/{workflow_id}"): Sample(),
        ("GET", "/config"): Sample(foreign="own"),
    }
    for prefix in ("/serve/api/v1", "/serve/api/video"):
        out[("GET", f"{prefix}/list_sessions")] = Sample(
            query={"unique_id": VICTIM_USER}, foreign="own"
        )
        out[("GET", f"{prefix}/get_session_detail")] = Sample(query=detail)
    return out


def app_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) the app serves, HEAD aside."""
    found = set()
    for route in iter_route_contexts(app.routes):
        path = route.path
        if path is None:
            continue
        for method in route.methods or ():
            if method != "HEAD":
                found.add((method, path))
    return sorted(found, key=lambda item: (item[1], item[0]))


def _fill(path: str, v: Victim, key_id: str) -> str:
    values = {
        "session_id": v.session,
        "session_id:path": v.session,
        "run_id": v.run,
        "memory_id": v.memory,
        "agent_id": v.agent,
        "team_id": v.agent,
        "workflow_id": v.agent,
        "key_id": key_id,
        "user_id": VICTIM_USER,
        "path:path": "app.css",
    }
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"no sample value for a parameter of {path}"
    return path


# --- the victim's world -----------------------------------------------------------------------


def _seed(client: TestClient, v: Victim, admin: dict[str, str]) -> None:
    """bob's data, written through the API as a real client would."""
    session = {
        "user_id": VICTIM_USER,
        "title": v.title,
        "component_id": v.agent,
        "component_data": {"name": v.agent_name, "model": {"id": v.agent_name, "provider": "x"}},
        "state": {"secret": v.state},
    }
    messages = [
        {"role": "user", "content": v.content, "metrics": {"total_tokens": 7}},
        {
            "role": "assistant",
            "content": v.answer,
            "refs": [
                {
                    "source": {"id": v.source},
                    "items": [{"kind": "keyframe", "start": 3.0, "text": v.cited}],
                }
            ],
        },
    ]
    steps = [
        (
            f"/v1/sessions/{v.session}/messages",
            {"messages": messages, "create_if_missing": True, "session": session},
        ),
        (
            f"/v1/sessions/{v.session}/runs",
            {
                "id": v.run,
                "input": v.run_input,
                "content": v.run_output,
                "component_id": v.agent,
                "messages": [{"role": "assistant", "content": v.run_output}],
            },
        ),
        (
            f"/v1/sessions/{v.hidden_session}/messages",
            {
                "messages": [{"role": "user", "content": v.content}],
                "create_if_missing": True,
                "session": {"user_id": VICTIM_USER, "title": v.hidden_title},
            },
        ),
        (
            "/v1/memories",
            {"id": v.memory, "user_id": VICTIM_USER, "memory": v.fact, "topics": [v.topic]},
        ),
    ]
    for path, body in steps:
        response = client.post(path, json=body, headers=admin)
        assert response.status_code == 201, response.text


@pytest.fixture(scope="module")
def world(module_store: SqlStore, module_database_url: str) -> Iterator[World]:
    keys = KeyService(module_store)
    made = {
        "admin": keys.create(VICTIM_TENANT, "admin"),
        "read": keys.create(VICTIM_TENANT, "read"),
        "alice": keys.create(VICTIM_TENANT, "write", user_id=OTHER_USER),
        "spare": keys.create(VICTIM_TENANT, "read", name="spare"),
        "revoked": keys.create(VICTIM_TENANT, "admin"),
        "globex": keys.create(ATTACKER_TENANT, "admin"),
    }
    keys.revoke(VICTIM_TENANT, made["revoked"].record.id)
    victim = Victim()
    with make_client(module_store, module_database_url) as client:
        _seed(client, victim, bearer(made["admin"].key))
        yield World(
            client=client,
            store=module_store,
            victim=victim,
            headers={
                "other_tenant": bearer(made["globex"].key),
                "read_only": bearer(made["read"].key),
                "other_user": {"Authorization": made["alice"].key},  # raw key, memories.ai style
                "revoked": bearer(made["revoked"].key),
                "no_key": {},
            },
            victim_key_ids=[k.record.id for n, k in made.items() if n != "globex"],
            spare_key_id=made["spare"].record.id,
            secrets=[_secret_of(k.key) for k in made.values()],
        )


def _secret_of(key: str) -> str:
    parsed = auth.parse_key(key)
    assert parsed is not None
    return parsed[1]


def victim_rows(store: SqlStore, v: Victim) -> dict[str, list[tuple[Any, ...]]]:
    """Everything of acme that is not alice's own: what no request in the matrix may change."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with store.engine.connect() as conn:
        for table in metadata.sorted_tables:
            if table is tenants:
                stmt = sa.select(table).where(table.c.id == VICTIM_TENANT)
            else:
                stmt = sa.select(table).where(table.c.tenant_id == VICTIM_TENANT)
            if "user_id" in table.c and table is not api_keys:
                stmt = stmt.where(table.c.user_id != OTHER_USER)
            elif "session_id" in table.c and table.name != "idempotency_keys":
                stmt = stmt.where(table.c.session_id.in_([v.session, v.hidden_session]))
            out[table.name] = sorted((tuple(r) for r in conn.execute(stmt)), key=repr)
    return out


def _forget_attacker_data(store: SqlStore) -> None:
    with store.engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            if table is not api_keys and "tenant_id" in table.c:
                conn.execute(sa.delete(table).where(table.c.tenant_id == ATTACKER_TENANT))


# --- the checks -------------------------------------------------------------------------------


def _leaks(response: Any, sent: str, world: World) -> list[str]:
    shown = response.text + "\n" + "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    candidates = [*world.victim.tokens(), *world.victim_key_ids, *world.secrets]
    return [t for t in candidates if t in shown and t not in sent]


def _expectation(
    scenario: Scenario, surface: str, method: str, sample: Sample, response: Any
) -> str | None:
    """Why this answer is wrong for this caller, or None."""
    code = envelope_code(response) if surface == "memories_ai" else None
    if scenario in ("revoked", "no_key"):
        if surface == "memories_ai":
            return None if code == "0401" else f"expected envelope 0401, got {response.text[:200]}"
        if response.status_code != 401:
            return f"expected 401, got {response.status_code}: {response.text[:200]}"
        return error_problem(surface, response)
    if scenario == "read_only":
        if method == "GET":
            return None  # a read key reads its own tenant
        if response.status_code != 403:
            return f"expected 403, got {response.status_code}: {response.text[:200]}"
        return error_problem(surface, response)
    denied = (
        code in ("9009", "0001") if surface == "memories_ai" else response.status_code in (403, 404)
    )
    if denied:
        return error_problem(surface, response)
    if sample.foreign == "own" and 200 <= response.status_code < 300 and code in (None, "0000"):
        return None
    return f"expected denial or not-found, got {response.status_code}: {response.text[:200]}"


def _call(world: World, scenario: Scenario, method: str, template: str) -> list[str]:
    v = world.victim
    path = _fill(template, v, world.spare_key_id)
    public = template in PUBLIC_PATHS
    sample = Sample() if public else _samples(v)[(method, template)]
    sent = path + json.dumps(sample.query) + json.dumps(sample.body)
    before = victim_rows(world.store, v)
    response = world.client.request(
        method,
        path,
        params=sample.query,
        json=sample.body,
        headers=world.headers[scenario],
    )
    problems = []
    if response.status_code >= 500:
        problems.append(f"server error {response.status_code}: {response.text[:200]}")
    if not public:
        wrong = _expectation(scenario, surface_of(template), method, sample, response)
        if wrong:
            problems.append(wrong)
    if not (scenario == "read_only" and method == "GET" and not public):
        leaked = _leaks(response, sent, world)
        if leaked:
            problems.append(f"leaked {leaked}")
    if victim_rows(world.store, v) != before:
        problems.append("changed the victim's data")
    if scenario == "other_tenant" and response.status_code < 300:
        _forget_attacker_data(world.store)  # its own writes must not shape the next request
    return [f"{scenario} {method} {template}: {p}" for p in problems]


# --- tests ------------------------------------------------------------------------------------


def test_every_route_is_covered() -> None:
    """A new endpoint needs a sample request here (or a place among the public ones)."""
    app = create_app(Settings(database_url="sqlite://"))
    samples = _samples(Victim())
    missing = [
        f"{method} {path}"
        for method, path in app_routes(app)
        if path not in PUBLIC_PATHS and (method, path) not in samples
    ]
    assert not missing, f"add isolation samples for: {missing}"
    stale = [key for key in samples if key not in set(app_routes(app))]
    assert not stale, f"samples for routes that no longer exist: {stale}"


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_matrix(world: World, scenario: Scenario) -> None:
    problems: list[str] = []
    for method, template in app_routes(world.client.app):  # type: ignore[arg-type]
        problems.extend(_call(world, scenario, method, template))
    assert not problems, "\n".join(problems)


def test_the_victim_still_sees_everything(world: World) -> None:
    """The matrix proves something only if the victim's data was there all along."""
    admin_rows = victim_rows(world.store, world.victim)
    text = repr(admin_rows)
    for token in (world.victim.title, world.victim.content, world.victim.fact, world.victim.run):
        assert token in text
    detail = world.client.get(
        f"/v1/sessions/{world.victim.session}", headers=world.headers["read_only"]
    ).json()
    assert detail["title"] == world.victim.title
    assert detail["message_count"] == 3
    found = world.client.get(
        "/v1/search", params={"q": world.victim.content}, headers=world.headers["read_only"]
    ).json()
    assert world.victim.session in {hit["session_id"] for hit in found["data"]}


def test_keys_are_stored_only_as_hashes(world: World) -> None:
    stored = all_text(world.store)
    for secret in world.secrets:
        assert secret not in stored
    with world.store.engine.connect() as conn:
        rows = conn.execute(sa.select(api_keys.c.id, api_keys.c.secret_hash)).all()
    assert len(rows) >= len(world.secrets)
    for _, digest in rows:
        assert len(digest) == 64 and int(digest, 16) >= 0
    digests = {digest for _, digest in rows}
    assert {hashlib.sha256(s.encode()).hexdigest() for s in world.secrets} <= digests


def test_listing_keys_never_shows_a_secret(world: World, module_store: SqlStore) -> None:
    admin = KeyService(module_store).create(VICTIM_TENANT, "admin")
    response = world.client.get("/v1/keys", headers=bearer(admin.key))
    assert response.status_code == 200
    assert all("key" not in item for item in response.json()["data"])
    for secret in [*world.secrets, _secret_of(admin.key)]:
        assert secret not in response.text


def test_unknown_key_and_wrong_secret_take_the_same_path(
    world: World, module_store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both failures compare a digest in constant time, so timing cannot tell which one it was."""
    compared: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    keys = KeyService(module_store)
    known = keys.create(VICTIM_TENANT, "read")
    key_id = known.record.id
    attempts = {
        "unknown id": f"csk_{'0' * 16}_{'x' * 43}",
        "wrong secret": f"csk_{key_id}_{'x' * 43}",
        "malformed": "not-a-key",
    }
    bodies = set()
    for label, raw in attempts.items():
        compared.clear()
        response = world.client.get("/v1/sessions", headers=bearer(raw))
        assert response.status_code == 401, label
        bodies.add(response.text)
        assert len(compared) == 1, f"{label}: {len(compared)} constant-time comparisons"
        assert all(len(a) == len(b) == 64 for a, b in compared), label
    assert len(bodies) == 1, "every invalid key gets the same answer"
    compared.clear()
    assert world.client.get("/v1/sessions", headers=bearer(known.key)).status_code == 200
    assert len(compared) == 1
