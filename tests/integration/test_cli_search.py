"""`convostore search` against real databases (SQLite file and PostgreSQL), and its `--json`
held equal to what `GET /v1/search` answers over the same data."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from fastapi.testclient import TestClient

from convostore.auth import DEFAULT_TENANT
from convostore.cli.main import cli
from convostore.models import (
    EvidenceRef,
    NewMemory,
    NewMessage,
    NewSession,
    Principal,
    Thinking,
)
from convostore.service import SessionService
from convostore.storage import SqlStore

T0 = datetime(2025, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
ADMIN = Principal(tenant_id=DEFAULT_TENANT, role="admin")


def run(*args: str, color: bool = False) -> Result:
    return CliRunner().invoke(cli, list(args), color=color, catch_exceptions=False)


def ok_json(*args: str) -> Any:
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def found(page: dict[str, Any]) -> set[tuple[str, str | None, int | None]]:
    return {(r["kind"], r["session_id"], r["seq"]) for r in page["data"]}


@pytest.fixture
def memory_id(store: SqlStore) -> str:
    """Two sessions (alice's agent, bob's team) and one of alice's memories, all saying
    "invoice", stored in the test's database; the memory's id."""
    service = SessionService(store)
    service.create_session(
        ADMIN,
        NewSession(
            id="inv-1",
            user_id="alice",
            component_id="billing-agent",
            title="Invoice review",
            created_at=T0,
        ),
    )
    evidence = EvidenceRef.model_validate(
        {
            "source": {"kind": "video", "id": "VID-1"},
            "items": [
                {"kind": "audio_ts", "start": 30, "end": 36, "text": "the invoice is on the desk"}
            ],
        }
    )
    service.append_messages(
        ADMIN,
        "inv-1",
        [
            NewMessage(role="user", content="Where is the March invoice?", created_at=T0 + HOUR),
            NewMessage(
                role="assistant",
                content="The invoice was revised & resent <today>.",
                thinkings=[Thinking(title="Lookup", content="compare the invoice totals")],
                refs=[evidence],
                created_at=T0 + 2 * HOUR,
            ),
        ],
    )
    service.create_session(
        ADMIN,
        NewSession(
            id="inv-2",
            user_id="bob",
            type="team",
            component_id="finance-team",
            title="Quarterly numbers",
            created_at=T0 + 24 * HOUR,
        ),
    )
    service.append_messages(
        ADMIN,
        "inv-2",
        [NewMessage(role="user", content="Send bob the invoice", created_at=T0 + 25 * HOUR)],
    )
    memory = service.create_memory(
        ADMIN,
        NewMemory(
            memory="Alice wants every invoice by email",
            user_id="alice",
            agent_id="billing-agent",
            created_at=T0 + 3 * HOUR,
        ),
    )
    return memory.id


@pytest.fixture
def db(database_url: str, memory_id: str) -> str:
    return database_url


def test_search_prints_one_block_per_hit(db: str, memory_id: str) -> None:
    result = run("search", "invoice", "--database", db)
    assert result.exit_code == 0, result.output
    blocks = result.stdout.strip().split("\n\n")
    assert len(blocks) == 7
    assert blocks[0] == (
        "[title] session inv-1 · user alice · 2025-01-01 00:00:00 UTC\n  Invoice review"
    )
    assert (
        "[content] session inv-1 #2 assistant · user alice · 2025-01-01 02:00:00 UTC\n"
        "  in: Invoice review\n"
        "  The invoice was revised & resent <today>."
    ) in blocks
    assert (
        "[evidence] session inv-1 #2 assistant · user alice · 2025-01-01 02:00:00 UTC\n"
        "  in: Invoice review\n"
        "  cites: video VID-1 audio_ts 0:30-0:36\n"
        "  the invoice is on the desk"
    ) in blocks
    assert (
        f"[memory] memory {memory_id} · user alice · 2025-01-01 03:00:00 UTC\n"
        "  Alice wants every invoice by email"
    ) in blocks
    assert "<mark>" not in result.stdout and "&amp;" not in result.stdout
    assert "\x1b[" not in result.stdout  # no styling when not on a terminal

    colored = run("search", "compare", "--kind", "thinking", "--database", db, color=True)
    assert colored.exit_code == 0
    assert click.style("compare", bold=True) + " the invoice totals" in colored.stdout


def test_search_json_is_the_api_page(db: str, client: TestClient) -> None:
    cases: list[tuple[list[str], dict[str, str]]] = [
        ([], {}),
        (
            ["--kind", "thinking,evidence", "--user", "alice"],
            {"kind": "thinking,evidence", "user_id": "alice"},
        ),
        (["--limit", "3"], {"limit": "3"}),
        (
            ["--source", "VID-1", "--start", "36", "--end", "40"],
            {"source_id": "VID-1", "start": "36", "end": "40"},
        ),
    ]
    for args, params in cases:
        printed = ok_json("search", "invoice", *args, "--database", db)
        answered = client.get("/v1/search", params={"q": "invoice", **params})
        assert answered.status_code == 200, answered.text
        assert printed == answered.json(), args

    page = ok_json("search", "invoice", "--database", db)
    assert set(page) == {"object", "data", "has_more", "next_cursor"}
    assert (page["object"], page["has_more"], page["next_cursor"]) == ("list", False, None)
    content = next(r for r in page["data"] if (r["kind"], r["seq"]) == ("content", 2))
    assert content["object"] == "search_result"
    assert content["created_at"] == "2025-01-01T02:00:00Z"
    assert "<mark>invoice</mark> was revised &amp; resent &lt;today&gt;." in content["snippet"]
    cited = next(r for r in page["data"] if r["kind"] == "evidence")
    assert cited["evidence"] == {
        "source_id": "VID-1",
        "source_kind": "video",
        "item_kind": "audio_ts",
        "start": 30.0,
        "end": 36.0,
    }


def test_search_filters(db: str) -> None:
    def search(*args: str) -> dict[str, Any]:
        page: dict[str, Any] = ok_json("search", "invoice", *args, "--database", db)
        return page

    assert found(search("--user", "bob")) == {("content", "inv-2", 1)}
    assert found(search("--user-id", "bob")) == {("content", "inv-2", 1)}
    assert found(search("--type", "team")) == {("content", "inv-2", 1)}
    billing = search("--component", "billing-agent")
    assert {r["session_id"] for r in billing["data"]} == {"inv-1", None}
    touching = search("--source", "VID-1", "--start", "36", "--end", "40", "--kind", "evidence")
    assert found(touching) == {("evidence", "inv-1", 2)}
    assert search("--source-id", "VID-1", "--start", "37", "--end", "40")["data"] == []
    window = search(
        "--created-after", "2025-01-01T01:30:00Z", "--created-before", "2025-01-01T02:30"
    )
    assert found(window) == {
        ("content", "inv-1", 2),
        ("thinking", "inv-1", 2),
        ("evidence", "inv-1", 2),
    }
    local = search(  # 00:30 to 01:30 UTC
        "--created-after", "2025-01-01T02:30+02:00", "--created-before", "2025-01-01T01:30"
    )
    assert found(local) == {("content", "inv-1", 1)}
    kinds = search("--kind", "content", "--kind", "memory")
    assert {r["kind"] for r in kinds["data"]} == {"content", "memory"}

    first = search("--limit", "2")
    assert len(first["data"]) <= 2 and first["has_more"] is True
    second = search("--limit", "2", "--after", first["next_cursor"])
    assert found(second).isdisjoint(found(first))
    every = search("--limit", "2", "--all")
    assert (len(every["data"]), every["has_more"], every["next_cursor"]) == (7, False, None)
    assert every["data"] == search()["data"]

    paged = run("search", "invoice", "--limit", "2", "--database", db)
    assert paged.exit_code == 0
    assert paged.stdout.rstrip().splitlines()[-1].startswith("More: --after ")
    followed = run("search", "invoice", "--limit", "2", "--all", "--database", db)
    assert followed.stdout.count("\n\n") == 6 and "More:" not in followed.stdout


def test_search_mistakes_are_clear_errors(db: str) -> None:
    nothing = run("search", "giraffe", "--database", db)
    assert nothing.exit_code == 0 and nothing.stdout == "No results.\n"
    assert ok_json("search", "giraffe", "--database", db)["data"] == []

    no_words = run("search", "!!!", "--database", db)
    assert no_words.exit_code == 1, no_words.output
    assert no_words.stderr.startswith("error: ") and no_words.stderr.count("\n") == 1
    assert "Traceback" not in no_words.output and no_words.stdout == ""

    bounds = run("search", "invoice", "--start", "5", "--database", db)
    assert bounds.exit_code == 1 and bounds.stderr.startswith("error: ")
    assert bounds.stderr.count("\n") == 1

    kind = run("search", "invoice", "--kind", "content,bogus", "--database", db)
    assert kind.exit_code == 2 and "'bogus' is not one of title, summary" in kind.stderr
    when = run("search", "invoice", "--created-after", "yesterday", "--database", db)
    assert when.exit_code == 2 and "'yesterday' is not an ISO 8601 date" in when.stderr
