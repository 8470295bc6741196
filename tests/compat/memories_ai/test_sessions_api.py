"""list_sessions and get_session_detail over HTTP, against the reference pages' examples."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.compat.memories_ai.conftest import DETAIL, IMPORT, LIST, golden, ok

LIST_GOLDEN = "list_sessions_response.json"
DETAIL_GOLDEN = "get_session_detail_response.json"


def _import(client: TestClient, sessions: list[Any], unique_id: str = "default") -> Any:
    response = client.post(IMPORT, json={"unique_id": unique_id, "sessions": sessions})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("prefix", ["/serve/api/v1", "/serve/api/video"])
@pytest.mark.parametrize(
    "name", [DETAIL_GOLDEN, "get_session_detail_observed.json", "marketer_nested_refs.json"]
)
def test_detail_example_comes_back_exactly(client: TestClient, prefix: str, name: str) -> None:
    expected = golden(name)
    _import(client, [expected], unique_id="traveller")
    session_id = expected["data"]["session_id"]
    response = client.get(
        f"{prefix}/get_session_detail", params={"sessionId": session_id, "unique_id": "traveller"}
    )
    assert response.status_code == 200
    assert response.json() == expected


def test_detail_accepts_session_id_and_integer_ids(client: TestClient) -> None:
    expected = golden(DETAIL_GOLDEN)
    _import(client, [expected["data"]])
    for params in (
        {"session_id": "590197794380320770"},
        {"sessionId": 590197794380320770},
        {"sessionId": " 590197794380320770 ", "unique_id": "default"},
    ):
        assert client.get(DETAIL, params=params).json() == expected, params


def test_list_example_shape_and_order(client: TestClient) -> None:
    """The doc's twelve sessions, imported in scrambled order, list newest first as documented."""
    expected = golden(LIST_GOLDEN)
    items = expected["data"]["sessions"]
    details = [
        {
            "title": s["title"],
            "messages": [{"role": "user", "content": s["title"]}],
            "session_id": s["sessionId"],
        }
        for s in reversed(items)
    ]
    _import(client, details[::2] + details[1::2], unique_id="u1")
    body = client.get(LIST, params={"page": 1, "unique_id": "u1"}).json()
    # the doc example's own total ("18") disagrees with the twelve sessions it shows
    assert body == ok({**expected["data"], "total_count": str(len(items))})
    assert isinstance(body["data"]["current_page"], int)
    assert isinstance(body["data"]["total_count"], str)


def test_sessions_written_natively_appear_in_this_shape(client: TestClient) -> None:
    ids = ["601286465544130560", "601287205255778304", "601290207567941632"]
    for n, session_id in enumerate(ids):
        response = client.post(
            f"/v1/sessions/{session_id}/messages",
            json={
                "create_if_missing": True,
                "session": {"user_id": "native"},
                "messages": [
                    {"role": "system", "content": "be brief"},
                    {"role": "user", "content": f"question {n}"},
                    {
                        "role": "assistant",
                        "content": f"answer {n}",
                        "thinkings": [{"title": "Look", "content": "at the video"}],
                        "refs": [
                            {
                                "source": {"id": "VI1", "name": "clip.mp4", "duration": 10},
                                "items": [
                                    {"kind": "keyframe", "start": 23},
                                    {"kind": "visual_ts", "start": 30, "end": 36.5, "text": "t"},
                                ],
                            }
                        ],
                    },
                ],
            },
        )
        assert response.status_code == 201, response.text
    listed = client.get(LIST, params={"unique_id": "native"}).json()["data"]
    assert listed["sessions"] == [
        {"sessionId": ids[2], "title": "question 2"},
        {"sessionId": ids[1], "title": "question 1"},
        {"sessionId": ids[0], "title": "question 0"},
    ]
    detail = client.get(DETAIL, params={"sessionId": ids[0], "unique_id": "native"}).json()
    assert detail == ok(
        {
            "title": "question 0",
            "messages": [
                {"role": "user", "content": "question 0"},
                {
                    "role": "assistant",
                    "content": "answer 0",
                    "thinkings": [{"title": "Look", "content": "at the video"}],
                    "refs": [
                        {
                            "video": {
                                "duration": "10",
                                "video_no": "VI1",
                                "video_name": "clip.mp4",
                            },
                            "refItems": [
                                {"videoNo": "VI1", "startTime": 23, "type": "keyframe"},
                                {
                                    "videoNo": "VI1",
                                    "startTime": 30,
                                    "endTime": 36.5,
                                    "type": "visual_ts",
                                    "text": "t",
                                },
                            ],
                        }
                    ],
                },
            ],
            "session_id": ids[0],
        }
    )


def test_imported_evidence_reads_natively_as_first_class_refs(client: TestClient) -> None:
    _import(client, [golden(DETAIL_GOLDEN)])
    messages = client.get("/v1/sessions/590197794380320770/messages").json()["data"]
    assert [m["seq"] for m in messages] == [1, 2]
    ref = messages[1]["refs"][0]
    assert ref["source"]["id"] == "VI606140356924534784"
    assert ref["source"]["duration"] == 10.0
    assert [i["kind"] for i in ref["items"]] == ["keyframe", "visual_ts", "audio_ts"]


def test_pages_of_twenty_newest_first_and_past_the_end(client: TestClient) -> None:
    for n in range(45):
        response = client.post(
            f"/v1/sessions/s{n:02d}/messages",
            json={"create_if_missing": True, "messages": [{"role": "user", "content": f"m{n}"}]},
        )
        assert response.status_code == 201
    seen: list[str] = []
    for page, size in ((1, 20), (2, 20), (3, 5)):
        data = client.get(LIST, params={"page": str(page)}).json()["data"]
        assert data["current_page"] == page and data["page_size"] == 20
        assert data["total_count"] == "45"
        assert len(data["sessions"]) == size
        seen += [s["sessionId"] for s in data["sessions"]]
    assert seen == [f"s{n:02d}" for n in reversed(range(45))]
    past = client.get(LIST, params={"page": 4}).json()
    assert past == ok({"sessions": [], "current_page": 4, "page_size": 20, "total_count": "45"})
    far = client.get(LIST, params={"page": 999_999_999_999}).json()["data"]
    assert far["sessions"] == [] and far["total_count"] == "45"


def test_unique_ids_are_separate_namespaces(client: TestClient) -> None:
    data = golden(DETAIL_GOLDEN)["data"]
    _import(client, [data], unique_id="Alice")
    assert client.get(LIST).json()["data"]["total_count"] == "0"  # default namespace
    assert client.get(LIST, params={"unique_id": "alice"}).json()["data"]["total_count"] == "0"
    assert client.get(LIST, params={"unique_id": "Alice"}).json()["data"]["total_count"] == "1"


def test_unique_id_and_page_may_come_in_a_json_body(client: TestClient) -> None:
    _import(client, [golden(DETAIL_GOLDEN)], unique_id="bodied")
    response = client.request("GET", LIST, json={"page": 1, "unique_id": "bodied"})
    assert response.json()["data"]["total_count"] == "1"
    response = client.request(
        "GET", DETAIL, json={"sessionId": 590197794380320770, "unique_id": "bodied"}
    )
    assert response.json()["code"] == "0000"


@pytest.mark.slow
def test_two_thousand_messages_come_back_whole_and_in_order(client: TestClient) -> None:
    for batch in range(2):
        messages = [
            {"role": "user" if n % 2 == 0 else "assistant", "content": f"message {n}"}
            for n in range(batch * 1000, (batch + 1) * 1000)
        ]
        response = client.post(
            "/v1/sessions/123456789/messages",
            json={"create_if_missing": True, "messages": messages},
        )
        assert response.status_code == 201, response.text
    data = client.get(DETAIL, params={"sessionId": "123456789"}).json()["data"]
    assert [m["content"] for m in data["messages"]] == [f"message {n}" for n in range(2000)]
    assert [m["role"] for m in data["messages"][:3]] == ["user", "assistant", "user"]
