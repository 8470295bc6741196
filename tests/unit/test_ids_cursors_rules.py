"""Pure pieces: ids, cursors, roll-up rules, key parsing, settings."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from convostore.auth import key_from_header, parse_key
from convostore.config import Settings
from convostore.cursors import Cursor, decode_cursor, encode_cursor
from convostore.errors import InvalidRequest
from convostore.ids import IdGenerator, from_micros, to_micros
from convostore.models import NewMessage
from convostore.rules import add_metrics, derive_title, request_hash, sum_metrics


def test_ids_are_increasing_64_bit_decimal_strings() -> None:
    gen = IdGenerator(node=5)
    ids = [gen.next_int() for _ in range(20_000)]  # crosses many per-millisecond counters
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(0 < i < 2**63 for i in ids)
    assert len(gen.next()) >= 18


def test_micros_round_trip() -> None:
    when = datetime(2026, 11, 21, 1, 2, 3, 456789, tzinfo=UTC)
    assert from_micros(to_micros(when)) == when
    assert to_micros(datetime(2026, 1, 1)) == to_micros(datetime(2026, 1, 1, tzinfo=UTC))


def test_cursor_round_trip_and_checks() -> None:
    cursor = Cursor(sort="updated_at", order="desc", key=123, id="abc")
    token = encode_cursor(cursor)
    assert decode_cursor(token, sort="updated_at", order="desc") == cursor
    with pytest.raises(InvalidRequest):
        decode_cursor(token, sort="created_at", order="desc")
    with pytest.raises(InvalidRequest):
        decode_cursor(token, sort="updated_at", order="asc")
    with pytest.raises(InvalidRequest):
        decode_cursor(token, sort="updated_at", order="desc", key_type=str)
    with pytest.raises(InvalidRequest):
        decode_cursor("x" * 3000, sort="updated_at", order="desc")
    title = encode_cursor(Cursor(sort="title", order="asc", key="Zoë", id="1"))
    assert decode_cursor(title, sort="title", order="asc", key_type=str).key == "Zoë"


@pytest.mark.parametrize(
    "payload",
    [
        b'["updated_at","desc",NaN,"a"]',
        b'["updated_at","desc",99999999999999999999999,"a"]',
        b'["updated_at","desc",1,"\\ud800"]',
        b'["updated_at","desc",1,"a\\u0000"]',
        b'["updated_at","desc",true,"a"]',
        b'["updated_at","desc",1]',
        b'{"sort":"updated_at"}',
        b"\xff\xfe",
        b"",
    ],
)
def test_hand_made_cursors_are_malformed_not_errors(payload: bytes) -> None:
    token = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    with pytest.raises(InvalidRequest, match="malformed"):
        decode_cursor(token, sort="updated_at", order="desc")


def test_metrics_rollup_sums_only_additive_keys() -> None:
    total = add_metrics({"total_tokens": 1, "note": 3}, {"total_tokens": 2, "duration": 4.0})
    assert total == {"total_tokens": 3, "note": 3}
    assert sum_metrics([{"input_tokens": 1, "cost": 0.5}, {"input_tokens": 2, "cost": 0.25}]) == {
        "input_tokens": 3,
        "cost": 0.75,
    }
    assert add_metrics({}, {"total_tokens": True}) == {}


def test_derive_title_takes_first_non_empty_user_message() -> None:
    messages = [
        NewMessage(role="system", content="be nice"),
        NewMessage(role="user", content="   "),
        NewMessage(role="user", content="  What is this video about?  "),
    ]
    assert derive_title(messages, 1000) == "What is this video about?"
    assert derive_title(messages, 4) == "What"
    assert derive_title([NewMessage(role="assistant", content="x")], 10) == ""


def test_request_hash_is_stable_under_key_order() -> None:
    assert request_hash({"a": 1, "b": [1, 2]}) == request_hash({"b": [1, 2], "a": 1})
    assert request_hash({"a": 1}) != request_hash({"a": 2})


def test_key_parsing() -> None:
    assert parse_key("csk_abc_def") == ("abc", "def")
    assert parse_key("csk_abc_def_ghi") == ("abc", "def_ghi")
    for bad in ("", "sk-123", "csk_", "csk_abc", "csk__x", "csk_a_" + "x" * 300):
        assert parse_key(bad) is None
    assert key_from_header("Bearer  k ") == "k"
    assert key_from_header("bearer k") == "k"
    assert key_from_header("k") == "k"
    assert key_from_header("  ") is None
    assert key_from_header(None) is None


def test_settings_read_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVOSTORE_DATABASE_URL", "sqlite:///x.db")
    monkeypatch.setenv("CONVOSTORE_MAX_BATCH", "7")
    settings = Settings()
    assert settings.database_url == "sqlite:///x.db"
    assert settings.limits().max_batch == 7
    assert Settings(database_url="sqlite:///y.db").database_url == "sqlite:///y.db"
