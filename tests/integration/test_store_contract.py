"""The storage contract, run against every backend (SQLite always, PostgreSQL when reachable)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from convostore.errors import Conflict, NotFound
from convostore.ids import utcnow
from convostore.models import (
    ApiKey,
    Memory,
    MemoryQuery,
    Message,
    MessageQuery,
    NewMessage,
    NewRun,
    NewSession,
    Run,
    RunQuery,
    SearchQuery,
    Session,
    SessionQuery,
)
from convostore.storage import (
    AppendRequest,
    IdempotencyClaim,
    SessionBundle,
    SqlStore,
    open_store,
)

T = "tenant-a"


def _user(content: str, **kw: object) -> NewMessage:
    return NewMessage.model_validate({"role": "user", "content": content, **kw})


def test_migrate_is_idempotent_and_ping_works(store: SqlStore) -> None:
    assert store.migrate() == store.migrate()
    assert store.ping() is True


def test_create_get_update_delete_session(store: SqlStore) -> None:
    created = store.create_session(T, NewSession(user_id="u", title="t"), session_id="s1")
    assert created.id == "s1" and created.user_id == "u" and created.title == "t"
    with pytest.raises(Conflict):
        store.create_session(T, NewSession(), session_id="s1")
    assert store.get_session(T, "s1") == created
    assert store.get_session("tenant-b", "s1") is None
    assert store.get_session(T, "s1", scope_user="other") is None
    updated = store.update_session(T, "s1", {"title": "new", "state": {"a": 1}})
    assert updated is not None and updated.title == "new" and updated.state == {"a": 1}
    assert updated.updated_at >= created.updated_at
    assert store.get_session(T, "s1") == updated
    assert store.update_session(T, "s1", {"title": "x"}, scope_user="other") is None
    assert store.delete_sessions(T, ["s1", "missing"], scope_user="other") == 0
    assert store.delete_sessions(T, ["s1", "missing"]) == 1
    assert store.get_session(T, "s1") is None


def test_append_assigns_dense_seq_and_rolls_up(store: SqlStore) -> None:
    store.create_session(T, NewSession(), session_id="s")
    first = store.append(T, AppendRequest("s", [_user("hello", metrics={"total_tokens": 2})]))
    second = store.append(
        T,
        AppendRequest(
            "s",
            [
                NewMessage(
                    role="assistant", content="a", metrics={"total_tokens": 3, "duration": 1.5}
                ),
                _user("again"),
            ],
        ),
    )
    assert [m.seq for m in first.messages + second.messages] == [1, 2, 3]
    session = store.get_session(T, "s")
    assert session is not None
    assert session.message_count == 3
    assert session.title == "hello"
    assert session.metrics == {"total_tokens": 5}  # durations are not additive
    page = store.list_messages(T, "s", MessageQuery(limit=2))
    assert page is not None and [m.seq for m in page.items] == [1, 2] and page.has_more
    assert store.list_messages(T, "nope", MessageQuery()) is None


def test_reads_of_a_session_just_read_skip_the_existence_check(store: SqlStore) -> None:
    store.create_session(T, NewSession(user_id="u"), session_id="s")
    store.append(T, AppendRequest("s", [_user("q"), _user("again")], run=NewRun(id="r1")))
    query = MessageQuery(limit=1)
    checked = store.list_messages(T, "s", query, scope_user="u")
    assert checked is not None and checked.has_more
    assert store.list_messages(T, "s", query, scope_user="u", session_read=True) == checked
    runs = store.list_runs(T, "s", RunQuery(), scope_user="u")
    assert runs and store.list_runs(T, "s", RunQuery(), scope_user="u", session_read=True) == runs
    # the caller vouches for the session: one that is not there reads as empty, not as missing
    assert store.list_messages(T, "s", query, scope_user="v") is None
    gone = store.list_messages(T, "nope", query, session_read=True)
    assert gone is not None and gone.items == [] and not gone.has_more
    assert store.list_runs(T, "nope", RunQuery(), session_read=True) == []


def test_message_windows_tell_an_empty_session_from_a_missing_or_deleted_one(
    store: SqlStore,
) -> None:
    store.create_session(T, NewSession(user_id="u"), session_id="s")
    store.create_session(T, NewSession(user_id="u"), session_id="empty")
    store.append(T, AppendRequest("s", [_user("q"), _user("again")]))
    for scope in (None, "u"):
        window = store.list_messages(T, "s", MessageQuery(after=2), scope_user=scope)
        assert window is not None and window.items == [] and not window.has_more
        empty = store.list_messages(T, "empty", MessageQuery(), scope_user=scope)
        assert empty is not None and empty.items == []
        assert store.list_messages(T, "nope", MessageQuery(), scope_user=scope) is None
    assert store.list_messages(T, "s", MessageQuery(), scope_user="someone else") is None
    assert store.delete_sessions(T, ["s"]) == 1
    assert store.list_messages(T, "s", MessageQuery()) is None


def test_projections_messages_without_refs_and_runs_by_parent(store: SqlStore) -> None:
    store.create_session(T, NewSession(), session_id="s")
    cited = NewMessage.model_validate(
        {
            "role": "assistant",
            "content": "a",
            "thinkings": [{"content": "why"}],
            "refs": [{"source": {"id": "v1"}, "items": [{"kind": "keyframe", "start": 3}]}],
        }
    )
    store.append(T, AppendRequest("s", [_user("q"), cited], run=NewRun(id="team")))
    store.append(T, AppendRequest("s", [], run=NewRun(id="member", parent_run_id="team")))
    full = store.list_messages(T, "s", MessageQuery())
    bare = store.list_messages(T, "s", MessageQuery(with_refs=False))
    assert full is not None and bare is not None
    assert full.items[1].refs[0].items[0].start == 3.0
    assert [m.refs for m in bare.items] == [[], []]
    assert [m.model_copy(update={"refs": []}) for m in full.items] == bare.items
    members = store.list_runs(T, "s", RunQuery(with_parent=True))
    top = store.list_runs(T, "s", RunQuery(with_parent=False))
    assert members is not None and [r.id for r in members] == ["member"]
    assert top is not None and [r.id for r in top] == ["team"]


def test_append_to_missing_or_foreign_session(store: SqlStore) -> None:
    with pytest.raises(NotFound):
        store.append(T, AppendRequest("nope", [_user("x")]))
    store.create_session(T, NewSession(user_id="bob"), session_id="b")
    with pytest.raises(NotFound):
        store.append(T, AppendRequest("b", [_user("x")], scope_user="alice"))
    made = store.append(T, AppendRequest("c", [_user("x")], create=NewSession(user_id="carol")))
    assert made.messages[0].seq == 1
    session = store.get_session(T, "c")
    assert session is not None and session.user_id == "carol"


def test_idempotency_claims(store: SqlStore) -> None:
    store.create_session(T, NewSession(), session_id="s")
    claim = IdempotencyClaim(key="k", scope="messages:s", request_hash="h1")
    first = store.append(T, AppendRequest("s", [_user("x")], idempotency=claim))
    again = store.append(T, AppendRequest("s", [_user("x")], idempotency=claim))
    assert again.replayed and not first.replayed
    assert again.messages == first.messages
    with pytest.raises(Conflict):
        other = IdempotencyClaim(key="k", scope="messages:s", request_hash="h2")
        store.append(T, AppendRequest("s", [_user("y")], idempotency=other))
    # the same key in another tenant is another key
    store.create_session("tenant-b", NewSession(), session_id="s")
    assert not store.append(
        "tenant-b", AppendRequest("s", [_user("x")], idempotency=claim)
    ).replayed
    session = store.get_session(T, "s")
    assert session is not None and session.message_count == 1


def test_concurrent_appends_keep_seq_dense(store: SqlStore) -> None:
    store.create_session(T, NewSession(), session_id="hot")
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(25):
                store.append(
                    T, AppendRequest("hot", [_user(f"{n}-{i}", metrics={"total_tokens": 1})])
                )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    page = store.list_messages(T, "hot", MessageQuery(limit=1000))
    assert page is not None
    assert [m.seq for m in page.items] == list(range(1, 201))
    assert len({m.content for m in page.items}) == 200
    session = store.get_session(T, "hot")
    assert session is not None and session.message_count == 200
    assert session.metrics == {"total_tokens": 200}


def test_runs(store: SqlStore) -> None:
    store.create_session(T, NewSession(component_id="agent-1"), session_id="s")
    appended = store.append(
        T,
        AppendRequest(
            "s",
            [_user("q"), NewMessage(role="assistant", content="a", metrics={"total_tokens": 9})],
            run=NewRun(id="r1", input="q", content={"answer": "a"}),
        ),
    )
    assert appended.run is not None and appended.run.metrics == {"total_tokens": 9}
    assert appended.run.component_id == "agent-1"
    store.append(T, AppendRequest("s", [], run=NewRun(id="r2", status="ERROR", metrics={})))
    runs = store.list_runs(T, "s", RunQuery())
    assert runs is not None and [r.id for r in runs] == ["r1", "r2"] and runs[0].index == 0
    assert runs[0].content == {"answer": "a"}
    errored = store.list_runs(T, "s", RunQuery(statuses=["error"]))
    assert errored is not None and [r.id for r in errored] == ["r2"]
    assert store.get_run(T, "s", "r1") == runs[0]
    assert store.get_run(T, "s", "zzz") is None
    assert store.list_runs(T, "nope", RunQuery()) is None
    with pytest.raises(Conflict):
        store.append(T, AppendRequest("s", [], run=NewRun(id="r1")))
    messages = store.list_messages(T, "s", MessageQuery(run_ids=["r1"]))
    assert messages is not None and [m.run_id for m in messages.items] == ["r1", "r1"]
    session = store.get_session(T, "s")
    assert session is not None and session.run_count == 2 and session.metrics == {"total_tokens": 9}


def test_pages_end_at_their_byte_budget(store: SqlStore) -> None:
    """A page stops after the item that takes its text and JSON to `max_bytes`: the items it
    keeps are the first ones, in order, and `has_more` and the cursor continue right after."""
    store.create_session(T, NewSession(), session_id="s")
    big = [_user(f"{i}" * 1000, extra={"k": "v" * 500}) for i in range(1, 7)]
    for start in (0, 3):  # two runs, so runs page too
        store.append(T, AppendRequest("s", big[start : start + 3], run=NewRun(input="x" * 900)))
    every = store.list_messages(T, "s", MessageQuery())
    assert every is not None and len(every.items) == 6 and not every.has_more
    for order in ("asc", "desc"):
        for with_refs in (True, False):
            seqs = [m.seq for m in every.items][:: 1 if order == "asc" else -1]
            query = MessageQuery(order=order, with_refs=with_refs)
            walked: list[Message] = []
            after: int | None = None
            for expected in (seqs[:3], seqs[3:]):  # ~1,500 each: the third reaches 3,500
                bound = {"after": after} if order == "asc" else {"before": after}
                page = store.list_messages(T, "s", query.model_copy(update=bound), max_bytes=3_500)
                assert page is not None and [m.seq for m in page.items] == expected
                assert page.has_more is (expected == seqs[:3])
                assert page.next_cursor == (str(expected[-1]) if page.has_more else None)
                walked += page.items
                after = expected[-1]
            assert walked == [
                m if with_refs else m.model_copy(update={"refs": []})
                for m in (every.items if order == "asc" else every.items[::-1])
            ]
    one = store.list_messages(T, "s", MessageQuery(limit=4), max_bytes=1)
    assert one is not None and [m.seq for m in one.items] == [1] and one.has_more
    counted = store.list_messages(T, "s", MessageQuery(limit=2), max_bytes=10**9)
    assert counted is not None and [m.seq for m in counted.items] == [1, 2] and counted.has_more
    runs = store.list_runs(T, "s", RunQuery())
    assert runs is not None and len(runs) == 2
    first = store.run_page(T, "s", RunQuery(), limit=10, max_bytes=1)
    assert first is not None and first.items == runs[:1] and first.has_more
    rest = store.run_page(T, "s", RunQuery(), after=runs[0], limit=10, max_bytes=1)
    assert rest is not None and rest.items == runs[1:] and not rest.has_more
    whole = store.run_page(T, "s", RunQuery(), limit=1)
    assert whole is not None and whole.items == runs[:1] and whole.has_more
    assert store.run_page(T, "nope", RunQuery(), limit=1) is None


def _bundle(i: int, base: datetime) -> SessionBundle:
    when = base + timedelta(minutes=i)
    session = Session(
        id=f"imp{i}",
        user_id="u",
        type="agent",
        title=f"imported {i}",
        message_count=2,
        run_count=1,
        metrics={"total_tokens": 4},
        created_at=when,
        updated_at=when,
    )
    run = Run(
        session_id=session.id,
        id=f"run{i}",
        index=0,
        user_id="u",
        status="COMPLETED",
        created_at=when,
        updated_at=when,
    )
    messages = [
        Message(
            session_id=session.id, seq=s, id=f"m{i}-{s}", role="user", content="c", created_at=when
        )
        for s in (1, 2)
    ]
    return SessionBundle(session=session, runs=[run], messages=messages)


def test_imported_messages_are_searchable_within_their_source(store: SqlStore) -> None:
    """An import indexes what it stores for search, the sources its messages cite included."""
    when = datetime(2025, 1, 1, tzinfo=UTC)
    bundle = _bundle(9, when)
    cited = Message.model_validate(
        {
            "session_id": "imp9", "seq": 3, "id": "m9-3", "role": "assistant",
            "content": "the heron lands", "created_at": when,
            "refs": [{"source": {"kind": "video", "id": "clip"},
                      "items": [{"kind": "audio_ts", "start": 5.0, "end": 6.0, "text": "heron"}]}],
        }
    )  # fmt: skip
    bundle.messages.append(cited)
    store.import_sessions(T, [bundle])
    hits = store.search(T, SearchQuery(q="heron", source_id="clip", start=5.5, end=9)).items
    assert [(h.kind, h.seq) for h in hits] == [("content", 3), ("evidence", 3)]
    assert store.search(T, SearchQuery(q="heron", source_id="clip", start=7)).items == []
    assert store.search(T, SearchQuery(q="heron", source_id="other")).items == []


def test_import_sessions_skip_and_replace(store: SqlStore) -> None:
    base = datetime(2025, 1, 1, tzinfo=UTC)
    bundles = [_bundle(i, base) for i in range(5)]
    assert len(store.import_sessions(T, bundles)) == 5
    assert store.import_sessions(T, bundles) == []
    assert store.import_sessions(T, bundles[:2], on_conflict="replace") == bundles[:2]
    page = store.list_sessions(T, SessionQuery(include_total=True, sort="created_at", order="asc"))
    assert page.total == 5 and page.items[0].created_at == base
    appended = store.append(T, AppendRequest("imp0", [_user("next")]))
    assert appended.messages[0].seq == 3


def test_list_sessions_offset_and_total(store: SqlStore) -> None:
    base = datetime(2025, 1, 1, tzinfo=UTC)
    store.import_sessions(T, [_bundle(i, base) for i in range(7)])
    page = store.list_sessions(
        T, SessionQuery(sort="created_at", limit=3, offset=3, include_total=True)
    )
    assert [s.id for s in page.items] == ["imp3", "imp2", "imp1"]
    assert page.total == 7 and page.has_more
    last = store.list_sessions(T, SessionQuery(sort="created_at", limit=3, offset=6))
    assert [s.id for s in last.items] == ["imp0"] and not last.has_more
    assert store.list_sessions("other", SessionQuery(include_total=True)).total == 0


def test_lists_follow_every_change_to_a_listed_session(store: SqlStore) -> None:
    """Listed values are remembered by their rows' content (row_memo): whatever changes a
    session, even with its timestamps unchanged, the next list shows it."""
    base = datetime(2025, 1, 1, tzinfo=UTC)
    store.import_sessions(T, [_bundle(i, base) for i in range(3)])
    brief, whole = SessionQuery(brief=True), SessionQuery()

    def listed(query: SessionQuery) -> dict[str, Session]:
        return {s.id: s for s in store.list_sessions(T, query).items}

    first_brief, first_whole = listed(brief), listed(whole)
    again = listed(brief)
    assert again == first_brief and again["imp1"] is first_brief["imp1"]  # remembered

    replaced = _bundle(0, base)  # same id and timestamps, other content
    replaced.session.title, replaced.session.state = "renamed", {"step": 2}
    store.import_sessions(T, [replaced], on_conflict="replace")
    store.update_session(T, "imp1", {"metadata": {"tag": "x"}})
    store.append(T, AppendRequest("imp2", [_user("one more")]))
    store.delete_sessions(T, ["missing"])

    now_brief, now_whole = listed(brief), listed(whole)
    assert now_brief["imp0"].title == "renamed" and now_whole["imp0"].state == {"step": 2}
    assert now_whole["imp1"].metadata == {"tag": "x"}
    assert now_whole["imp1"].updated_at > first_whole["imp1"].updated_at
    assert now_brief["imp2"].message_count == 3
    assert all(now_whole[i] == store.get_session(T, i) for i in now_whole)
    store.delete_sessions(T, ["imp2"])
    assert set(listed(brief)) == set(listed(whole)) == {"imp0", "imp1"}


def test_title_search_is_caseless_beyond_ascii_whoever_wrote_the_title(store: SqlStore) -> None:
    """Titles given at creation, by a patch, derived from the first message and imported are
    all found by any case of their words, accented letters and ß included (SQLite's own
    `lower()` folds ASCII only); LIKE's metacharacters stay literal."""
    store.create_session(T, NewSession(title="ÉTUDE of the Straße"), session_id="created")
    store.create_session(T, NewSession(title="old"), session_id="patched")
    store.update_session(T, "patched", {"title": "Überblick 100%_done"})
    store.append(T, AppendRequest("derived", [_user("Ärger IM Büro?")], create=NewSession()))
    bundle = _bundle(0, datetime(2025, 1, 1, tzinfo=UTC))
    bundle.session.title = "ΣΊΣΥΦΟΣ and Ørsted"
    store.import_sessions(T, [bundle])

    def found(q: str) -> set[str]:
        return {s.id for s in store.list_sessions(T, SessionQuery(q=q, brief=True)).items}

    assert found("étude") == found("strasse") == found("STRASSE") == {"created"}
    assert found("überblick") == found("100%_D") == {"patched"}
    assert found("100%x") == found("100_") == found("old") == set()
    assert found("ärger im büro") == {"derived"}
    assert found("σίσυφος") == found("ørsted") == {"imp0"}
    assert found("E") == {"created", "patched", "derived", "imp0"}
    count = store.list_sessions(T, SessionQuery(q="büro", include_total=True))
    assert count.total == 1


def test_title_search_finds_titles_written_without_their_folded_form(store: SqlStore) -> None:
    """A process older than migration 0002, still running during a rolling upgrade, writes
    sessions without `title_folded` (its default, empty): searches still find them."""
    store.create_session(T, NewSession(title="Quarterly Review"), session_id="new")
    with store.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO sessions (tenant_id, id, user_id, type, title, message_count,"
                " run_count, last_seq, created_at, updated_at)"
                " VALUES (:t, 'old', 'u', 'agent', 'Annual REVIEW', 0, 0, 0, 1, 1)"
            ),
            {"t": T},
        )

    def found(q: str) -> set[str]:
        return {s.id for s in store.list_sessions(T, SessionQuery(q=q, brief=True)).items}

    assert found("review") == {"new", "old"}
    assert found("annual") == {"old"} and found("quarterly") == {"new"}
    assert found("REVIEWS") == set()


def test_a_store_without_a_listing_cache_maps_every_row(database_url: str) -> None:
    opened = open_store(database_url, listing_cache_mb=0)
    try:
        opened.create_session(T, NewSession(title="t"), session_id="s")
        pages = [opened.list_sessions(T, SessionQuery(brief=True)).items for _ in range(2)]
        assert pages[0] == pages[1] and pages[0][0] is not pages[1][0]
    finally:
        opened.close()


def test_delete_user(store: SqlStore) -> None:
    store.append(T, AppendRequest("a", [_user("x")], create=NewSession(user_id="ann")))
    store.append(T, AppendRequest("b", [_user("x")], create=NewSession(user_id="ben")))
    now = utcnow()
    store.create_memory(
        T, Memory(id="m", user_id="ann", memory="m", created_at=now, updated_at=now)
    )
    erased = store.delete_user(T, "ann")
    assert (erased.sessions, erased.messages, erased.memories) == (1, 1, 1)
    assert store.get_session(T, "a") is None and store.get_session(T, "b") is not None


def test_memories(store: SqlStore) -> None:
    now = utcnow()
    for i, (user, topics) in enumerate(
        [("ann", ["food"]), ("ann", ["travel", "food"]), ("ben", ["work"])]
    ):
        store.create_memory(
            T,
            Memory(
                id=f"m{i}",
                user_id=user,
                memory=f"fact {i} about 50%",
                topics=topics,
                created_at=now + timedelta(seconds=i),
                updated_at=now + timedelta(seconds=i),
            ),
        )
    with pytest.raises(Conflict):
        store.create_memory(
            T, Memory(id="m0", user_id="x", memory="y", created_at=now, updated_at=now)
        )
    got = store.get_memory(T, "m1")
    assert got is not None and got.topics == ["travel", "food"]
    assert store.get_memory(T, "m1", scope_user="ben") is None
    page = store.list_memories(T, MemoryQuery(user_id="ann"))
    assert [m.id for m in page.items] == ["m1", "m0"]
    assert [m.id for m in store.list_memories(T, MemoryQuery(topics=["food"])).items] == [
        "m1",
        "m0",
    ]
    assert [m.id for m in store.list_memories(T, MemoryQuery(search="FACT 2")).items] == ["m2"]
    assert store.list_memories(T, MemoryQuery(search="%_")).items == []
    paged = store.list_memories(T, MemoryQuery(limit=2, include_total=True))
    assert paged.total == 3 and paged.next_cursor
    rest = store.list_memories(T, MemoryQuery(limit=2, after=paged.next_cursor))
    assert [m.id for m in rest.items] == ["m0"]
    assert store.memory_topics(T) == ["food", "travel", "work"]
    assert store.memory_topics(T, user_id="ben") == ["work"]
    stats, total = store.user_memory_stats(T, user_id=None, limit=10, offset=0)
    assert total == 2 and [(s.user_id, s.total_memories) for s in stats] == [("ben", 1), ("ann", 2)]
    assert got is not None
    replaced = store.replace_memory(T, got.model_copy(update={"memory": "changed", "topics": []}))
    assert replaced is not None and replaced.memory == "changed" and replaced.topics == []
    assert store.delete_memories(T, ["m0", "m1"], scope_user="ben") == 0
    assert store.delete_memories(T, ["m0", "m1"]) == 2


def test_keys(store: SqlStore) -> None:
    assert store.has_keys() is False
    record = ApiKey(id="k1", tenant_id="acme", role="read", created_at=utcnow())
    store.create_key(record, "hash")
    assert store.has_keys() is True
    found = store.find_key("k1")
    assert found is not None and found[0] == record and found[1] == "hash"
    assert [k.id for k in store.list_keys("acme")] == ["k1"]
    assert store.list_keys("other") == []
    assert store.revoke_key("other", "k1") is None
    revoked = store.revoke_key("acme", "k1")
    assert revoked is not None and revoked.revoked_at is not None
    assert store.has_keys() is True  # a revoked key is kept, and still counts
    store.create_key(ApiKey(id="k2", tenant_id="other", role="admin", created_at=utcnow()), "h")
    assert store.erase_keys() == 2
    assert store.has_keys() is False
    assert store.find_key("k1") is None and store.list_keys("acme") == []
