"""API bodies as JSON bytes: orjson, timestamps as RFC 3339 in UTC, domain values as their fields.

Bodies are built as plain dicts by the surfaces' mapping functions, except that nested domain
values (a message's reasoning steps and evidence references, say) may be left in as they are:
they are written as their fields, which is what `model_dump()` gives for them (`Value` models
keep their fields, and only those, in `__dict__`), without building those dicts first:
building them was a large part of the cost of writing a page of messages.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

import orjson

from convostore.models import Value

# Datetimes are written as RFC 3339, UTC ones with a `Z`; naive ones are taken as UTC.
OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC


def value_fields(value: Any) -> Any:
    """orjson's hook for what it cannot write itself: a domain value becomes its fields."""
    if isinstance(value, Value):
        return value.__dict__
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(content: Any, default: Callable[[Any], Any] = value_fields) -> bytes:
    """`content` as JSON; `default` writes what JSON has no type for (domain values, and the
    placeholders of `streaming`)."""
    try:
        return orjson.dumps(content, default=default, option=OPTIONS)
    except TypeError:
        # A lone surrogate or an integer beyond 64 bits, echoed back from a refused request:
        # orjson cannot write them, the standard library writes them as valid (escaped) JSON.
        fallback = functools.partial(_written_or_text, default)
        return json.dumps(content, default=fallback, separators=(",", ":")).encode()


def _written_or_text(default: Callable[[Any], Any], value: Any) -> Any:
    try:
        return default(value)
    except TypeError:
        return str(value)
