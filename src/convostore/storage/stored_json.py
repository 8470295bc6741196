"""Reading JSON text as it was stored, also when orjson cannot read it.

NaN, Infinity and numbers beyond a double's range (`1e999`) are not JSON, and no version of
convostore wrote them (orjson writes them as null), but other writers do: Python's `json`,
SQLite's JSON functions. In a SQLite text column they must not make a row unreadable, so each
reads as null, as orjson would have stored it. Text that is not JSON even so still raises.
Decoding takes orjson's path first, so valid JSON costs what it did.
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson


def stored_json(text: str | bytes) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text, parse_constant=_null, parse_float=_finite_or_null)


def _null(_: str) -> None:
    return None


def _finite_or_null(text: str) -> float | None:
    number = float(text)
    return number if math.isfinite(number) else None
