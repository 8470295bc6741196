"""Opaque keyset cursors.

A cursor records the sort it belongs to and the sort key and id of the last item returned, so the
next page is `WHERE (key, id) < (last_key, last_id)` (or `>` when ascending): its cost does not
depend on how deep the page is. Clients must treat cursors as opaque strings.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

import orjson

from convostore.errors import InvalidRequest

MAX_CURSOR_LENGTH = 2048


@dataclass(frozen=True)
class Cursor:
    sort: str
    order: str
    key: int | str
    id: str


def encode_cursor(cursor: Cursor) -> str:
    raw = orjson.dumps([cursor.sort, cursor.order, cursor.key, cursor.id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(
    token: str, *, sort: str, order: str, key_type: type = int, param: str = "after"
) -> Cursor:
    """Parse a cursor and check it belongs to the same sort; anything else is a 400."""
    if len(token) > MAX_CURSOR_LENGTH:
        raise InvalidRequest("cursor is too long", param=param)
    try:
        padded = token + "=" * (-len(token) % 4)
        data = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError):
        raise InvalidRequest("cursor is malformed", param=param) from None
    if (
        not isinstance(data, list)
        or len(data) != 4
        or not isinstance(data[0], str)
        or not isinstance(data[1], str)
        or not isinstance(data[2], int | str)
        or isinstance(data[2], bool)
        or not isinstance(data[3], str)
    ):
        raise InvalidRequest("cursor is malformed", param=param)
    if data[0] != sort or data[1] != order:
        raise InvalidRequest(
            f"cursor belongs to sort={data[0]} order={data[1]}, not sort={sort} order={order}",
            param=param,
        )
    if not isinstance(data[2], key_type) or not _storable(data[2]) or not _storable(data[3]):
        raise InvalidRequest("cursor is malformed", param=param)
    return Cursor(sort=data[0], order=data[1], key=data[2], id=data[3])


def _storable(value: int | str) -> bool:
    """A value the databases can compare with: a 64-bit integer, or text without NUL or lone
    surrogates. A hand-made cursor holding anything else is malformed, not a server error."""
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in value
