"""Random sequences of native API calls keep the store consistent with a tiny in-memory model.

A Hypothesis state machine creates sessions, appends messages (with and without idempotency keys,
and replays them), records runs, patches titles and state, deletes sessions and erases users,
all over HTTP. After every step the session list must equal the model: the same sessions, users,
titles, message counts, run counts and token totals; after every write the session's messages
must have dense `seq`s and the model's contents, and a replay must never add a message.

Each run of the machine is a fresh tenant, so the examples share one database per backend.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field
from typing import Any, ClassVar

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from convostore.auth import KeyService
from convostore.storage import SqlStore
from tests.conftest import bearer
from tests.security.conftest import make_client

USERS = ["ann", "ben"]
CONTENTS = ["hi", "hello there", "  padded  ", "", "ünïcode ✓", "100% _literal_"]


@dataclass
class ModelMessage:
    role: str
    content: str
    tokens: int


@dataclass
class ModelSession:
    user_id: str
    title: str
    state: dict[str, Any] | None = None
    messages: list[ModelMessage] = field(default_factory=list)
    runs: int = 0

    @property
    def tokens(self) -> int:
        return sum(m.tokens for m in self.messages)


messages_strategy = st.lists(
    st.builds(
        ModelMessage,
        role=st.sampled_from(["user", "assistant", "system", "tool"]),
        content=st.sampled_from(CONTENTS),
        tokens=st.integers(min_value=0, max_value=10_000),
    ),
    min_size=1,
    max_size=3,
)


def _wire(messages: list[ModelMessage]) -> list[dict[str, Any]]:
    out = []
    for m in messages:
        item: dict[str, Any] = {"role": m.role, "content": m.content}
        if m.tokens:
            item["metrics"] = {"total_tokens": m.tokens}
        out.append(item)
    return out


def _derived_title(current: str, messages: list[ModelMessage], run_input: str | None) -> str:
    """The store's rule: keep a title; else the first non-blank user message; else the run input."""
    if current:
        return current
    for m in messages:
        if m.role == "user" and m.content.strip():
            return m.content.strip()
    return run_input.strip() if run_input else ""


class ConversationMachine(RuleBasedStateMachine):
    client: ClassVar[TestClient]
    store: ClassVar[SqlStore]

    sessions = Bundle("sessions")

    def __init__(self) -> None:
        super().__init__()
        self.tenant = f"model-{secrets.token_hex(4)}"
        self.headers = bearer(KeyService(self.store).create(self.tenant, "admin").key)
        self.model: dict[str, ModelSession] = {}
        # idempotency key -> (session id, request body, the seqs the first answer gave)
        self.sent: dict[str, tuple[str, dict[str, Any], list[int]]] = {}
        self.ids = itertools.count()

    # --- helpers -------------------------------------------------------------------------------

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.client.request(
            method, path, headers=self.headers | kwargs.pop("headers", {}), **kwargs
        )
        assert response.status_code < 500, response.text
        return response

    def check_messages(self, session_id: str) -> None:
        response = self.call("GET", f"/v1/sessions/{session_id}/messages", params={"limit": 1000})
        assert response.status_code == 200, response.text
        got = response.json()["data"]
        expected = self.model[session_id].messages
        assert [m["seq"] for m in got] == list(range(1, len(expected) + 1))
        assert [(m["role"], m["content"]) for m in got] == [(m.role, m.content) for m in expected]
        assert [m["metrics"].get("total_tokens", 0) for m in got] == [m.tokens for m in expected]

    # --- rules ---------------------------------------------------------------------------------

    @initialize(target=sessions)
    def first_session(self) -> str:
        return self.create_session(USERS[0], None)

    @rule(
        target=sessions, user=st.sampled_from(USERS), title=st.none() | st.sampled_from(["T", "Ä"])
    )
    def create_session(self, user: str, title: str | None) -> str:
        session_id = f"s{next(self.ids)}"
        body: dict[str, Any] = {"id": session_id, "user_id": user}
        if title is not None:
            body["title"] = title
        response = self.call("POST", "/v1/sessions", json=body)
        assert response.status_code == 201, response.text
        self.model[session_id] = ModelSession(user_id=user, title=title or "")
        return session_id

    @rule(session=sessions, messages=messages_strategy, keyed=st.booleans())
    def append(self, session: str, messages: list[ModelMessage], keyed: bool) -> None:
        body = {"messages": _wire(messages)}
        key = f"k{next(self.ids)}" if keyed else None
        headers = {"Idempotency-Key": key} if key else {}
        response = self.call("POST", f"/v1/sessions/{session}/messages", json=body, headers=headers)
        if session not in self.model:
            assert response.status_code == 404, response.text
            return
        assert response.status_code == 201, response.text
        state = self.model[session]
        first = len(state.messages) + 1
        seqs = [m["seq"] for m in response.json()["data"]]
        assert seqs == list(range(first, first + len(messages)))
        state.messages.extend(messages)
        state.title = _derived_title(state.title, messages, None)
        if key:
            self.sent[key] = (session, body, seqs)
        self.check_messages(session)

    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        live = sorted(k for k, (sid, _, _) in self.sent.items() if sid in self.model)
        if not live:
            return
        key = data.draw(st.sampled_from(live))
        session, body, seqs = self.sent[key]
        response = self.call(
            "POST", f"/v1/sessions/{session}/messages", json=body, headers={"Idempotency-Key": key}
        )
        assert response.status_code == 201, response.text
        assert response.headers.get("Idempotent-Replayed") == "true"
        assert [m["seq"] for m in response.json()["data"]] == seqs
        self.check_messages(session)

    @rule(session=sessions, messages=messages_strategy, run_input=st.sampled_from(["", "q?"]))
    def record_run(self, session: str, messages: list[ModelMessage], run_input: str) -> None:
        body = {"input": run_input, "messages": _wire(messages)}
        response = self.call("POST", f"/v1/sessions/{session}/runs", json=body)
        if session not in self.model:
            assert response.status_code == 404, response.text
            return
        assert response.status_code == 201, response.text
        state = self.model[session]
        state.messages.extend(messages)
        state.runs += 1
        state.title = _derived_title(state.title, messages, run_input)
        self.check_messages(session)

    @rule(
        session=sessions,
        title=st.none() | st.sampled_from(["", "renamed", "ñ"]),
        state=st.none() | st.dictionaries(st.sampled_from("ab"), st.integers(0, 9), max_size=2),
    )
    def patch(self, session: str, title: str | None, state: dict[str, int] | None) -> None:
        body: dict[str, Any] = {}
        if title is not None:
            body["title"] = title
        if state is not None:
            body["state"] = state
        response = self.call("PATCH", f"/v1/sessions/{session}", json=body)
        if session not in self.model:
            assert response.status_code == 404, response.text
            return
        assert response.status_code == 200, response.text
        if title is not None:
            self.model[session].title = title
        if state is not None:
            self.model[session].state = state
        got = response.json()
        assert got["title"] == self.model[session].title
        assert (got["state"] or None) == (self.model[session].state or None)

    @rule(session=consumes(sessions))
    def delete_session(self, session: str) -> None:
        response = self.call("DELETE", f"/v1/sessions/{session}")
        if session in self.model:
            assert response.status_code == 200, response.text
            del self.model[session]
        else:
            assert response.status_code == 404, response.text

    @rule(user=st.sampled_from(USERS))
    def delete_user(self, user: str) -> None:
        response = self.call("DELETE", f"/v1/users/{user}")
        assert response.status_code == 200, response.text
        gone = [sid for sid, s in self.model.items() if s.user_id == user]
        deleted = response.json()["deleted"]
        assert deleted["sessions"] == len(gone)
        assert deleted["messages"] == sum(len(self.model[sid].messages) for sid in gone)
        assert deleted["runs"] == sum(self.model[sid].runs for sid in gone)
        for sid in gone:
            del self.model[sid]

    # --- invariants ----------------------------------------------------------------------------

    @invariant()
    def listing_matches_the_model(self) -> None:
        response = self.call("GET", "/v1/sessions", params={"limit": 200, "sort": "created_at"})
        assert response.status_code == 200, response.text
        listed = {item["id"]: item for item in response.json()["data"]}
        assert set(listed) == set(self.model)
        for session_id, state in self.model.items():
            item = listed[session_id]
            assert item["user_id"] == state.user_id
            assert item["title"] == state.title
            assert item["message_count"] == len(state.messages)
            assert item["run_count"] == state.runs
            assert item["metrics"].get("total_tokens", 0) == state.tokens

    def teardown(self) -> None:
        for session_id in list(self.model):
            self.check_messages(session_id)


def test_api_calls_keep_the_store_consistent_with_a_model(
    module_store: SqlStore, module_database_url: str
) -> None:
    with make_client(module_store, module_database_url) as client:
        ConversationMachine.client = client
        ConversationMachine.store = module_store
        run_state_machine_as_test(
            ConversationMachine,
            settings=settings(
                max_examples=15,
                stateful_step_count=20,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
