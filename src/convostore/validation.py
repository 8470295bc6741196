"""Input checks that apply whatever surface a request came through.

Each check raises a 4xx domain error naming the offending parameter. PostgreSQL rejects NUL
characters in text and JSON, and no database driver can encode a lone UTF-16 surrogate (which a
JSON `\\ud800` escape decodes to), so both are refused everywhere, on every backend, before any
write or lookup. Numbers the databases keep in 64-bit integers are range-checked for the same
reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import orjson

from convostore.config import Limits
from convostore.errors import InvalidRequest, PayloadTooLarge
from convostore.models import NewMessage

_ID_RE = re.compile(r"^[^\x00-\x1f\x7f/\\?#%]{1,}$")


MAX_INT64 = 2**63 - 1


def _encodable(value: str) -> bool:
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_id(value: str, limits: Limits, param: str) -> str:
    if (
        not value
        or len(value) > limits.max_id_chars
        or not _ID_RE.match(value)
        or not _encodable(value)
    ):
        raise InvalidRequest(
            f"{param} must be 1 to {limits.max_id_chars} characters, without control characters"
            " or any of / \\ ? # %",
            param=param,
        )
    return value


def check_ref(value: str | list[str] | None, param: str) -> None:
    """A value used only to look rows up (an id in a path, a filter): no NUL, valid Unicode.

    Lookups do not enforce the id rules (an unknown id is simply not found), but these two would
    make the database driver fail instead of answering.
    """
    if value is None:
        return
    for item in [value] if isinstance(value, str) else value:
        if "\x00" in item:
            raise InvalidRequest(f"{param} must not contain NUL characters", param=param)
        if not _encodable(item):
            raise InvalidRequest(f"{param} must be valid Unicode text", param=param)


def check_int64(value: int | None, param: str, minimum: int = 0) -> None:
    if value is not None and not minimum <= value <= MAX_INT64:
        raise InvalidRequest(f"{param} must be between {minimum} and {MAX_INT64}", param=param)


def check_text(value: str | None, max_chars: int, param: str) -> None:
    if value is None:
        return
    if len(value) > max_chars:
        raise PayloadTooLarge(f"{param} is longer than {max_chars} characters", param=param)
    check_ref(value, param)


def check_json(value: Any, limits: Limits, param: str) -> None:
    if value is None:
        return
    try:
        raw = orjson.dumps(value, default=str)
    except TypeError as exc:  # an integer beyond 64 bits, or nesting deeper than orjson allows
        raise InvalidRequest(f"{param} cannot be stored as JSON: {exc}", param=param) from None
    if len(raw) > limits.max_json_bytes:
        raise PayloadTooLarge(
            f"{param} is larger than {limits.max_json_bytes} bytes as JSON", param=param
        )
    if b"\\u0000" in raw:
        raise InvalidRequest(f"{param} must not contain NUL characters", param=param)


def check_limit(value: int, maximum: int, param: str = "limit") -> None:
    if not 1 <= value <= maximum:
        raise InvalidRequest(f"{param} must be between 1 and {maximum}", param=param)


def check_messages(messages: Iterable[NewMessage], limits: Limits, param: str = "messages") -> int:
    count = 0
    for index, message in enumerate(messages):
        count += 1
        where = f"{param}[{index}]"
        if message.id is not None:
            check_id(message.id, limits, f"{where}.id")
        if message.run_id is not None:
            check_id(message.run_id, limits, f"{where}.run_id")
        check_text(message.content, limits.max_content_chars, f"{where}.content")
        for name in ("thinkings", "refs", "tool_calls", "metrics", "extra"):
            value = getattr(message, name)
            if value:
                dumped = (
                    [v.model_dump(mode="json") if hasattr(v, "model_dump") else v for v in value]
                    if isinstance(value, list)
                    else value
                )
                check_json(dumped, limits, f"{where}.{name}")
    return count


def check_batch(count: int, limits: Limits, param: str = "messages") -> None:
    if count > limits.max_batch:
        raise PayloadTooLarge(
            f"{param} holds {count} items; at most {limits.max_batch} are allowed per request",
            param=param,
        )
