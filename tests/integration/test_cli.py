"""The `convostore` command line against real databases (SQLite file and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from click.testing import CliRunner, Result

from convostore.auth import KeyService
from convostore.cli.main import cli
from convostore.cli.serve import build_settings
from convostore.errors import Unauthenticated
from convostore.models import MessageQuery, SessionQuery
from convostore.storage import open_store
from convostore.storage.migrate import alembic_config, head_revision


def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input, env=env, catch_exceptions=False)


def ok_json(*args: str) -> Any:
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def assert_one_line_error(result: Result, fragment: str, code: int = 1) -> None:
    assert result.exit_code == code, result.output
    assert fragment in result.stderr
    assert "Traceback" not in result.output
    assert result.stderr.strip().count("\n") == 0, result.stderr


@pytest.fixture
def demo_db(database_url: str) -> str:
    loaded = ok_json("demo", "--database", database_url)
    assert loaded["sessions"] == 36
    return database_url


# --- demo -------------------------------------------------------------------------------------


def test_demo_loads_consistent_sessions_once(database_url: str) -> None:
    first = ok_json("demo", "--database", database_url)
    assert first["loaded"] is True
    assert first["sessions"] == 36 and first["messages"] > 100 and first["memories"] > 6
    again = run("demo", "--database", database_url)
    assert again.exit_code == 0
    assert "already" in again.stdout and "nothing to load" in again.stdout
    skipped = ok_json("demo", "--database", database_url, "--if-empty")
    assert skipped["loaded"] is False

    store = open_store(database_url)
    try:
        page = store.list_sessions("default", SessionQuery(limit=200, include_total=True))
        assert page.total == 36
        assert {s.type for s in page.items} == {"agent", "team", "workflow"}
        assert len({s.user_id for s in page.items}) == 6
        for session in page.items:
            messages = store.list_messages("default", session.id, MessageQuery(limit=1000))
            assert messages is not None
            assert session.message_count == len(messages.items)
            assert session.last_message_at == messages.items[-1].created_at
        memories = store.user_memory_stats("default", user_id=None, limit=100, offset=0)
        assert memories[1] == 6
    finally:
        store.close()


def test_demo_into_another_tenant_and_more_sessions_later(database_url: str) -> None:
    small = ok_json("demo", "--database", database_url, "--tenant", "acme", "--sessions", "4")
    assert small["sessions"] == 4
    more = ok_json("demo", "--database", database_url, "--tenant", "acme", "--sessions", "9")
    assert more["sessions"] == 5 and more["skipped_sessions"] == 4
    listed = ok_json("sessions", "list", "--database", database_url, "--tenant", "acme")
    assert len(listed["data"]) == 9
    assert ok_json("sessions", "list", "--database", database_url)["data"] == []


# --- sessions ---------------------------------------------------------------------------------


def test_sessions_list_filters_and_pages(demo_db: str) -> None:
    alice = ok_json("sessions", "list", "--database", demo_db, "--user-id", "alice")["data"]
    assert alice and {s["user_id"] for s in alice} == {"alice"}
    teams = ok_json("sessions", "list", "--database", demo_db, "--type", "team")["data"]
    assert teams and {s["type"] for s in teams} == {"team"}
    sql = ok_json("sessions", "list", "--database", demo_db, "--component-id", "sql-agent")
    assert {s["component_id"] for s in sql["data"]} == {"sql-agent"}

    first = ok_json("sessions", "list", "--database", demo_db, "--limit", "10")
    assert first["has_more"] is True and len(first["data"]) == 10
    second = ok_json(
        "sessions", "list", "--database", demo_db, "--limit", "10", "--after", first["next_cursor"]
    )
    first_ids = {s["id"] for s in first["data"]}
    assert first_ids.isdisjoint(s["id"] for s in second["data"])
    updated = [s["updated_at"] for s in first["data"] + second["data"]]
    assert updated == sorted(updated, reverse=True)

    by_title = ok_json(
        "sessions", "list", "--database", demo_db, "--sort", "title", "--order", "asc"
    )["data"]
    titles = [s["title"] for s in by_title]
    assert titles == sorted(titles)


def test_sessions_list_table_for_people(demo_db: str) -> None:
    result = run("sessions", "list", "--database", demo_db, "--limit", "5")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["ID", "USER", "TYPE", "COMPONENT"]
    assert len(lines) == 1 + 5 + 1  # header, rows, "More: --after ..."
    assert lines[-1].startswith("More: --after ")


def test_sessions_search_matches_titles(demo_db: str) -> None:
    found = ok_json("sessions", "search", "EGGS", "--database", demo_db)["data"]
    assert found and all("eggs" in s["title"].lower() for s in found)
    same = ok_json("sessions", "list", "--q", "eggs", "--database", demo_db)["data"]
    assert [s["id"] for s in same] == [s["id"] for s in found]
    nothing = run("sessions", "search", "no such title anywhere", "--database", demo_db)
    assert nothing.exit_code == 0 and "No sessions found." in nothing.stdout


def test_sessions_show_renders_reasoning_and_evidence(demo_db: str) -> None:
    video = ok_json("sessions", "search", "chef add the eggs", "--database", demo_db)["data"][0]
    result = run("sessions", "show", video["id"], "--database", demo_db)
    assert result.exit_code == 0
    out = result.stdout
    assert f"Session {video['id']}" in out
    assert "--- #1 user" in out and "--- #2 assistant" in out
    assert "[reasoning] Information Retrieval:" in out
    assert "[evidence] video pasta_carbonara_tutorial (VI606140356924534784, 10:12)" in out
    assert "keyframe   4:05" in out
    assert "visual_ts  4:10-4:18" in out

    shown = ok_json("sessions", "show", video["id"], "--database", demo_db)
    assert shown["session"]["id"] == video["id"]
    assert len(shown["messages"]) == shown["session"]["message_count"]
    assert shown["messages"][1]["refs"][0]["items"][0] == {
        "kind": "keyframe",
        "start": 245.0,
        "end": None,
        "text": None,
        "extra": {},
    }


def test_sessions_show_limits_messages(demo_db: str) -> None:
    team = ok_json("sessions", "list", "--type", "team", "--database", demo_db)["data"][0]
    result = run("sessions", "show", team["id"], "--messages", "2", "--database", demo_db)
    assert result.exit_code == 0
    assert "--- #2 " in result.stdout and "--- #3 " not in result.stdout
    assert f"({team['message_count'] - 2} more messages" in result.stdout
    shown = ok_json("sessions", "show", team["id"], "--messages", "2", "--database", demo_db)
    assert len(shown["messages"]) == 2 and shown["has_more"] is True


def test_sessions_show_unknown_id_is_one_line_error(database_url: str) -> None:
    result = run("sessions", "show", "404404", "--database", database_url)
    assert_one_line_error(result, "error: session '404404' not found")


def test_sessions_delete_asks_first(demo_db: str) -> None:
    target = ok_json("sessions", "list", "--limit", "1", "--database", demo_db)["data"][0]
    declined = run("sessions", "delete", target["id"], "--database", demo_db, input="n\n")
    assert declined.exit_code == 1
    assert ok_json("sessions", "show", target["id"], "--database", demo_db)["session"]

    deleted = run("sessions", "delete", target["id"], "--yes", "--database", demo_db)
    assert deleted.exit_code == 0 and f"Deleted session {target['id']}" in deleted.stdout
    gone = run("sessions", "show", target["id"], "--database", demo_db)
    assert_one_line_error(gone, "not found")
    again = run("sessions", "delete", target["id"], "--yes", "--database", demo_db)
    assert_one_line_error(again, "not found")


def test_sessions_list_bad_limit_is_an_error(database_url: str) -> None:
    result = run("sessions", "list", "--limit", "0", "--database", database_url)
    assert_one_line_error(result, "limit")


# --- keys -------------------------------------------------------------------------------------


def test_keys_create_list_revoke(database_url: str) -> None:
    created = ok_json("keys", "create", "--role", "admin", "--database", database_url)
    assert created["tenant"] == "default" and created["role"] == "admin"
    assert created["user_id"] is None and created["key"].startswith("csk_")

    scoped = ok_json(
        "keys",
        "create",
        "--tenant",
        "acme",
        "--role",
        "read",
        "--user-id",
        "alice",
        "--name",
        "browser",
        "--database",
        database_url,
    )
    assert (scoped["tenant"], scoped["role"], scoped["user_id"]) == ("acme", "read", "alice")

    store = open_store(database_url)
    try:
        keys = KeyService(store)
        principal = keys.authenticate(scoped["key"], allow_open=False)
        assert (principal.tenant_id, principal.user_id) == ("acme", "alice")

        listed = run("keys", "list", "--tenant", "acme", "--database", database_url)
        assert listed.exit_code == 0
        assert scoped["id"] in listed.stdout and "browser" in listed.stdout
        assert scoped["key"] not in listed.stdout
        assert scoped["key"].split("_", 2)[2] not in listed.stdout  # the secret (it may hold "_")
        listed_json = ok_json("keys", "list", "--tenant", "acme", "--database", database_url)
        assert [k["id"] for k in listed_json] == [scoped["id"]]
        assert "key" not in listed_json[0]

        revoked = run(
            "keys", "revoke", scoped["id"], "--tenant", "acme", "--database", database_url
        )
        assert revoked.exit_code == 0 and scoped["id"] in revoked.stdout
        # another process (here: another KeyService) sees the revocation once its short key
        # cache expires; a fresh one sees it at once
        keys = KeyService(store)
        with pytest.raises(Unauthenticated):
            keys.authenticate(scoped["key"], allow_open=False)
        assert keys.authenticate(created["key"], allow_open=False).tenant_id == "default"
    finally:
        store.close()


def test_keys_create_prints_only_the_key_on_stdout(database_url: str) -> None:
    result = run("keys", "create", "--role", "write", "--database", database_url)
    assert result.exit_code == 0
    assert result.stdout.strip().startswith("csk_") and "\n" not in result.stdout.strip()
    assert "shown again" in result.stderr


def test_keys_mistakes_are_clear_errors(database_url: str) -> None:
    bad_role = run("keys", "create", "--role", "owner", "--database", database_url)
    assert bad_role.exit_code == 2
    assert "'owner' is not one of 'admin', 'write', 'read'" in bad_role.output
    unknown = run("keys", "revoke", "0123456789abcdef", "--database", database_url)
    assert_one_line_error(unknown, "key '0123456789abcdef' not found")
    other_tenant = ok_json("keys", "create", "--role", "read", "--database", database_url)
    wrong = run(
        "keys", "revoke", other_tenant["id"], "--tenant", "acme", "--database", database_url
    )
    assert_one_line_error(wrong, "not found")


# --- db ---------------------------------------------------------------------------------------


def test_db_migrate_and_status_on_a_blank_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'blank.db'}"
    before = ok_json("db", "status", "--database", url)
    assert before == {"current": None, "head": head_revision(), "up_to_date": False}
    people = run("db", "status", "--database", url)
    assert "convostore db migrate" in people.stdout

    migrated = run("db", "migrate", "--database", url)
    assert migrated.exit_code == 0 and head_revision() in migrated.stdout
    assert ok_json("db", "status", "--database", url)["up_to_date"] is True
    again = ok_json("db", "migrate", "--database", url)
    assert again == {"previous": head_revision(), "revision": head_revision()}


def test_db_migrate_reports_how_far_indexing_for_search_got(tmp_path: Path) -> None:
    """A database from before search: `db migrate` says how many sessions it has indexed."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        command.upgrade(alembic_config(conn), "0005_component_trust")
        conn.commit()
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO sessions (tenant_id, id, user_id, type, title, message_count,"
                " run_count, last_seq, created_at, updated_at)"
                " VALUES ('default', :id, 'u', 'agent', 'kayak trip', 0, 0, 0, 1, 1)"
            ),
            [{"id": f"s{i}"} for i in range(3)],
        )
    engine.dispose()
    migrated = run("db", "migrate", "--database", url)
    assert migrated.exit_code == 0, migrated.output
    assert "Indexing for search: 3 of 3 sessions and memories" in migrated.stderr
    found = ok_json("search", "kayak", "--database", url)
    assert [hit["session_id"] for hit in found["data"]] == ["s2", "s1", "s0"]


def test_db_migrate_and_status_on_each_backend(database_url: str) -> None:
    assert ok_json("db", "migrate", "--database", database_url)["revision"] == head_revision()
    assert ok_json("db", "status", "--database", database_url)["up_to_date"] is True


def test_database_comes_from_the_environment(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'env.db'}"
    loaded = CliRunner().invoke(
        cli, ["demo", "--sessions", "2", "--json"], env={"CONVOSTORE_DATABASE_URL": url}
    )
    assert json.loads(loaded.stdout)["sessions"] == 2
    assert (tmp_path / "env.db").exists()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "invalid database URL"),
        ("mysql://u@localhost/x", "unsupported database URL"),
        ("sqlite:////no/such/dir/x.db", "cannot reach the database"),
        ("postgresql+psycopg://u@127.0.0.1:1/x", "cannot reach the database"),
    ],
)
def test_bad_or_unreachable_database_is_one_line(url: str, message: str) -> None:
    for args in (["sessions", "list"], ["keys", "list"], ["db", "status"], ["demo"]):
        assert_one_line_error(run(*args, "--database", url), message)


# --- serve (only what happens before the server starts) ---------------------------------------


def test_serve_refuses_an_open_public_bind(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    result = run("serve", "--host", "0.0.0.0", "--database", url)
    assert_one_line_error(result, "refusing to listen on 0.0.0.0 with no API key")
    assert "--insecure" in result.stderr


def test_serve_reports_an_unreachable_database() -> None:
    result = run(
        "serve",
        "--database",
        "postgresql+psycopg://u@127.0.0.1:1/x",
        env={"CONVOSTORE_CONNECT_RETRIES": "0"},
    )
    assert_one_line_error(result, "cannot reach the database at postgresql+psycopg://u@127.0.0.1:1")


def test_serve_reports_an_unreachable_named_database(tmp_path: Path) -> None:
    result = run(
        "serve",
        "--database",
        f"sqlite:///{tmp_path / 'main.db'}",
        "--database",
        "archive=postgresql+psycopg://u@127.0.0.1:1/x",
        env={"CONVOSTORE_CONNECT_RETRIES": "0"},
    )
    assert_one_line_error(result, "cannot reach the database")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--database", "sqlite:///a.db", "--database", "sqlite:///b.db"], "at most one plain"),
        (["--database", "a=sqlite:///a.db", "--database", "a=sqlite:///b.db"], "given twice"),
        (["--database", "a="], "no URL given for 'a'"),
        (["--database", "sqlite:///a.db", "--database", "default=sqlite:///b.db"], "'default'"),
    ],
)
def test_serve_rejects_bad_database_options(args: list[str], message: str) -> None:
    assert_one_line_error(run("serve", *args), message)


def test_serve_rejects_a_bad_setting_from_the_environment() -> None:
    result = run("serve", env={"CONVOSTORE_PORT": "eighty"})
    assert_one_line_error(result, "invalid setting port")


def test_serve_settings_from_database_options() -> None:
    named = build_settings(
        databases=["main=sqlite:///m.db", "archive=sqlite:///a.db"], host=None, port=9000
    )
    assert named.database_url == "sqlite:///m.db"
    assert named.default_database_id == "main"
    assert named.databases == {"main": "sqlite:///m.db", "archive": "sqlite:///a.db"}
    assert named.port == 9000 and named.host == "127.0.0.1"

    plain = build_settings(databases=["archive=sqlite:///a.db", "sqlite:///x.db?mode=rwc"])
    assert plain.database_url == "sqlite:///x.db?mode=rwc"
    assert plain.default_database_id == "default"
    assert plain.databases == {"archive": "sqlite:///a.db"}


def test_serve_options_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVOSTORE_DATABASE_URL", "sqlite:///env.db")
    monkeypatch.setenv("CONVOSTORE_PORT", "7000")
    from_env = build_settings(databases=[])
    assert (from_env.database_url, from_env.port) == ("sqlite:///env.db", 7000)
    given = build_settings(databases=["sqlite:///cli.db"], port=7100, insecure=True)
    assert (given.database_url, given.port, given.insecure) == ("sqlite:///cli.db", 7100, True)


def test_keys_erase_all_is_the_only_way_back_to_open_mode(database_url: str) -> None:
    created = ok_json("keys", "create", "--role", "admin", "--database", database_url)
    other = ok_json(
        "keys", "create", "--tenant", "acme", "--role", "read", "--database", database_url
    )
    for key, tenant in ((created, "default"), (other, "acme")):
        revoked = run("keys", "revoke", key["id"], "--tenant", tenant, "--database", database_url)
        assert revoked.exit_code == 0
    store = open_store(database_url)
    try:
        assert KeyService(store).open_mode() is False  # revoked keys still count

        refused = run("keys", "erase-all", "--database", database_url)
        assert refused.exit_code != 0 and "--yes" in refused.output
        assert KeyService(store).open_mode() is False

        erased = run("keys", "erase-all", "--yes", "--database", database_url)
        assert erased.exit_code == 0, erased.output
        assert "Erased 2 keys" in erased.stdout
        assert KeyService(store).open_mode() is True
        assert ok_json("keys", "list", "--tenant", "acme", "--database", database_url) == []
    finally:
        store.close()
