"""Pure rules shared by the service and storage: titles, metric roll-ups, request hashing, and
who may describe a component.

Storage applies these inside the transaction that changes a session, so derived fields can never
drift from the messages they are derived from.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from convostore.models import MAX_INT64, MIN_INT64, Metrics, NewMessage, Principal

# Keys summed into a session's roll-up: token counters and cost. Per-run timings such as
# `duration` or `time_to_first_token` are kept on the run and message but are not additive.
ADDITIVE_SUFFIXES = ("_tokens",)
ADDITIVE_KEYS = frozenset({"cost"})


# How many keys a session's metric totals hold at most (every list page carries them).
MAX_TOTAL_KEYS = 64
MAX_TOTAL_KEY_CHARS = 100


def is_additive(key: str) -> bool:
    return key in ADDITIVE_KEYS or key.endswith(ADDITIVE_SUFFIXES)


def add_metrics(total: Mapping[str, Any], delta: Mapping[str, Any]) -> Metrics:
    """`total + delta` over additive keys; other keys of `total` are kept as they are. A total
    holds at most MAX_TOTAL_KEYS keys of at most MAX_TOTAL_KEY_CHARS characters: other keys are
    kept on their messages and runs only.

    Whatever either side holds, the sum is a finite number: values of `delta` that are not
    finite numbers are skipped, and a total that is not one (a null left by a version that
    stored NaN or Infinity) is kept as it is, for migration 0004 to compute it again from the
    session's messages, rather than restarted from this delta and wrong ever after.
    """
    out: dict[str, Any] = dict(total)
    for key, value in delta.items():
        if not is_additive(key) or not _is_number(value):
            continue
        if key not in out and (len(out) >= MAX_TOTAL_KEYS or len(key) > MAX_TOTAL_KEY_CHARS):
            continue  # a session's totals stay small, whatever names its messages invent
        current = out.get(key, 0)
        if _is_number(current):
            out[key] = _saturate(current + value)
    return out


def _is_number(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, int) and not isinstance(value, bool)


def _saturate(value: int | float) -> int | float:
    """Totals stop at the signed 64-bit range (whatever their type: floats too, which would
    otherwise overflow to infinity, stored as null), where every JSON reader can hold them."""
    if value > MAX_INT64:
        return MAX_INT64
    if value < MIN_INT64:
        return MIN_INT64
    return value


def sum_metrics(items: Iterable[Mapping[str, int | float]]) -> Metrics:
    total: Metrics = {}
    for item in items:
        total = add_metrics(total, item)
    return total


def derive_title(messages: Iterable[NewMessage], max_chars: int) -> str:
    """A session's title when none was given: its first non-empty user message, verbatim."""
    for message in messages:
        if message.role == "user" and message.content.strip():
            return message.content.strip()[:max_chars]
    return ""


def folded(text: str) -> str:
    """The caseless form of a text that searches compare: Unicode case folding, the same on
    every backend (SQLite's own `lower()` folds ASCII only), so "STRASSE" finds "Straße" and
    "élan" finds "ÉLAN". A title is stored beside its folded form, and a search folds its words."""
    return text.casefold()


def request_hash(payload: object) -> str:
    """A stable digest of a request, so a reused Idempotency-Key with other content is caught."""
    raw = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.sha256(raw).hexdigest()


def describes_components(principal: Principal) -> bool:
    """Whether the component id and data this caller writes may describe components to its whole
    tenant: only a tenant-wide key's (one not confined to an end user, whom a browser may hold)."""
    return principal.user_id is None
