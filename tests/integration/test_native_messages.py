"""Appending and reading messages and runs through the native API."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

EVIDENCE = {
    "source": {
        "kind": "video",
        "id": "VI606140356924534784",
        "name": "kitchen.mp4",
        "duration": 10,
    },
    "items": [
        {"kind": "keyframe", "start": 23},
        {"kind": "visual_ts", "start": 30, "end": 36, "text": "A close-up of two barrels."},
        {"kind": "audio_ts", "start": 30, "end": 36, "text": "Narrator explains the recipe."},
    ],
}


def _append(
    client: TestClient, session_id: str, messages: list[dict[str, Any]], **extra: Any
) -> Any:
    response = client.post(
        f"/v1/sessions/{session_id}/messages", json={"messages": messages, **extra}
    )
    return response


def test_append_returns_stored_messages_with_seq(client: TestClient) -> None:
    client.post("/v1/sessions", json={"id": "s1"})
    response = _append(
        client,
        "s1",
        [
            {"role": "user", "content": "tell me where to travel in mid june?"},
            {
                "role": "assistant",
                "content": "Consider Japan.",
                "thinkings": [{"title": "Information Retrieval", "content": "Checking videos"}],
                "refs": [EVIDENCE],
                "tool_calls": [{"id": "call_1", "name": "search"}],
                "metrics": {"input_tokens": 134, "output_tokens": 26, "total_tokens": 160},
            },
        ],
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["session_id"] == "s1"
    assert [m["seq"] for m in body["data"]] == [1, 2]
    assistant = body["data"][1]
    assert assistant["thinkings"] == [
        {"title": "Information Retrieval", "content": "Checking videos", "extra": {}}
    ]
    assert assistant["refs"][0]["source"]["id"] == "VI606140356924534784"
    assert assistant["refs"][0]["items"][1] == {
        "kind": "visual_ts",
        "start": 30.0,
        "end": 36.0,
        "text": "A close-up of two barrels.",
        "extra": {},
    }
    assert assistant["tool_calls"] == [{"id": "call_1", "name": "search"}]
    session = client.get("/v1/sessions/s1").json()
    assert session["message_count"] == 2
    assert session["title"] == "tell me where to travel in mid june?"
    assert session["metrics"] == {"input_tokens": 134, "output_tokens": 26, "total_tokens": 160}
    assert session["last_message_at"] is not None


def test_append_to_missing_session_is_404_unless_create_if_missing(client: TestClient) -> None:
    message = [{"role": "user", "content": "hello"}]
    assert _append(client, "new", message).status_code == 404
    response = _append(
        client,
        "new",
        message,
        create_if_missing=True,
        session={"user_id": "bob", "type": "workflow", "component_id": "wf"},
    )
    assert response.status_code == 201
    session = client.get("/v1/sessions/new").json()
    assert (session["user_id"], session["type"], session["component_id"]) == (
        "bob",
        "workflow",
        "wf",
    )
    assert _append(client, "new", message, create_if_missing=True).status_code == 201
    assert client.get("/v1/sessions/new").json()["message_count"] == 2


def test_ten_thousand_messages_in_batches_come_back_exactly(client: TestClient) -> None:
    client.post("/v1/sessions", json={"id": "big"})
    sent: list[dict[str, Any]] = []
    for batch in range(10):
        messages = [
            {
                "role": "user" if i % 2 == 0 else "assistant",
                "content": f"message {batch * 1000 + i} " + "x" * (i % 50),
                "metrics": {"input_tokens": i % 7, "output_tokens": i % 5, "total_tokens": i % 11},
            }
            for i in range(1000)
        ]
        response = _append(client, "big", messages)
        assert response.status_code == 201
        sent.extend(messages)
    got: list[dict[str, Any]] = []
    after = 0
    while True:
        page = client.get(
            "/v1/sessions/big/messages", params={"after": after, "limit": 1000}
        ).json()
        got.extend(page["data"])
        if not page["has_more"]:
            break
        after = int(page["next_cursor"])
    assert [m["seq"] for m in got] == list(range(1, 10_001))
    assert [m["content"] for m in got] == [m["content"] for m in sent]
    assert [m["role"] for m in got] == [m["role"] for m in sent]
    session = client.get("/v1/sessions/big").json()
    assert session["message_count"] == 10_000
    for key in ("input_tokens", "output_tokens", "total_tokens"):
        assert session["metrics"][key] == sum(m["metrics"][key] for m in sent)


def test_message_pages_by_seq(client: TestClient) -> None:
    _append(
        client,
        "pg",
        [{"role": "user", "content": str(i)} for i in range(1, 26)],
        create_if_missing=True,
    )
    page = client.get("/v1/sessions/pg/messages", params={"limit": 10}).json()
    assert [m["seq"] for m in page["data"]] == list(range(1, 11))
    assert page["has_more"] is True
    assert page["next_cursor"] == "10"
    page = client.get("/v1/sessions/pg/messages", params={"after": 20}).json()
    assert [m["seq"] for m in page["data"]] == [21, 22, 23, 24, 25]
    assert page["has_more"] is False
    assert page["next_cursor"] is None
    page = client.get("/v1/sessions/pg/messages", params={"before": 4}).json()
    assert [m["content"] for m in page["data"]] == ["1", "2", "3"]
    page = client.get("/v1/sessions/pg/messages", params={"order": "desc", "limit": 3}).json()
    assert [m["seq"] for m in page["data"]] == [25, 24, 23]
    detail = client.get("/v1/sessions/pg", params={"include_messages": 5}).json()
    assert [m["seq"] for m in detail["messages"]["data"]] == [1, 2, 3, 4, 5]
    assert detail["messages"]["has_more"] is True


def test_idempotent_retry_returns_first_answer_and_writes_nothing(client: TestClient) -> None:
    client.post("/v1/sessions", json={"id": "idem"})
    messages = [{"role": "user", "content": "once"}, {"role": "assistant", "content": "only"}]
    headers = {"Idempotency-Key": "req-1"}
    first = client.post("/v1/sessions/idem/messages", json={"messages": messages}, headers=headers)
    again = client.post("/v1/sessions/idem/messages", json={"messages": messages}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert client.get("/v1/sessions/idem").json()["message_count"] == 2
    other = client.post(
        "/v1/sessions/idem/messages",
        json={"messages": [{"role": "user", "content": "different"}]},
        headers=headers,
    )
    assert other.status_code == 409
    assert other.json()["error"]["param"] == "Idempotency-Key"
    assert client.get("/v1/sessions/idem").json()["message_count"] == 2


def test_client_message_ids_must_be_unique_in_a_session(client: TestClient) -> None:
    _append(client, "mid", [{"id": "m1", "role": "user", "content": "a"}], create_if_missing=True)
    response = _append(client, "mid", [{"id": "m1", "role": "user", "content": "b"}])
    assert response.status_code == 409
    response = _append(client, "mid", [{"id": "m2", "role": "user"}, {"id": "m2", "role": "user"}])
    assert response.status_code == 409
    assert client.get("/v1/sessions/mid").json()["message_count"] == 1


def test_record_run_with_messages_and_read_it_back(client: TestClient) -> None:
    client.post("/v1/sessions", json={"id": "agent-s", "component_id": "basic-agent"})
    response = client.post(
        "/v1/sessions/agent-s/runs",
        json={
            "id": "run-1",
            "input": "What tools do you have?",
            "content": "None.",
            "status": "COMPLETED",
            "messages": [
                {"role": "system", "content": "You are helpful."},
                {"role": "user", "content": "What tools do you have?"},
                {
                    "role": "assistant",
                    "content": "None.",
                    "metrics": {"input_tokens": 134, "output_tokens": 26, "total_tokens": 160},
                },
            ],
        },
    )
    assert response.status_code == 201, response.text
    run = response.json()
    assert run["id"] == "run-1"
    assert run["index"] == 0
    assert run["component_id"] == "basic-agent"
    assert run["metrics"] == {"input_tokens": 134, "output_tokens": 26, "total_tokens": 160}
    assert [m["run_id"] for m in run["messages"]] == ["run-1"] * 3
    second = client.post(
        "/v1/sessions/agent-s/runs",
        json={"input": "again", "status": "ERROR", "metrics": {"total_tokens": 5}, "messages": []},
    ).json()
    assert second["index"] == 1
    runs = client.get("/v1/sessions/agent-s/runs").json()["data"]
    assert [r["id"] for r in runs] == ["run-1", second["id"]]
    errored = client.get("/v1/sessions/agent-s/runs", params={"status": "error"}).json()["data"]
    assert [r["id"] for r in errored] == [second["id"]]
    one = client.get("/v1/sessions/agent-s/runs/run-1").json()
    assert [m["role"] for m in one["messages"]] == ["system", "user", "assistant"]
    session = client.get("/v1/sessions/agent-s").json()
    assert session["run_count"] == 2
    assert session["message_count"] == 3
    assert session["metrics"]["total_tokens"] == 165
    assert session["title"] == "What tools do you have?"
    duplicate = client.post("/v1/sessions/agent-s/runs", json={"id": "run-1"})
    assert duplicate.status_code == 409
    missing = client.get("/v1/sessions/agent-s/runs/nope")
    assert missing.status_code == 404
    assert missing.json()["error"]["param"] == "run_id"


def test_a_sessions_totals_stay_small_whatever_keys_its_messages_invent(
    client: TestClient,
) -> None:
    """Each append could add new `*_tokens` names to the session's totals, which every list page
    carries: a user-scoped key could grow them by a megabyte per append. Totals keep at most 64
    names of at most 100 characters; the messages keep all of theirs."""
    long_name = "x" * 101 + "_tokens"
    for n in range(10):
        metrics: dict[str, Any] = {f"k{n}_{i}_tokens": 1 for i in range(20)}
        metrics["total_tokens"] = 2
        metrics[long_name] = 3
        body = {"messages": [{"role": "user", "content": "hi", "metrics": metrics}]}
        if n == 0:
            body["create_if_missing"] = True
        assert client.post("/v1/sessions/many/messages", json=body).status_code == 201
    totals = client.get("/v1/sessions/many").json()["metrics"]
    assert len(totals) == 64
    assert totals["total_tokens"] == 20
    assert long_name not in totals
    listed = client.get("/v1/sessions").json()["data"][0]["metrics"]
    assert listed == totals
    stored = client.get("/v1/sessions/many/messages").json()["data"]
    assert all(len(m["metrics"]) == 22 for m in stored)
