"""`GET /v1/search`, the search contract, on every backend (SQLite FTS5, PostgreSQL tsvector).

Everything goes in and comes out over HTTP; a few asserts look into the database afterwards, to
check that an erasure leaves nothing behind in the index tables.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from convostore.auth import KeyService
from convostore.storage import SqlStore, sql_search
from tests.conftest import bearer

VIDEO = "video-market"


def session(client: TestClient, **fields: Any) -> str:
    """A session with a title of its own (not one derived from its first message)."""
    response = client.post("/v1/sessions", json={"user_id": "ann", "title": "chat", **fields})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def say(client: TestClient, session_id: str, *messages: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.post(f"/v1/sessions/{session_id}/messages", json={"messages": list(messages)})
    assert response.status_code == 201, response.text
    return list(response.json()["data"])


def user(content: str, **fields: Any) -> dict[str, Any]:
    return {"role": "user", "content": content, **fields}


def cite(*items: tuple[float, float | None, str], source: str = VIDEO) -> dict[str, Any]:
    return {
        "source": {"kind": "video", "id": source, "name": f"{source}.mp4"},
        "items": [
            {"kind": "audio_ts", "start": start, "end": end, "text": text}
            for start, end, text in items
        ],
    }


def search(client: TestClient, q: str, headers: Any = None, **params: Any) -> dict[str, Any]:
    response = client.get("/v1/search", params={"q": q, **params}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["object"] == "list"
    return body


def found(client: TestClient, q: str, **params: Any) -> list[tuple[str, Any]]:
    """(kind, seq or memory id or session id) of every hit, in order."""
    return [
        (h["kind"], h["seq"] if h["seq"] is not None else h["memory_id"] or h["session_id"])
        for h in search(client, q, **params)["data"]
    ]


def refused(client: TestClient, status: int = 400, **params: Any) -> dict[str, Any]:
    response = client.get("/v1/search", params=params)
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    return error


# --- what is searched, and the order ------------------------------------------------------------


def test_every_kind_of_text_is_found_best_first(client: TestClient) -> None:
    sid = session(client, title="Harbor walk", summary={"text": "A walk along the harbor"})
    say(
        client,
        sid,
        user("What did the harbor look like?"),
        {
            "role": "assistant",
            "content": "Calm.",
            "thinkings": [
                {"title": "Plan", "content": "check the video"},
                {"title": "Look", "content": "the harbor is calm"},
            ],
            "refs": [cite((12.0, 15.0, "boats leave the harbor"), (40.0, 44.0, "gulls"))],
        },
    )
    response = client.post(
        "/v1/memories", json={"user_id": "ann", "memory": "Ann loves the harbor"}
    )
    assert response.status_code == 201
    memory_id = response.json()["id"]

    body = search(client, "harbor")
    assert [h["kind"] for h in body["data"]] == [
        "title", "summary", "memory", "content", "thinking", "evidence",
    ]  # fmt: skip
    assert [h["score"] for h in body["data"]] == [1.0, 0.9, 0.8, 0.7, 0.6, 0.5]
    assert body["has_more"] is False and body["next_cursor"] is None
    title, summary, memory, content, thinking, evidence = body["data"]
    assert title["session_id"] == sid and title["seq"] is None
    assert title["snippet"] == "<mark>Harbor</mark> walk"
    assert summary["snippet"] == "A walk along the <mark>harbor</mark>"
    assert memory["memory_id"] == memory_id and memory["session_id"] is None
    assert memory["user_id"] == "ann"
    assert content["seq"] == 1 and content["role"] == "user"
    assert content["session_title"] == "Harbor walk"
    assert content["message_id"]
    assert content["snippet"] == "What did the <mark>harbor</mark> look like?"
    assert thinking["seq"] == 2 and "the <mark>harbor</mark> is calm" in thinking["snippet"]
    assert evidence["seq"] == 2
    assert evidence["snippet"] == "boats leave the <mark>harbor</mark>"
    assert evidence["evidence"] == {
        "source_id": VIDEO, "source_kind": "video", "item_kind": "audio_ts",
        "start": 12.0, "end": 15.0,
    }  # fmt: skip
    assert all(
        h["object"] == "search_result" and h["created_at"].endswith("Z") for h in body["data"]
    )


def test_within_a_kind_the_newest_comes_first(client: TestClient) -> None:
    sid = session(client)
    say(client, sid, user("lantern one"), user("lantern two"))
    other = session(client)
    say(client, other, user("lantern three"))
    hits = search(client, "lantern")["data"]
    assert [(h["session_id"], h["seq"]) for h in hits] == [(other, 1), (sid, 2), (sid, 1)]


def test_all_words_must_be_found_in_one_text(client: TestClient) -> None:
    sid = session(client)
    say(client, sid, user("red apple"), user("green apple"), user("red pepper"))
    assert found(client, "red apple") == [("content", 1)]
    assert found(client, "apple") == [("content", 2), ("content", 1)]
    assert found(client, "apple pepper") == []


def test_quoted_phrases_need_the_words_side_by_side(client: TestClient) -> None:
    sid = session(client)
    say(client, sid, user("the quick brown fox"), user("the brown quick fox"))
    assert found(client, '"quick brown"') == [("content", 1)]
    assert found(client, '"brown quick" fox') == [("content", 2)]
    assert found(client, "quick brown") == [("content", 2), ("content", 1)]
    assert found(client, '"quick fox"') == [("content", 2)]
    assert found(client, '"fox quick"') == []
    assert found(client, '"quick brow*"') == [("content", 1)]


def test_prefixes(client: TestClient) -> None:
    sid = session(client)
    say(client, sid, user("invoices are due"), user("an invitation"), user("invalid"))
    assert found(client, "invo*") == [("content", 1)]
    assert found(client, "inv*") == [("content", 3), ("content", 2), ("content", 1)]
    assert found(client, "invoice") == []  # a word is a whole word
    error = refused(client, q="i*")
    assert error["param"] == "q" and "prefix" in error["message"]


def test_unicode_case_and_accents_fold(client: TestClient) -> None:
    sid = session(client)
    say(
        client,
        sid,
        user("Die Straße am Café"),
        user("ÉTUDE Nº 5 — ΣΟΦΙΑ"),
        user("東京タワーに行きました"),
        user("a naïve coöperation"),
    )
    assert found(client, "strasse") == [("content", 1)]
    assert found(client, "STRASSE cafe") == [("content", 1)]
    assert found(client, "Straße CAFÉ") == [("content", 1)]
    assert found(client, "etude") == [("content", 2)]
    assert found(client, "σοφια") == [("content", 2)]
    assert found(client, "東京") == [("content", 3)]
    assert found(client, "タワー") == [("content", 3)]
    assert found(client, "京東") == []
    assert found(client, '"naive cooperation"') == [
        ("content", 4)
    ]  # ideographs are a phrase, in order
    hit = search(client, "cafe")["data"][0]
    assert hit["snippet"] == "Die Straße am <mark>Café</mark>"


def test_identifiers_and_numbers_are_phrases(client: TestClient) -> None:
    sid = session(client)
    say(
        client,
        sid,
        user("set user_id=42 and retry"),
        user("the user said id 7"),
        user("pi is 3.14159, version v2.1.0"),
    )
    assert found(client, "user_id") == [("content", 1)]
    assert found(client, "user-id") == [("content", 1)]
    assert found(client, "user id") == [("content", 2), ("content", 1)]
    assert found(client, "42") == [("content", 1)]
    assert found(client, "3.14159") == [("content", 3)]
    assert found(client, "v2.1.0") == [("content", 3)]
    assert found(client, "3.1415") == []


# --- filters --------------------------------------------------------------------------------


def test_kind_filter(client: TestClient) -> None:
    sid = session(client, title="compass")
    say(
        client,
        sid,
        {"role": "assistant", "content": "compass", "thinkings": [{"content": "compass"}]},
    )
    assert found(client, "compass", kind="content") == [("content", 1)]
    assert found(client, "compass", kind="title,thinking") == [("title", sid), ("thinking", 1)]
    response = client.get(
        "/v1/search", params=[("q", "compass"), ("kind", "title"), ("kind", "content")]
    )
    assert [h["kind"] for h in response.json()["data"]] == ["title", "content"]
    error = refused(client, q="compass", kind="content,chat")
    assert error["param"] == "kind" and "chat" in error["message"]


def test_user_component_and_type_filters(client: TestClient) -> None:
    a = session(client, user_id="ann", component_id="agent-a", type="agent")
    b = session(client, user_id="bob", component_id="team-b", type="team")
    say(client, a, user("kettle"))
    say(client, b, user("kettle"))
    client.post("/v1/memories", json={"user_id": "bob", "memory": "kettle", "team_id": "team-b"})
    assert found(client, "kettle", user_id="ann") == [("content", 1)]
    hits = search(client, "kettle", user_id="bob")["data"]
    assert [(h["kind"], h["session_id"]) for h in hits] == [("memory", None), ("content", b)]
    assert [h["session_id"] for h in search(client, "kettle", component_id="agent-a")["data"]] == [
        a
    ]
    assert [h["kind"] for h in search(client, "kettle", component_id="team-b")["data"]] == [
        "memory",
        "content",
    ]
    # a type names sessions: memories have none
    assert [h["session_id"] for h in search(client, "kettle", type="team")["data"]] == [b]
    assert found(client, "kettle", user_id="carl") == []


def test_component_filter_follows_a_patched_session(client: TestClient) -> None:
    sid = session(client, component_id="agent-old")
    say(client, sid, user("teapot"))
    assert (
        client.patch(f"/v1/sessions/{sid}", json={"component_id": "agent-new"}).status_code == 200
    )
    assert found(client, "teapot", component_id="agent-old") == []
    assert found(client, "teapot", component_id="agent-new") == [("content", 1)]


def test_created_range_filter(client: TestClient) -> None:
    sid = session(client)
    say(
        client,
        sid,
        user("meadow", created_at="2026-01-01T00:00:00Z"),
        user("meadow", created_at="2026-02-01T00:00:00Z"),
        user("meadow", created_at="2026-03-01T00:00:00Z"),
    )
    assert found(client, "meadow", created_after="2026-02-01T00:00:00Z") == [
        ("content", 3),
        ("content", 2),
    ]
    assert found(client, "meadow", created_before="2026-01-31T00:00:00Z") == [("content", 1)]
    assert found(
        client,
        "meadow",
        created_after="2026-01-15T00:00:00Z",
        created_before="2026-02-15T00:00:00Z",
    ) == [("content", 2)]


@pytest.fixture
def cited(client: TestClient) -> TestClient:
    """Message 1 cites the video at [10, 20], 2 at [30, 40], 3 another video at [10, 20], and 4
    only speaks: all of them say 'ferry'."""
    sid = session(client)
    say(
        client,
        sid,
        {"role": "assistant", "content": "ferry", "refs": [cite((10.0, 20.0, "a ferry"))]},
        {"role": "assistant", "content": "ferry", "refs": [cite((30.0, 40.0, "ferry"))]},
        {"role": "assistant", "content": "ferry", "refs": [cite((10.0, 20.0, "x"), source="v2")]},
        user("ferry"),
    )
    return client


@pytest.mark.parametrize(
    ("start", "end", "seqs"),
    [
        (None, None, [2, 1]),  # the source alone
        (20.0, 30.0, [2, 1]),  # touching both ends: closed spans overlap
        (20.5, 29.5, []),  # between the two
        (12.0, 18.0, [1]),  # inside one
        (0.0, 100.0, [2, 1]),  # spanning both
        (35.0, None, [2]),  # open end
        (None, 10.0, [1]),  # open start, touching
        (None, 9.99, []),
        (40.0, 40.0, [2]),  # a point on the edge
    ],
)
def test_media_span_overlap(
    cited: TestClient, start: float | None, end: float | None, seqs: list[int]
) -> None:
    params: dict[str, Any] = {"source_id": VIDEO, "kind": "content"}
    if start is not None:
        params["start"] = start
    if end is not None:
        params["end"] = end
    assert found(cited, "ferry", **params) == [("content", s) for s in seqs]


def test_media_span_hits_name_the_cited_item(cited: TestClient) -> None:
    hits = search(cited, "ferry", source_id=VIDEO, start=0, end=25)["data"]
    assert [(h["kind"], h["seq"]) for h in hits] == [("content", 1), ("evidence", 1)]
    assert hits[1]["evidence"]["start"] == 10.0 and hits[1]["evidence"]["end"] == 20.0
    # titles, summaries and memories cite nothing: a source filter leaves them out
    assert found(cited, "ferry", source_id="nothing-cites-this") == []


def test_span_filter_errors(client: TestClient) -> None:
    assert refused(client, q="x", start=1)["param"] == "start"
    assert refused(client, q="x", source_id=VIDEO, start=5, end=1)["param"] == "start"
    assert refused(client, q="x", source_id=VIDEO, end="inf")["param"] == "end"
    assert refused(client, q="x", source_id=VIDEO, start="nan")["param"] == "start"


# --- paging -----------------------------------------------------------------------------------


def page_through(client: TestClient, q: str, limit: int, between: Any = None) -> list[Any]:
    seen: list[Any] = []
    after = None
    for _ in range(100):
        params: dict[str, Any] = {"limit": limit}
        if after:
            params["after"] = after
        body = search(client, q, **params)
        assert len(body["data"]) <= limit
        seen += [(h["kind"], h["session_id"], h["seq"], h["memory_id"]) for h in body["data"]]
        if not body["has_more"]:
            assert body["next_cursor"] is None
            return seen
        after = body["next_cursor"]
        if between is not None:
            between()
    raise AssertionError("paging never ended")


def test_cursor_paging_is_exact_under_concurrent_appends(client: TestClient) -> None:
    sessions = [session(client, title=f"walrus {i}") for i in range(3)]
    for sid in sessions:
        say(client, sid, *[user(f"walrus {n}") for n in range(9)])
        say(
            client,
            sid,
            {"role": "assistant", "content": "ok", "thinkings": [{"content": "walrus"}]},
        )
    before = page_through(client, "walrus", limit=100)
    assert len(before) == 3 + 27 + 3

    counter = iter(range(1000))

    def append_more() -> None:
        n = next(counter)
        say(client, sessions[n % 3], user(f"walrus late {n}"))
        say(
            client,
            sessions[n % 3],
            {"role": "assistant", "content": "x", "thinkings": [{"content": "walrus"}]},
        )

    paged = page_through(client, "walrus", limit=4, between=append_more)
    assert len(paged) == len(set(paged)), "a hit came twice"
    assert set(before) <= set(paged), "a hit that existed before paging began was skipped"


def test_cursor_errors(client: TestClient) -> None:
    assert refused(client, q="x", after="not-a-cursor")["param"] == "after"
    session_list_cursor = "WyJ1cGRhdGVkX2F0IiwiZGVzYyIsMSwieCJd"
    assert refused(client, q="x", after=session_list_cursor)["param"] == "after"
    assert refused(client, 422, q="x", limit=0)["param"] == "limit"
    assert refused(client, 422, q="x", limit=101)["param"] == "limit"


# --- writes keep the index in step --------------------------------------------------------------


def index_rows(store: SqlStore, **where: Any) -> int:
    with store.engine.connect() as conn:
        clause = " AND ".join(f"{k} = :{k}" for k in where) or "1=1"
        return int(
            conn.execute(
                sa.text(f"SELECT count(*) FROM search_docs WHERE {clause}"), where
            ).scalar()
            or 0
        )


def fts_rows(store: SqlStore, term: str) -> int:
    """SQLite: documents the FTS5 index itself still holds for a term (0 on PostgreSQL)."""
    if store.dialect != "sqlite":
        return 0
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                sa.text("SELECT count(*) FROM search_fts WHERE search_fts MATCH :m"),
                {"m": f'"{term}"'},
            ).scalar()
            or 0
        )


def source_rows(store: SqlStore) -> int:
    """PostgreSQL: rows of the source index (migration 0007; 0 on SQLite, which has none)."""
    if store.dialect != "postgresql":
        return 0
    with store.engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM search_sources")).scalar() or 0)


def test_a_new_title_summary_or_memory_replaces_the_old_one(client: TestClient) -> None:
    sid = session(client, title="old albatross")
    client.patch(
        f"/v1/sessions/{sid}", json={"title": "new pelican", "summary": {"text": "osprey"}}
    )
    assert found(client, "albatross") == []
    assert found(client, "pelican") == [("title", sid)]
    assert found(client, "osprey") == [("summary", sid)]
    client.patch(f"/v1/sessions/{sid}", json={"summary": None})
    assert found(client, "osprey") == []
    memory = client.post("/v1/memories", json={"user_id": "ann", "memory": "likes heron"}).json()
    response = client.put(
        f"/v1/memories/{memory['id']}", json={"user_id": "ann", "memory": "likes stork"}
    )
    assert response.status_code == 200, response.text
    assert found(client, "heron") == []
    assert found(client, "stork") == [("memory", memory["id"])]


def test_a_derived_title_is_searchable(client: TestClient) -> None:
    sid = session(client, title="")
    say(client, sid, user("Plan the otter trip"))
    assert ("title", sid) in found(client, "otter")


def test_erasure_leaves_no_hit_and_no_index_rows(client: TestClient, store: SqlStore) -> None:
    kept = session(client, user_id="keep", title="badger")
    say(client, kept, user("badger"))
    gone = session(client, user_id="gone", title="badger", summary={"text": "badger"})
    say(
        client,
        gone,
        {
            "role": "assistant",
            "content": "badger",
            "thinkings": [{"content": "badger"}],
            "refs": [cite((1.0, 2.0, "badger"))],
        },
    )
    erased = session(client, user_id="erased", title="badger")
    say(client, erased, user("badger"))
    client.post("/v1/memories", json={"user_id": "erased", "memory": "badger"})
    memory = client.post("/v1/memories", json={"user_id": "keep", "memory": "badger"}).json()
    assert len(found(client, "badger")) == 2 + 5 + 2 + 2
    assert source_rows(store) == (3 if store.dialect == "postgresql" else 0)

    assert client.delete(f"/v1/sessions/{gone}").status_code == 200
    assert index_rows(store, session_id=gone) == 0
    assert source_rows(store) == 0  # PostgreSQL's source index went with the documents
    assert client.delete("/v1/users/erased").status_code == 200
    assert index_rows(store, user_id="erased") == 0
    assert client.delete(f"/v1/memories/{memory['id']}").status_code == 200
    assert index_rows(store, memory_id=memory["id"]) == 0
    assert found(client, "badger") == [("title", kept), ("content", 1)]
    assert index_rows(store) == 2
    if store.dialect == "sqlite":  # the FTS5 index holds only what is left
        assert fts_rows(store, "cbadger") == 1 and fts_rows(store, "tbadger") == 1


# --- hostile queries ----------------------------------------------------------------------------

HOSTILE = [
    'NEAR(a b, 3)', "a OR b", "a AND NOT b", "terms:a", "{terms}: a", "^a", "-a", "a + b",
    '"', '""', '"""', "'", "''", "\\", "(", ")", "a)(", "*", "**", "a**", "a:*", "a & b | !c",
    "a <-> b", "'a':* & b", "%", "_", "%_%", "\\x00", "a\tb\nc", "😀 a 😀", "a" * 499,
    "'; DROP TABLE search_docs; --", "<script>alert(1)</script>", "a:1 b:2", "a^2",
]  # fmt: skip


@pytest.mark.parametrize("q", HOSTILE)
def test_hostile_queries_are_literal_or_refused_never_a_500(client: TestClient, q: str) -> None:
    sid = session(client)
    say(client, sid, user("a b c OR NOT near terms"))
    response = client.get("/v1/search", params={"q": q})
    assert response.status_code in (200, 400, 413), response.text
    if response.status_code != 200:
        assert response.json()["error"]["param"] == "q"


def test_query_limits(client: TestClient) -> None:
    assert refused(client, 413, q="a " * 300)["param"] == "q"
    assert refused(client, q=" ".join(f"w{i}" for i in range(33)))["param"] == "q"
    assert refused(client, q="!!! ???")["message"] == "q has no words to search for"
    assert refused(client, q="a\x00b")["param"] == "q"
    assert refused(client, q="")["param"] == "q"


# --- scoping ----------------------------------------------------------------------------------


def test_scoped_keys_and_tenants_see_only_their_own(
    client: TestClient, store: SqlStore, keys: KeyService
) -> None:
    admin = bearer(keys.create("acme", "admin").key)
    ann = bearer(keys.create("acme", "read", user_id="ann").key)
    other_tenant = bearer(keys.create("globex", "admin").key)
    for owner in ("ann", "bob"):
        response = client.post(
            "/v1/sessions", json={"user_id": owner, "title": "puffin"}, headers=admin
        )
        assert response.status_code == 201
        client.post(
            "/v1/memories", json={"user_id": owner, "memory": "puffin"}, headers=admin
        ).raise_for_status()
    assert {h["user_id"] for h in search(client, "puffin", headers=admin)["data"]} == {"ann", "bob"}
    assert {h["user_id"] for h in search(client, "puffin", headers=ann)["data"]} == {"ann"}
    # a scoped key asking for another user still gets only its own
    assert {h["user_id"] for h in search(client, "puffin", headers=ann, user_id="bob")["data"]} == {
        "ann"
    }
    assert search(client, "puffin", headers=other_tenant)["data"] == []


def test_a_page_of_texts_slow_to_mark_is_bounded(client: TestClient) -> None:
    """Matches far into long non-ASCII texts: the page comes back whole, the snippets placed
    within the page's scan budget and the rest shown unmarked from their start."""
    sid = session(client)
    far = "é " * 15_000 + "needle"
    say(client, sid, *[user(far) for _ in range(20)])
    hits = search(client, "needle")["data"]
    assert len(hits) == 20
    assert all(h["snippet"].startswith("é é") and "<mark>" not in h["snippet"] for h in hits)


def test_rare_words_found_past_the_newest_documents(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL walks the newest few documents of a kind, then asks the GIN index for the rest:
    with a walk of two, every hit still comes, newest first, and pages stay exact."""
    monkeypatch.setattr(sql_search, "PG_WALK", 2)
    sid = session(client)
    say(client, sid, *[user(f"osprey {n}" if n % 3 == 0 else f"filler {n}") for n in range(30)])
    expected = [("content", seq) for seq in range(28, 0, -3)]
    assert found(client, "osprey") == expected
    assert found(client, "osprey", user_id="ann") == expected  # down the user's own b-tree
    paged = page_through(client, "osprey", limit=3)
    assert [(kind, seq) for kind, _, seq, _ in paged] == expected
