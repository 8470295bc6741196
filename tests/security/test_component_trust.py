"""A key confined to one end user cannot rename or re-model the components its tenant sees.

`/agents`, `/teams`, `/workflows` and `/config` describe each component from the component data of
a session naming it. A user-scoped key (safe to hand to a browser) may write any component id and
data into its own sessions; the rest of the tenant never sees a name or model it wrote. It still
sees its own sessions' components as it described them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from convostore.auth import KeyService
from convostore.storage import SqlStore
from tests.conftest import bearer
from tests.security.conftest import make_client

TENANT = "trust"
REAL = {"name": "Video Chat", "model": {"provider": "OpenAI", "name": "OpenAIChat", "id": "gpt-4o"}}
FAKE = {"name": "PWNED", "model": {"provider": "Evil", "id": "evil-1"}}


@dataclass
class Callers:
    client: TestClient
    admin: dict[str, str]
    alice: dict[str, str]
    bob: dict[str, str]

    def get(self, path: str, who: dict[str, str]) -> Any:
        response = self.client.get(path, headers=who)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="module")
def callers(module_store: SqlStore, module_database_url: str) -> Iterator[Callers]:
    keys = KeyService(module_store)
    admin = bearer(keys.create(TENANT, "admin").key)
    alice = bearer(keys.create(TENANT, "write", user_id="alice").key)
    bob = bearer(keys.create(TENANT, "write", user_id="bob").key)
    with make_client(module_store, module_database_url) as client:
        yield Callers(client, admin, alice, bob)


def _create(callers: Callers, who: dict[str, str], body: dict[str, Any]) -> None:
    response = callers.client.post("/v1/sessions", json=body, headers=who)
    assert response.status_code == 201, response.text


def _names(body: list[dict[str, Any]]) -> dict[str, Any]:
    return {a["id"]: (a.get("name"), a.get("model")) for a in body}


def test_a_user_scoped_key_cannot_describe_components_to_its_tenant(callers: Callers) -> None:
    real = {"component_id": "video-chat", "component_data": REAL}
    _create(callers, callers.admin, {"id": "t-admin", "user_id": "alice", **real})
    # alice's key writes newer sessions: one renaming the admin's component, one of its own,
    # one through the Agno surface, one through an append that creates its session
    fake = {"component_id": "video-chat", "component_data": FAKE}
    _create(callers, callers.alice, {"id": "t-alice", **fake})
    own = {"name": "Alice Bot", "model": {"id": "m", "provider": "p"}}
    _create(
        callers, callers.alice, {"id": "t-own", "component_id": "alice-bot", "component_data": own}
    )
    created = callers.client.post(
        "/sessions", json={"session_id": "t-agno", "agent_id": "agno-bot"}, headers=callers.alice
    )
    assert created.status_code == 201
    appended = callers.client.post(
        "/v1/sessions/t-append/messages",
        json={
            "create_if_missing": True,
            "session": {"component_id": "video-chat", "component_data": FAKE},
            "messages": [{"role": "user", "content": "hi"}],
        },
        headers=callers.alice,
    )
    assert appended.status_code == 201

    real_model = {"name": "OpenAIChat", "model": "gpt-4o", "provider": "OpenAI"}
    tenant_view = _names(callers.get("/agents", callers.admin))
    assert tenant_view == {
        "video-chat": ("Video Chat", real_model),
        "alice-bot": (None, None),  # listed, so its sessions can be browsed, but not described
        "agno-bot": (None, None),
    }
    assert callers.get("/agents/video-chat", callers.admin)["name"] == "Video Chat"
    config = callers.get("/config", callers.admin)
    assert {a["id"]: a.get("name") for a in config["agents"]} == {
        "video-chat": "Video Chat",
        "alice-bot": None,
        "agno-bot": None,
    }
    assert config["available_models"] == [{"id": "gpt-4o", "provider": "OpenAI"}]
    assert "PWNED" not in callers.client.get("/config", headers=callers.admin).text

    # alice sees her own sessions' components as she described them; bob sees none of them
    seen_by_alice = _names(callers.get("/agents", callers.alice))
    assert seen_by_alice["video-chat"][0] == "PWNED"
    assert seen_by_alice["alice-bot"][0] == "Alice Bot"
    assert callers.get("/agents", callers.bob) == []
    assert callers.client.get("/agents/video-chat", headers=callers.bob).status_code == 404


def test_a_user_scoped_patch_takes_the_description_away_until_the_tenant_writes_again(
    callers: Callers,
) -> None:
    real = {"component_id": "team-x", "component_data": {"name": "Team X"}, "type": "team"}
    _create(callers, callers.admin, {"id": "p-team", "user_id": "bob", **real})
    assert callers.get("/teams/team-x", callers.admin)["name"] == "Team X"
    patched = callers.client.patch(
        "/v1/sessions/p-team", json={"component_data": {"name": "Bob's"}}, headers=callers.bob
    )
    assert patched.status_code == 200
    assert "name" not in callers.get("/teams/team-x", callers.admin)
    assert callers.get("/teams/team-x", callers.bob)["name"] == "Bob's"
    # a title or state change by the user does not touch the component's trust
    callers.client.patch("/v1/sessions/p-team", json={"title": "t"}, headers=callers.admin)
    again = {"component_data": {"name": "Team X again"}}
    assert callers.client.patch("/v1/sessions/p-team", json=again, headers=callers.admin).is_success
    assert callers.get("/teams/team-x", callers.admin)["name"] == "Team X again"
