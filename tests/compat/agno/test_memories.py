"""`/memories`, `/memory_topics` and `/user_memory_stats` (Agno's test_memory behaviours)."""

from __future__ import annotations

from fastapi.testclient import TestClient


def _create(client: TestClient, memory: str, user: str, topics: list[str]) -> str:
    response = client.post("/memories", json={"memory": memory, "user_id": user, "topics": topics})
    assert response.status_code == 200, response.text
    memory_id: str = response.json()["memory_id"]
    return memory_id


def test_memory_crud(client: TestClient) -> None:
    first = _create(client, "likes tea", "u1", ["food"])
    body = client.get(f"/memories/{first}").json()
    assert list(body) == [
        "memory_id",
        "memory",
        "topics",
        "agent_id",
        "team_id",
        "user_id",
        "updated_at",
    ]
    assert body["agent_id"] is None and body["updated_at"].endswith("Z")
    assert client.post("/memories", json={"memory": "x"}).json() == {
        "detail": "User ID is required"
    }
    assert client.post("/memories", json={"memory": "", "user_id": "u"}).status_code == 422
    assert client.get("/memories/none").json() == {"detail": "Memory with ID none not found"}
    replaced = client.patch(f"/memories/{first}", json={"memory": "likes coffee", "user_id": "u1"})
    assert replaced.json()["memory"] == "likes coffee"
    assert replaced.json()["topics"] == []  # a full replace
    assert client.patch(f"/memories/{first}", json={"memory": "x"}).status_code == 400
    assert client.delete(f"/memories/{first}").status_code == 204
    assert client.get(f"/memories/{first}").status_code == 404


def test_memory_listing_topics_and_stats(client: TestClient) -> None:
    ids = [
        _create(client, "likes tea", "u1", ["food"]),
        _create(client, "visited Japan", "u1", ["travel", "japan"]),
        _create(client, "likes sushi", "u2", ["food", "japan"]),
    ]
    page = client.get("/memories?limit=2&page=1").json()
    assert len(page["data"]) == 2 and page["meta"]["total_count"] == 3
    assert page["meta"]["total_pages"] == 2
    assert len(client.get("/memories?user_id=u1").json()["data"]) == 2
    japan_food = client.get("/memories?topics=food,japan").json()["data"]
    assert [m["memory"] for m in japan_food] == ["likes sushi"]
    repeated = client.get("/memories?topics=food&topics=japan").json()["data"]
    assert [m["memory"] for m in repeated] == ["likes sushi"]
    assert [m["memory"] for m in client.get("/memories?search_content=TEA").json()["data"]] == [
        "likes tea"
    ]
    assert client.get("/memories?sort_by=bogus").status_code == 400
    assert client.get("/memories?page=0").status_code == 422
    assert client.get("/memory_topics").json() == ["food", "japan", "travel"]
    assert client.get("/memory_topics?user_id=u2").json() == ["food", "japan"]
    stats = client.get("/user_memory_stats").json()
    assert {s["user_id"]: s["total_memories"] for s in stats["data"]} == {"u1": 2, "u2": 1}
    assert stats["meta"]["total_count"] == 2
    empty = client.request("DELETE", "/memories", json={"memory_ids": []})
    assert empty.status_code == 422
    gone = client.request("DELETE", "/memories", json={"memory_ids": ids[:2]})
    assert gone.status_code == 204
    assert client.get("/memories").json()["meta"]["total_count"] == 1
