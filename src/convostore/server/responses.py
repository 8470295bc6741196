"""Fast JSON responses (see `json_wire` for how bodies are written)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from convostore.server.json_wire import dumps


class JSONResponse(Response):
    """orjson-rendered JSON; endpoints return these directly so bodies are not validated twice."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)
