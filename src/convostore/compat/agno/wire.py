"""Small shared pieces of Agno's wire format: timestamps and null handling.

Agno stores epoch seconds. Sessions and runs are sent as ISO-8601 UTC with a `Z` at second
precision; messages keep integer epoch seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from convostore.models import JSONObject


def iso_z(value: datetime | None) -> str | None:
    """`2025-01-31T12:00:00Z` (a naive value is taken as UTC, as everywhere in convostore).

    Written by orjson: `isoformat` of an aware datetime took a microsecond, and Agno lists write
    two per session.
    """
    if value is None:
        return None
    if value.tzinfo is not None and value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return orjson.dumps(value, option=_ISO_Z)[1:-1].decode()  # without the JSON string's quotes


_ISO_Z = orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z | orjson.OPT_OMIT_MICROSECONDS


def epoch(value: datetime) -> int:
    return int(value.timestamp())


def from_epoch(value: Any) -> datetime | None:
    """Epoch seconds (int, float or numeric string) or an ISO string, as an aware datetime."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _from_seconds(value)
    if isinstance(value, str):
        try:
            return _from_seconds(float(value))
        except ValueError:
            pass
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _from_seconds(value: float) -> datetime | None:
    """None for a time no datetime holds (NaN, Infinity, beyond the years 1 to 9999)."""
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def without_nulls(body: JSONObject) -> JSONObject:
    """What `response_model_exclude_none=True` sends: the same keys minus the null ones."""
    return {k: v for k, v in body.items() if v is not None}


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def split_metrics(raw: Any) -> tuple[dict[str, int | float], JSONObject]:
    """Agno metrics into the numeric part convostore rolls up, and the rest (details, timers)."""
    numbers: dict[str, int | float] = {}
    rest: JSONObject = {}
    if isinstance(raw, dict):
        for key, value in raw.items():
            if is_number(value):
                numbers[str(key)] = value
            elif value is not None:
                rest[str(key)] = value
    return numbers, rest
