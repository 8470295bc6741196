"""Agno's Agent UI can call an unconfigured server from its own origin, in a real browser.

Agent UI runs on `http://localhost:3000` and sends `Content-Type: application/json` on every
request, so the browser asks the server first (a CORS preflight) and blocks the call unless the
answer allows that origin. A page served as `http://localhost:3000` (Chromium maps that address
to a small server of the test's own) makes Agent UI's calls to a real convostore process started
with no configuration: every one succeeds. The same page from another origin is refused.
"""

from __future__ import annotations

import html
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from convostore.demo import load_demo
from convostore.storage import open_store
from tests.e2e.test_web_ui import CHROMIUM, _start_server, _stop, load_page

PAGE = """<!doctype html><html><body><pre id="out">pending</pre><script>
const base = %(base)s;
const paths = %(paths)s;
(async () => {
  const out = {};
  for (const path of paths) {
    try {
      const answer = await fetch(base + path, {headers: {"Content-Type": "application/json"}});
      const body = await answer.json();
      out[path] = {status: answer.status, items: Array.isArray(body) ? body.length : null};
    } catch (error) {
      out[path] = {blocked: String(error)};
    }
  }
  document.getElementById("out").textContent = JSON.stringify(out);
})();
</script></body></html>"""


def _page_server(page: str) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = page.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def calls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, Any]]]:
    """What the page saw, by origin: Agent UI's own, and another one."""
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    tmp = tmp_path_factory.mktemp("agent-ui-cors")
    store = open_store(f"sqlite:///{tmp / 'db.sqlite'}")
    load_demo(store, "default")
    store.close()
    server = _start_server(tmp)
    try:
        query = {"type": "agent", "component_id": "video-chat", "db_id": "default"}
        sessions = httpx.get(f"{server.base}/sessions", params=query, timeout=10).json()
        session_id = sessions["data"][0]["session_id"]
        paths = [
            "/health",
            "/agents",
            "/teams",
            "/sessions?type=agent&component_id=video-chat&db_id=default",
            f"/sessions/{session_id}/runs?type=agent&db_id=default",
        ]
        page = PAGE % {"base": json.dumps(server.base), "paths": json.dumps(paths)}
        pages = _page_server(page)
        try:
            port = pages.server_address[1]
            seen = {}
            as_agent_ui = load_page(
                "http://localhost:3000/",
                tmp / "profile",
                f"--host-rules=MAP localhost:3000 127.0.0.1:{port}",
            )
            seen["agent-ui"] = _results(as_agent_ui.dom)
            seen["other"] = _results(load_page(f"http://127.0.0.1:{port}/", tmp / "profile").dom)
            yield seen
        finally:
            pages.shutdown()
            pages.server_close()
    finally:
        _stop(server)


def _results(dom: str) -> dict[str, Any]:
    found = re.search(r'<pre id="out">(.*?)</pre>', dom, re.S)
    assert found is not None, dom[:2000]
    result: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return result


def test_agent_ui_origin_reads_everything_with_defaults(calls: dict[str, dict[str, Any]]) -> None:
    seen = calls["agent-ui"]
    assert len(seen) == 5
    for path, result in seen.items():
        assert result.get("status") == 200, (path, result)
    assert seen["/agents"]["items"] >= 1 and seen["/teams"]["items"] >= 1
    runs = next(r for p, r in seen.items() if "/runs" in p)
    assert runs["items"] >= 1  # a video chat written without runs opens with its turns


def test_another_origin_is_refused(calls: dict[str, dict[str, Any]]) -> None:
    for path, result in calls["other"].items():
        assert "blocked" in result, (path, result)
