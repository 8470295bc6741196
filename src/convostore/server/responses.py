"""Fast JSON responses, with timestamps written as RFC 3339 in UTC."""

from __future__ import annotations

import json
from typing import Any

import orjson
from starlette.responses import Response

# Datetimes are written as RFC 3339, UTC ones with a `Z`; naive ones are taken as UTC.
_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC


class JSONResponse(Response):
    """orjson-rendered JSON; endpoints return these directly so bodies are not validated twice."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content, option=_OPTIONS)
        except TypeError:
            # A lone surrogate or an integer beyond 64 bits, echoed back from a refused request:
            # orjson cannot write them, the standard library writes them as valid (escaped) JSON.
            return json.dumps(content, default=str, separators=(",", ":")).encode()
