"""Fast JSON responses and the timestamp format of the native API."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.responses import Response


class JSONResponse(Response):
    """orjson-rendered JSON; endpoints return these directly so bodies are not validated twice."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)
        except TypeError:
            # A lone surrogate or an integer beyond 64 bits, echoed back from a refused request:
            # orjson cannot write them, the standard library writes them as valid (escaped) JSON.
            return json.dumps(content, default=str, separators=(",", ":")).encode()


def iso(value: datetime | None) -> str | None:
    """RFC 3339 in UTC with microseconds and a `Z`, e.g. `2026-11-21T01:42:20.123456Z`."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
