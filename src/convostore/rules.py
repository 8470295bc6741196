"""Pure rules shared by the service and storage: titles, metric roll-ups, request hashing.

Storage applies these inside the transaction that changes a session, so derived fields can never
drift from the messages they are derived from.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

import orjson

from convostore.models import Metrics, NewMessage

# Keys summed into a session's roll-up: token counters and cost. Per-run timings such as
# `duration` or `time_to_first_token` are kept on the run and message but are not additive.
ADDITIVE_SUFFIXES = ("_tokens",)
ADDITIVE_KEYS = frozenset({"cost"})


def is_additive(key: str) -> bool:
    return key in ADDITIVE_KEYS or key.endswith(ADDITIVE_SUFFIXES)


def add_metrics(total: Mapping[str, int | float], delta: Mapping[str, int | float]) -> Metrics:
    """`total + delta` over additive keys; other keys of `total` are kept as they are."""
    out: Metrics = dict(total)
    for key, value in delta.items():
        if not is_additive(key) or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        out[key] = _saturate(out.get(key, 0) + value)
    return out


def _saturate(value: int | float) -> int | float:
    """Integer totals stop at the 64-bit range, which JSON columns and responses can hold."""
    if isinstance(value, int):
        return max(-(2**63), min(value, 2**63 - 1))
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
