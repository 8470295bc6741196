"""Importing saved memories.ai responses: the CLI command and the native endpoint behind it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from convostore.cli.main import cli
from convostore.config import Settings
from convostore.server import create_app
from convostore.storage import SqlStore
from tests.compat.memories_ai.conftest import DETAIL, IMPORT, LIST, golden, ok
from tests.conftest import LOCAL_URL

DETAIL_GOLDEN = "get_session_detail_response.json"
OBSERVED = "get_session_detail_observed.json"
NESTED = "marketer_nested_refs.json"


def _write(path: Path, value: Any) -> str:
    path.write_text(json.dumps(value))
    return str(path)


def _run(database_url: str, *args: str) -> Any:
    result = CliRunner().invoke(
        cli, ["import", "memories-ai", "--database", database_url, *args], catch_exceptions=False
    )
    return result


def _cli_json(database_url: str, *args: str) -> dict[str, Any]:
    result = _run(database_url, "--json", *args)
    assert result.exit_code == 0, result.output
    value: dict[str, Any] = json.loads(result.stdout)
    return value


def test_cli_imports_every_accepted_form_idempotently(
    database_url: str, settings: Settings, store: SqlStore, tmp_path: Path
) -> None:
    one = _write(tmp_path / "one.json", golden(DETAIL_GOLDEN))
    several = _write(tmp_path / "several.json", [golden(OBSERVED), golden(NESTED)["data"]])
    bundle = {
        "list": {
            "code": "0000",
            "msg": "success",
            "data": {
                "sessions": [
                    {"sessionId": "700000000000000001", "title": "Listed title"},
                    {"sessionId": "700000000000000002", "title": "Never fetched"},
                ],
                "current_page": 1,
                "page_size": 20,
                "total_count": "2",
            },
            "success": True,
            "failed": False,
        },
        "details": [
            {"session_id": "700000000000000001", "messages": [{"role": "user", "content": "hello"}]}
        ],
    }
    bundled = _write(tmp_path / "bundle.json", bundle)
    lines = tmp_path / "lines.jsonl"
    lines.write_text(
        json.dumps({"session_id": "42", "title": "jsonl", "messages": []})
        + "\n\n"
        + json.dumps({"session_id": 43, "messages": [{"role": "user", "content": "q"}]})
        + "\n"
    )
    files = [one, several, bundled, str(lines)]

    first = _cli_json(database_url, "--unique-id", "team", *files)
    assert first == {
        "unique_id": "team",
        "sessions": 6,
        "imported": 6,
        "skipped": 0,
        "messages": 2 + 4 + 2 + 1 + 1,
        "missing_details": ["700000000000000002"],
    }
    again = _cli_json(database_url, "--unique-id", "team", *files)
    assert again["imported"] == 0 and again["skipped"] == 6 and again["messages"] == 0

    with TestClient(create_app(settings, store=store), base_url=LOCAL_URL) as client:
        listed = client.get(LIST, params={"unique_id": "team"}).json()["data"]
        assert listed["total_count"] == "6"
        titles = {s["sessionId"]: s["title"] for s in listed["sessions"]}
        assert titles["700000000000000001"] == "Listed title"
        assert titles["43"] == "q"  # no title anywhere: the first prompt, as memories.ai does
        assert titles["42"] == "jsonl"
        for name in (DETAIL_GOLDEN, OBSERVED, NESTED):
            expected = golden(name)
            params = {"sessionId": expected["data"]["session_id"], "unique_id": "team"}
            assert client.get(DETAIL, params=params).json() == ok(expected["data"])


def test_cli_replace_and_human_output(database_url: str, tmp_path: Path) -> None:
    path = _write(tmp_path / "one.json", golden(DETAIL_GOLDEN))
    result = _run(database_url, path)
    assert result.exit_code == 0
    assert "imported 1 of 1 sessions (2 messages) for unique_id 'default'" in result.stdout
    replaced = _cli_json(database_url, "--replace", path)
    assert replaced["imported"] == 1 and replaced["messages"] == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not JSON"),
        (b'{"code": "0001", "msg": "session not found", "data": null}', "error response"),
        (b'{"hello": 1}', "no session_id"),
        (b'{"session_id": "1", "messages": [{"role": "wizard"}]}', "role"),
        (b'{"session_id": "a/b", "messages": []}', "session_id"),
    ],
)
def test_cli_refuses_bad_files_with_one_line(
    database_url: str, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    result = _run(database_url, str(path))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert result.stderr.count("\n") == 1


def test_cli_never_touches_a_session_of_another_unique_id(
    database_url: str, tmp_path: Path
) -> None:
    path = _write(tmp_path / "one.json", golden(DETAIL_GOLDEN))
    assert _run(database_url, "--unique-id", "a", path).exit_code == 0
    for extra in ((), ("--replace",)):
        result = _run(database_url, "--unique-id", "b", *extra, path)
        assert result.exit_code == 1
        assert "another user" in result.stderr


def test_endpoint_counts_and_is_idempotent(client: TestClient) -> None:
    body = {"unique_id": "u", "sessions": [golden(DETAIL_GOLDEN), golden(NESTED)]}
    first = client.post(IMPORT, json=body)
    assert first.status_code == 200
    assert first.json() == {
        "object": "import.result",
        "unique_id": "u",
        "sessions": 2,
        "imported": 2,
        "skipped": 0,
        "messages": 4,
        "missing_details": [],
    }
    second = client.post(IMPORT, json=body).json()
    assert (second["imported"], second["skipped"], second["messages"]) == (0, 2, 0)
    duplicated = client.post(IMPORT, json={**body, "sessions": body["sessions"] * 2}).json()
    assert (duplicated["sessions"], duplicated["skipped"]) == (4, 4)
    replaced = client.post(IMPORT, json={**body, "on_conflict": "replace"}).json()
    assert replaced["imported"] == 2
    assert client.get(LIST, params={"unique_id": "u"}).json()["data"]["total_count"] == "2"


def test_endpoint_errors_are_native(client: TestClient) -> None:
    for body, status in (
        ({"sessions": []}, 422),
        ({"sessions": [{"messages": []}]}, 400),
        ({"unique_id": "", "sessions": [golden(OBSERVED)]}, 400),
        ({"sessions": [golden(OBSERVED)], "bogus": 1}, 422),
    ):
        response = client.post(IMPORT, json=body)
        assert response.status_code == status, response.text
        assert "error" in response.json()


def test_endpoint_respects_roles_and_user_scope(api: TestClient, keyed: dict[str, str]) -> None:
    sessions = [golden(OBSERVED)]
    read = api.post(IMPORT, json={"sessions": sessions}, headers={"Authorization": keyed["read"]})
    assert read.status_code == 403
    denied = api.post(
        IMPORT,
        json={"unique_id": "bob", "sessions": sessions},
        headers={"Authorization": keyed["alice_write"]},
    )
    assert denied.status_code == 403
    own = api.post(
        IMPORT, json={"sessions": sessions}, headers={"Authorization": keyed["alice_write"]}
    )
    assert own.status_code == 200 and own.json()["unique_id"] == "alice"
    assert api.post(IMPORT, json={"sessions": sessions}).status_code == 401
