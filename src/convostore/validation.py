"""Input checks that apply whatever surface a request came through.

Each check raises a 4xx domain error naming the offending parameter. PostgreSQL rejects NUL
characters in text and JSON, and no database driver can encode a lone UTF-16 surrogate (which a
JSON `\\ud800` escape decodes to), so both are refused everywhere, on every backend, before any
write or lookup. Numbers the databases keep in 64-bit integers are range-checked for the same
reason.

Numbers in stored values follow one set of rules, whichever surface or importer they came
through (`check_numbers`): NaN and ±Infinity are refused wherever they are, since the parsers
behind the surfaces accept them (`NaN`, `Infinity`, and `1e309`, which overflows to infinity)
but a JSON column cannot hold them (orjson would store null, silently); integers must fit in 64
bits; and -0.0 is stored as 0.0, as PostgreSQL's JSON keeps it, so both backends give back the
same value. Numbers that mean something have ranges of their own: metric values stay within the
signed 64-bit range, which their session totals saturate at (`rules.add_metrics`), and evidence
times within ±2^53 (a double's exact integers). Every refusal is a 422.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from convostore.config import Limits
from convostore.errors import InvalidRequest, PayloadTooLarge, Unprocessable
from convostore.models import MAX_INT64, MIN_INT64, EvidenceRef, NewMessage, Value

_ID_RE = re.compile(r"^[^\x00-\x1f\x7f/\\?#%]{1,}$")

# Integers anywhere in stored JSON: what orjson writes (64 bits, signed or unsigned).
MIN_JSON_INT = MIN_INT64
MAX_JSON_INT = 2**64 - 1
# Evidence times (start, end, duration) lie within ±2^53: every integer up to it is exact in a
# double, so times survive float columns and memories.ai's integer rendering unchanged.
MAX_EVIDENCE_TIME = 2**53


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


def check_json(value: Any, limits: Limits, param: str, *, numbers: bool = True) -> None:
    """A JSON value (or domain values holding JSON) that can be stored as it is: within the size
    limit, without NUL characters, and (unless the caller checks them itself) its numbers as
    `check_numbers` wants them."""
    if value is None:
        return
    try:
        raw = orjson.dumps(value, default=_fields)
    except TypeError as exc:  # an integer beyond 64 bits, or nesting deeper than orjson allows
        check_numbers(value, param)  # the integer, named
        raise InvalidRequest(f"{param} cannot be stored as JSON: {exc}", param=param) from None
    if len(raw) > limits.max_json_bytes:
        raise PayloadTooLarge(
            f"{param} is larger than {limits.max_json_bytes} bytes as JSON", param=param
        )
    if b"\\u0000" in raw:
        raise InvalidRequest(f"{param} must not contain NUL characters", param=param)
    # orjson writes NaN and ±Infinity as null: without a null (or a -0.0) there is none to find
    if numbers and (b"null" in raw or b"-0.0" in raw):
        check_numbers(value, param)


def _fields(value: Any) -> Any:
    """orjson's hook: a domain value is measured as its fields, anything else as its text."""
    return value.__dict__ if isinstance(value, Value) else str(value)


def check_numbers(value: Any, param: str) -> None:
    """Refuse NaN, ±Infinity and integers beyond 64 bits anywhere in `value` (JSON, or domain
    values holding it), and turn every -0.0 in it into 0.0, in place.

    The walk uses a stack rather than recursion (JSON may nest deeper than Python recurses),
    names the offending value's place only once it has found one, and tells values apart by
    their exact class first (JSON decodes to exactly these), by `isinstance` only after.
    """
    # entries: (container, its key in its parent, the parent's entry); the root holds `value`
    stack: list[tuple[Any, Any, Any]] = [([value], None, None)]
    while stack:
        entry = stack.pop()
        node = entry[0]
        items: Iterable[tuple[Any, Any]]
        if node.__class__ is dict:
            items = node.items()
        elif node.__class__ is list or node.__class__ is tuple:
            items = enumerate(node)
        elif isinstance(node, Value):
            node = node.__dict__
            items = node.items()
        else:
            items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, item in items:
            cls = item.__class__
            if cls is str or item is None or cls is bool:
                continue
            if cls is float or (cls is not int and isinstance(item, float)):
                if not math.isfinite(item):
                    raise _bad_number(param, entry, key, "a finite number (not NaN or Infinity)")
                if item == 0.0 and math.copysign(1.0, item) < 0 and not isinstance(node, tuple):
                    node[key] = 0.0
            elif cls is int or isinstance(item, int):
                if not MIN_JSON_INT <= item <= MAX_JSON_INT:
                    raise _bad_number(param, entry, key, "an integer within 64 bits")
            elif isinstance(item, dict | list | tuple | Value):
                stack.append((item, key, entry))


def _bad_number(param: str, entry: Any, key: Any, wanted: str) -> Unprocessable:
    steps = [key]
    while entry[2] is not None:
        steps.append(entry[1])
        entry = entry[2]
    steps.pop()  # the place of `value` in the root
    where = param + "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in reversed(steps))
    return Unprocessable(f"{where} must be {wanted}", param=where)


def check_metrics(metrics: Mapping[str, Any], param: str) -> None:
    """Metric values are finite numbers within the signed 64-bit range, so that the session
    totals they add up to stay exact until they saturate there."""
    for key, value in metrics.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue  # the model's type refused it already; in-process callers: not a metric
        if not MIN_INT64 <= value <= MAX_INT64:  # also False for NaN
            raise Unprocessable(
                f"{param}.{key} must be a finite number between -2^63 and 2^63-1",
                param=f"{param}.{key}",
            )


def check_evidence(refs: Iterable[EvidenceRef], param: str) -> None:
    """Evidence times (item start and end, source duration) are finite and within ±2^53, a
    -0.0 becoming 0.0; the sources' and items' `extra` as `check_numbers` wants them."""
    for index, ref in enumerate(refs):
        source = ref.source
        _check_time(source.__dict__, "duration", f"{param}[{index}].source")
        if source.extra:
            check_numbers(source.extra, f"{param}[{index}].source.extra")
        for number, item in enumerate(ref.items):
            fields = item.__dict__
            _check_time(fields, "start", f"{param}[{index}].items[{number}]")
            _check_time(fields, "end", f"{param}[{index}].items[{number}]")
            if item.extra:
                check_numbers(item.extra, f"{param}[{index}].items[{number}].extra")


def _check_time(fields: dict[str, Any], name: str, where: str) -> None:
    """One time of a validated value, `fields` its `__dict__` (no validation to pass again)."""
    value = fields[name]
    if value is None:
        return
    if not -MAX_EVIDENCE_TIME <= value <= MAX_EVIDENCE_TIME:  # also False for NaN
        param = f"{where}.{name}"
        raise Unprocessable(f"{param} must be a finite number between -2^53 and 2^53", param=param)
    if value == 0.0:
        fields[name] = 0.0


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
        for name in ("thinkings", "tool_calls", "metrics", "extra"):
            value = getattr(message, name)
            if value:
                check_json(value, limits, f"{where}.{name}")
        if message.metrics:
            check_metrics(message.metrics, f"{where}.metrics")
        if message.refs:  # their numbers are typed: checked here, not by a walk of every field
            check_json(message.refs, limits, f"{where}.refs", numbers=False)
            check_evidence(message.refs, f"{where}.refs")
    return count


def check_batch(count: int, limits: Limits, param: str = "messages") -> None:
    if count > limits.max_batch:
        raise PayloadTooLarge(
            f"{param} holds {count} items; at most {limits.max_batch} are allowed per request",
            param=param,
        )
