"""memories.ai's envelope as HTTP responses: always status 200, the outcome in `code`.

The envelope and its codes are decided in `convostore.compat.memories_ai.envelope`; this module
only turns them into Starlette responses, so the codec stays free of HTTP types.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from convostore.compat.memories_ai.envelope import envelope, error_code
from convostore.errors import ConvostoreError, RateLimited
from convostore.server.responses import JSONResponse


def success(data: Any) -> JSONResponse:
    return JSONResponse(envelope(data))


def render_error(error: ConvostoreError) -> Response:
    """The error renderer registered for `/serve/api`: always HTTP 200 with the envelope."""
    code, msg = error_code(error)
    headers = {}
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(max(1, round(error.retry_after)))
    return JSONResponse(envelope(None, code=code, msg=msg), headers=headers)
