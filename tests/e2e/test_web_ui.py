"""The web UI in a real browser against a real server process.

A uvicorn process serves `create_app` over a fresh SQLite database; data goes in through the
native HTTP API, and headless Chromium loads the UI pages and hands back the DOM after its scripts
ran. The asserts read that DOM as a user would read the page: what is listed, in which order, and
that stored markup shows up as text rather than as elements.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from convostore.config import Settings
from convostore.server import create_app
from tests.conftest import LOCAL_URL

CHROMIUM = Path("/usr/bin/chromium")
# Chromium without a screen, a sandbox, a GPU or any traffic of its own
HEADLESS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
HOSTILE_TITLE = '<img src=x onerror="window.__pwned=1">Hostile'
HOSTILE_CONTENT = "<script>window.__pwned = 2</script><b>bold?</b>"


@dataclass
class Server:
    base: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def _start_server(tmp: Path) -> Server:
    """uvicorn on a socket we bound ourselves (no port race), in open mode on loopback."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CONVOSTORE_") or k == "CONVOSTORE_FAST_ROUTES"
    }
    env["CONVOSTORE_DATABASE_URL"] = f"sqlite:///{tmp / 'db.sqlite'}"
    log = tmp / "server.log"
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "convostore.server:create_app",
        "--fd",
        str(sock.fileno()),
        "--log-level",
        "warning",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, pass_fds=(sock.fileno(),)
        )
    sock.close()
    server = Server(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{server.log_tail()}")
        try:
            if httpx.get(f"{server.base}/v1/health", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    _stop(server)
    raise RuntimeError(f"server did not become healthy:\n{server.log_tail()}")


def _stop(server: Server) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=5)


def seed(base: str) -> dict[str, str]:
    """Sessions to look at: a video chat with reasoning and evidence, an agent run, a hostile one,
    and a long conversation. Returns their ids by name."""
    with httpx.Client(base_url=base, timeout=10) as http:

        def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            response = http.post(path, json=body)
            assert response.status_code == 201, response.text
            data: dict[str, Any] = response.json()
            return data

        video = post(
            "/v1/sessions",
            {
                "user_id": "alice",
                "type": "agent",
                "component_id": "video-analyst",
                "title": "Kitchen video walkthrough",
                "summary": {
                    "text": "Alice asked what happens in her kitchen video.",
                    "topics": ["video", "cooking"],
                    "covers_through_seq": 2,
                },
                "state": {"step": "answered", "language": "en"},
            },
        )["id"]
        post(
            f"/v1/sessions/{video}/messages",
            {
                "messages": [
                    {
                        "role": "user",
                        "content": "What happens in the first two minutes?",
                        "metrics": {"input_tokens": 12, "total_tokens": 12},
                    },
                    {
                        "role": "assistant",
                        "content": "Someone chops onions, then heats a pan.",
                        "thinkings": [
                            {"title": "Locate the opening scenes", "content": "Scan keyframes."},
                            {"title": "Match the audio track", "content": "Sizzling at 1:05."},
                        ],
                        "refs": [
                            {
                                "source": {
                                    "kind": "video",
                                    "id": "vid-42",
                                    "name": "kitchen.mp4",
                                    "duration": 600,
                                },
                                "items": [
                                    {
                                        "kind": "keyframe",
                                        "start": 12,
                                        "end": 15.5,
                                        "text": "A knife and onions",
                                    },
                                    {
                                        "kind": "audio_ts",
                                        "start": 65,
                                        "end": 72,
                                        "text": "pan sizzling",
                                    },
                                ],
                            }
                        ],
                        "tool_calls": [
                            {
                                "tool_name": "search_frames",
                                "tool_args": {"query": "onion"},
                                "result": "3 frames",
                            }
                        ],
                        "metrics": {"input_tokens": 340, "output_tokens": 56, "total_tokens": 396},
                    },
                    {"role": "user", "content": "Thanks, and after that?"},
                ]
            },
        )
        post(
            f"/v1/sessions/{video}/runs",
            {
                "status": "COMPLETED",
                "input": "Summarise the recipe steps",
                "content": "Chop, heat, fry.",
                "metrics": {"input_tokens": 20, "output_tokens": 5, "total_tokens": 25},
                "messages": [
                    {"role": "user", "content": "Summarise the recipe steps"},
                    {"role": "assistant", "content": "Chop, heat, fry."},
                ],
            },
        )
        hostile = post(
            "/v1/sessions", {"user_id": "mallory", "type": "team", "title": HOSTILE_TITLE}
        )["id"]
        post(
            f"/v1/sessions/{hostile}/messages",
            {
                "messages": [
                    {"role": "user", "content": HOSTILE_CONTENT},
                    {
                        "role": "assistant",
                        "content": "Plain answer",
                        "thinkings": [{"title": "<img src=y onerror=alert(1)>", "content": ""}],
                        "refs": [
                            {
                                "source": {"id": "<svg onload=alert(1)>", "name": "<i>x</i>"},
                                "items": [{"kind": "<b>k</b>", "start": 1, "text": "<u>t</u>"}],
                            }
                        ],
                    },
                ]
            },
        )
        long = post("/v1/sessions", {"user_id": "bob", "title": "A very long chat"})["id"]
        post(
            f"/v1/sessions/{long}/messages",
            {"messages": [{"role": "user", "content": f"line {i:03d}"} for i in range(205)]},
        )
    return {"video": video, "hostile": hostile, "long": long}


@dataclass
class Page:
    dom: str
    console: str


def load_page(url: str, profile: Path, *flags: str) -> Page:
    """The DOM of `url` after its scripts ran, and the browser's console output (`flags`: more
    command-line switches for Chromium)."""
    command = [
        str(CHROMIUM),
        *flags,
        *HEADLESS,
        "--enable-logging=stderr",
        "--v=0",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=5000",
        "--dump-dom",
        url,
    ]
    done = subprocess.run(command, capture_output=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    return Page(done.stdout.decode(), done.stderr.decode(errors="replace"))


def console_errors(page: Page) -> list[str]:
    return [line for line in page.console.splitlines() if "CONSOLE" in line and "rror" in line]


def text_of(dom: str) -> str:
    """The page's text with tags removed and entities left escaped (so `&lt;` stays visible)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]*>", " ", dom))


@dataclass
class Site:
    """What the browser saw: each page's DOM, loaded one after another against one server."""

    ids: dict[str, str]
    pages: dict[str, Page]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    tmp = tmp_path_factory.mktemp("web-ui")
    profile = tmp / "profile"
    server = _start_server(tmp)
    try:
        ids = seed(server.base)
        urls = {
            "list": "/ui/",
            "filtered": "/ui/?q=kitchen&sort=title&order=asc",
            "video": f"/ui/sessions/{ids['video']}?tab=runs",
            "hostile": f"/ui/sessions/{ids['hostile']}",
            "long": f"/ui/sessions/{ids['long']}",
        }
        pages = {name: load_page(server.base + path, profile) for name, path in urls.items()}
        # Last, because the first key ends open mode: the UI must now ask for a key.
        created = httpx.post(f"{server.base}/v1/keys", json={"role": "admin"}, timeout=10)
        assert created.status_code == 201, created.text
        pages["keyed"] = load_page(f"{server.base}/ui/", profile)
        yield Site(ids, pages)
    finally:
        _stop(server)


def test_pages_run_without_script_errors(site: Site) -> None:
    for name in ("list", "filtered", "video", "hostile", "long"):
        assert not console_errors(site.pages[name]), site.pages[name].console


def test_session_list_shows_every_session_with_its_numbers(site: Site) -> None:
    dom = site.pages["list"].dom
    text = text_of(dom)
    assert "Kitchen video walkthrough" in text
    assert "A very long chat" in text
    assert "Showing 3 sessions." in text
    row = re.search(r'<tr data-session-id="' + site.ids["video"] + r'">(.*?)</tr>', dom, re.S)
    assert row is not None, dom
    cells = text_of(row.group(1))
    assert "alice" in cells and "agent" in cells and "video-analyst" in cells
    assert " 5 " in cells  # 3 messages + the run's 2
    assert " 433 " in cells  # 12 + 396 + 25 tokens
    assert 'href="../docs"' in dom


def test_list_filters_and_sort_come_from_the_address(site: Site) -> None:
    dom = site.pages["filtered"].dom
    text = text_of(dom)
    assert "Kitchen video walkthrough" in text
    assert "A very long chat" not in text
    assert "Showing 1 session." in text
    assert re.search(r'<input[^>]*id="f-q"', dom) and 'value="kitchen"' in dom
    assert re.search(r'<option value="title:asc" selected="">', dom)


def test_conversation_shows_messages_reasoning_evidence_and_totals(site: Site) -> None:
    dom = site.pages["video"].dom
    text = text_of(dom)
    order = [
        "What happens in the first two minutes?",
        "Someone chops onions, then heats a pan.",
        "Thanks, and after that?",
        "Summarise the recipe steps",
        "Chop, heat, fry.",
    ]
    positions = [text.find(line) for line in order]
    assert -1 not in positions and positions == sorted(positions), positions
    assert re.findall(r'data-seq="(\d+)"', dom) == ["1", "2", "3", "4", "5"]
    assert "Locate the opening scenes" in text and "Match the audio track" in text
    assert "00:12\u201300:15" in text and "01:05\u201301:12" in text
    assert "kitchen.mp4" in text and "vid-42" in text and "pan sizzling" in text
    assert "Keyframe" in text and "Audio" in text
    assert "search_frames" in text
    assert "Alice asked what happens in her kitchen video." in text  # summary
    assert "&quot;language&quot;: &quot;en&quot;" in dom or '"language": "en"' in dom  # state
    totals = dict(re.findall(r'data-total="(\w+)"><div class="total-value">([\d,]+)<', dom))
    assert totals["message_count"] == "5"
    assert totals["input_tokens"] == "372"
    assert totals["output_tokens"] == "61"
    assert totals["total_tokens"] == "433"
    assert "All 5 messages shown." in text


def test_runs_tab_lists_the_agent_runs(site: Site) -> None:
    dom = site.pages["video"].dom
    run = re.search(r'<li class="run".*?</li>', dom, re.S)
    assert run is not None, dom
    assert "COMPLETED" in run.group(0) and "Summarise the recipe steps" in run.group(0)
    assert re.search(r'<button[^>]*id="tab-runs"[^>]*aria-selected="true"', dom)
    assert re.search(r'id="panel-messages"[^>]*hidden', dom)


def test_stored_markup_is_shown_as_text(site: Site) -> None:
    for name in ("list", "hostile"):
        dom = site.pages[name].dom
        assert "&lt;img src=x onerror=" in dom
        assert re.search(r"<img\b", dom) is None
        tags = re.sub(r'"[^"]*"', '""', dom)  # attribute values may hold escaped text
        assert re.search(r"<[^>]*\son(error|load)=", tags) is None  # no live event handler
        assert len(re.findall(r"<script\b", dom)) == 1  # only the UI's own module
    dom = site.pages["hostile"].dom
    assert "&lt;script&gt;window.__pwned = 2&lt;/script&gt;&lt;b&gt;bold?&lt;/b&gt;" in dom
    for hostile in ("&lt;svg onload=alert(1)&gt;", "&lt;i&gt;x&lt;/i&gt;", "&lt;u&gt;t&lt;/u&gt;"):
        assert hostile in dom
    assert re.search(r"<(svg|b|i|u)\b", dom) is None


def test_long_conversation_shows_200_messages_then_offers_more(site: Site) -> None:
    dom = site.pages["long"].dom
    seqs = [int(s) for s in re.findall(r'data-seq="(\d+)"', dom)]
    assert seqs == list(range(1, 201))
    assert "Showing 200 of 205 messages." in text_of(dom)
    assert re.search(r"<button[^>]*>Load 200 more</button>", dom)


def test_a_server_with_keys_asks_for_one(site: Site) -> None:
    dom = site.pages["keyed"].dom
    assert re.search(r'<div class="error-box" role="alert" data-status="401">', dom), dom
    assert "API key required" in text_of(dom)
    assert "Kitchen video walkthrough" not in dom


# --- the routes that serve the UI (in process) --------------------------------------------------


@pytest.fixture
def app_client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'db.sqlite'}")
    with TestClient(create_app(settings), base_url=LOCAL_URL) as client:
        yield client


def test_ui_routes_serve_the_shell_and_assets(app_client: TestClient) -> None:
    home = app_client.get("/", follow_redirects=False)
    assert home.status_code == 307 and home.headers["location"] == "/ui/"
    for path in ("/ui", "/ui/", "/ui/search", "/ui/sessions/123", "/ui/sessions/a%2Fb"):
        shell = app_client.get(path)
        assert shell.status_code == 200, path
        assert shell.headers["content-type"].startswith("text/html")
        assert '<base href="/ui/">' in shell.text
        assert "script-src 'self'" in shell.headers["content-security-policy"]
    script = app_client.get("/ui/static/js/app.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert app_client.get("/ui/static/app.css").headers["content-type"].startswith("text/css")
    assert app_client.head("/ui/static/app.css").status_code == 200


def test_the_shell_follows_the_root_path_of_a_proxy(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'db.sqlite'}")
    with TestClient(create_app(settings), root_path="/chat", base_url=LOCAL_URL) as client:
        assert '<base href="/chat/ui/">' in client.get("/ui/").text
        assert client.get("/", follow_redirects=False).headers["location"] == "/chat/ui/"


def test_unknown_ui_paths_are_404_in_the_native_shape(app_client: TestClient) -> None:
    for path in (
        "/ui/static/missing.js",
        "/ui/static/",
        "/ui/static/js",
        "/ui/static/../routes.py",
        "/ui/static/%2e%2e/routes.py",
        "/ui/static/..%2F..%2Fapp.py",
        "/ui/static/js/%2e%2e/%2e%2e/routes.py",
        "/ui/static/app%00.css",
        "/ui/static/" + "x" * 5000,
        "/ui/nothing-here",
    ):
        response = app_client.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["type"] == "not_found", path
