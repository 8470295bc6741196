"""Serving the web UI: one HTML shell for every client-side route, and its static assets.

The UI is plain HTML, CSS and JavaScript modules shipped inside the package, so there is no
build step and nothing is fetched from elsewhere. All data comes from the public `/v1` API in the
browser; these routes only hand out files. The shell's `<base href>` carries the ASGI root path,
so the UI also works behind a reverse proxy that mounts the server under a prefix.
"""

from __future__ import annotations

import html
from functools import cache
from pathlib import Path

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from convostore.errors import NotFound
from convostore.server.fastpath import LeanRoute

STATIC_DIR = Path(__file__).parent / "static"

# Defence in depth behind the UI's rule of building every node from text: even if markup slipped
# into the page, no inline or foreign script could run, and the page cannot be framed.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

router = APIRouter(route_class=LeanRoute, include_in_schema=False)


@cache
def _static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC_DIR)


@cache
def _shell_template() -> str:
    return (STATIC_DIR / "index.html").read_text(encoding="utf-8")


def _shell(request: Request) -> HTMLResponse:
    root = str(request.scope.get("root_path", "")).rstrip("/")
    page = _shell_template().replace("__ROOT__", html.escape(root, quote=True))
    headers = {**SECURITY_HEADERS, "Cache-Control": "no-cache"}
    return HTMLResponse(page, headers=headers)


def _is_asset(path: str) -> bool:
    try:
        candidate = (STATIC_DIR / path).resolve()
        return bool(path) and candidate.is_relative_to(STATIC_DIR.resolve()) and candidate.is_file()
    except (OSError, ValueError):  # a NUL byte, a name too long for the filesystem, ...
        return False


@router.get("/")
def home(request: Request) -> RedirectResponse:
    root = str(request.scope.get("root_path", "")).rstrip("/")
    return RedirectResponse(f"{root}/ui/", status_code=307)


@router.api_route("/ui/static/{path:path}", methods=["GET", "HEAD"])
async def static_asset(request: Request, path: str) -> Response:
    """A file under `static/`; anything missing (or outside it) is the API's ordinary 404."""
    if not _is_asset(path):
        raise NotFound(f"no UI asset {path!r}")
    response = await _static_files().get_response(path, request.scope)
    if path.endswith(".js") and response.status_code == 200:
        # module scripts need a JavaScript type, whatever the machine's MIME table says
        response.headers["content-type"] = "text/javascript; charset=utf-8"
    response.headers.update(SECURITY_HEADERS)
    response.headers["Cache-Control"] = "no-cache"
    return response


@router.get("/ui")
@router.get("/ui/")
@router.get("/ui/search")
@router.get("/ui/sessions/{session_id:path}")
def shell(request: Request) -> HTMLResponse:
    """The client-side routes (the session list, search, one session): the page reads the URL."""
    return _shell(request)
