"""Listing sessions: filters, sorts, keyset cursors, totals; listing never reads messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from convostore.ids import utcnow
from convostore.models import Session
from convostore.storage import SessionBundle, SqlStore


def _seed(store: SqlStore, count: int, **fields: object) -> list[str]:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    bundles = []
    for i in range(count):
        values: dict[str, object] = {
            "id": f"s{i:05d}",
            "user_id": f"user{i % 3}",
            "type": ("agent", "team", "workflow")[i % 3],
            "component_id": f"comp{i % 2}",
            "title": f"Title {i:05d}",
            "created_at": base + timedelta(minutes=i),
            "updated_at": base + timedelta(minutes=i, seconds=30),
        }
        values.update(fields)
        bundles.append(SessionBundle(session=Session.model_validate(values)))
    store.import_sessions("default", bundles)
    return [b.session.id for b in bundles]


def _ids(response_json: dict[str, object]) -> list[str]:
    return [item["id"] for item in response_json["data"]]  # type: ignore[index,union-attr]


def test_default_list_is_newest_update_first_with_envelope(
    client: TestClient, store: SqlStore
) -> None:
    _seed(store, 25)
    body = client.get("/v1/sessions").json()
    assert body["object"] == "list"
    assert len(body["data"]) == 20
    assert _ids(body)[0] == "s00024"
    assert body["first_id"] == "s00024"
    assert body["last_id"] == "s00005"
    assert body["has_more"] is True
    assert isinstance(body["next_cursor"], str)
    assert "total_count" not in body
    item = body["data"][0]
    assert set(item) == {
        "object",
        "id",
        "user_id",
        "type",
        "component_id",
        "title",
        "message_count",
        "run_count",
        "metrics",
        "created_at",
        "updated_at",
        "last_message_at",
    }


@pytest.mark.parametrize(
    ("params", "expected_first", "expected_count"),
    [
        ({"user_id": "user1"}, "s00022", 8),
        ({"type": "team"}, "s00022", 8),
        ({"component_id": "comp0"}, "s00024", 13),
        ({"q": "title 0001"}, "s00019", 10),
        ({"q": "TITLE 00007"}, "s00007", 1),
        ({"sort": "created_at", "order": "asc"}, "s00000", 25),
        ({"sort": "title", "order": "desc"}, "s00024", 25),
        ({"created_after": "2026-01-01T00:10:00Z"}, "s00024", 15),
        ({"created_before": "2026-01-01T00:10:00Z"}, "s00009", 10),
        ({"updated_after": "2026-01-01T00:20:00Z", "user_id": "user2"}, "s00023", 2),
    ],
)
def test_filters_and_sorts(
    client: TestClient,
    store: SqlStore,
    params: dict[str, str],
    expected_first: str,
    expected_count: int,
) -> None:
    _seed(store, 25)
    body = client.get("/v1/sessions", params={**params, "limit": 200, "include_total": True}).json()
    assert _ids(body)[0] == expected_first
    assert len(body["data"]) == expected_count
    assert body["total_count"] == expected_count


def test_like_metacharacters_are_literal(client: TestClient, store: SqlStore) -> None:
    _seed(store, 3)
    client.post("/v1/sessions", json={"id": "pct", "title": "100% done_now"})
    assert _ids(client.get("/v1/sessions", params={"q": "%"}).json()) == ["pct"]
    assert _ids(client.get("/v1/sessions", params={"q": "_"}).json()) == ["pct"]
    assert _ids(client.get("/v1/sessions", params={"q": "\\"}).json()) == []


def test_cursor_walks_every_session_exactly_once_while_new_ones_arrive(
    client: TestClient, store: SqlStore
) -> None:
    seeded = set(_seed(store, 1000))
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, object] = {"limit": 37}
        if cursor:
            params["after"] = cursor
        body = client.get("/v1/sessions", params=params).json()
        seen.extend(_ids(body))
        pages += 1
        # sessions created while paging are newer, so they land before the cursor, not in the walk
        client.post("/v1/sessions", json={"title": f"arrived during page {pages}"})
        if not body["has_more"]:
            assert body["next_cursor"] is None
            break
        cursor = body["next_cursor"]
    assert len(seen) == len(set(seen)) == 1000
    assert set(seen) == seeded
    assert pages == 28


@pytest.mark.parametrize("sort", ["updated_at", "created_at", "title"])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_cursor_pages_match_one_big_page(
    client: TestClient, store: SqlStore, sort: str, order: str
) -> None:
    _seed(store, 30, title="same title")  # equal titles: the id breaks ties
    whole = _ids(
        client.get("/v1/sessions", params={"sort": sort, "order": order, "limit": 200}).json()
    )
    walked: list[str] = []
    cursor = None
    while True:
        params = {"sort": sort, "order": order, "limit": 7}
        if cursor:
            params["after"] = cursor
        body = client.get("/v1/sessions", params=params).json()
        walked.extend(_ids(body))
        if not body["has_more"]:
            break
        cursor = body["next_cursor"]
    assert walked == whole


def test_cursor_from_another_sort_or_garbage_is_400(client: TestClient, store: SqlStore) -> None:
    _seed(store, 5)
    cursor = client.get("/v1/sessions", params={"limit": 2}).json()["next_cursor"]
    response = client.get("/v1/sessions", params={"after": cursor, "sort": "created_at"})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "after"
    for garbage in ("nope", "!!!", "W10", "WyJ1cGRhdGVkX2F0IiwiZGVzYyIsInMiLCJ4Il0"):
        response = client.get("/v1/sessions", params={"after": garbage})
        assert response.status_code == 400, garbage
        assert response.json()["error"]["type"] == "invalid_request"


@pytest.mark.parametrize("limit", ["0", "201", "-1", "abc", "1e9"])
def test_limit_out_of_range_is_422(client: TestClient, limit: str) -> None:
    response = client.get("/v1/sessions", params={"limit": limit})
    assert response.status_code == 422
    assert response.json()["error"]["param"] == "limit"


def test_bad_enum_values_are_422(client: TestClient) -> None:
    for params in ({"sort": "id"}, {"order": "up"}, {"type": "robot"}, {"created_after": "x"}):
        response = client.get("/v1/sessions", params=params)
        assert response.status_code == 422, params


def test_list_items_carry_rollups_not_messages(client: TestClient) -> None:
    client.post(
        "/v1/sessions/roll/messages",
        json={
            "create_if_missing": True,
            "messages": [
                {"role": "user", "content": "What is in this video?"},
                {"role": "assistant", "content": "A cat.", "metrics": {"total_tokens": 7}},
            ],
        },
    )
    item = client.get("/v1/sessions").json()["data"][0]
    assert item["id"] == "roll"
    assert item["title"] == "What is in this video?"
    assert item["message_count"] == 2
    assert item["metrics"] == {"total_tokens": 7}
    assert "messages" not in item
    assert item["last_message_at"] is not None
    assert item["updated_at"] >= item["created_at"]
    assert datetime.fromisoformat(item["updated_at"]) <= utcnow() + timedelta(seconds=5)


def test_lists_show_each_change_to_a_session_they_showed_before(client: TestClient) -> None:
    """Both list shapes (native brief items, Agno's whole sessions) after each kind of change."""
    client.post("/v1/sessions", json={"id": "s", "title": "first"})
    for _ in range(2):  # listed twice: the second page comes from remembered rows
        assert client.get("/v1/sessions").json()["data"][0]["title"] == "first"
        assert client.get("/sessions?type=agent").json()["data"][0]["session_name"] == "first"
    client.patch("/v1/sessions/s", json={"title": "second", "state": {"step": 1}})
    assert client.get("/v1/sessions").json()["data"][0]["title"] == "second"
    agno = client.get("/sessions?type=agent").json()["data"][0]
    assert agno["session_name"] == "second" and agno["session_state"] == {"step": 1}
    client.post("/v1/sessions/s/messages", json={"messages": [{"role": "user", "content": "hi"}]})
    assert client.get("/v1/sessions").json()["data"][0]["message_count"] == 1
    client.delete("/v1/sessions/s")
    assert client.get("/v1/sessions").json()["data"] == []
    assert client.get("/sessions?type=agent").json()["data"] == []
