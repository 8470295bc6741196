"""The web UI's search in a real browser against a real server process.

The server and its start-up come from `test_web_ui`. Where that module only needs the DOM after
the scripts ran (`--dump-dom`), these tests type, click and read the layout, so they drive
headless Chromium over the DevTools protocol on a pipe (`--remote-debugging-pipe`: JSON messages
ended by NUL on file descriptors 3 and 4), with nothing beyond the standard library.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.test_web_ui import CHROMIUM, HEADLESS, Server, _start_server, _stop

HOSTILE_TEXT = '<img src=x onerror="window.__pwned=1">zebrafish swim &lt;b&gt; here'
HOSTILE_TITLE = '<img src=x onerror="window.__pwned=2">Zebrafish notes'
LONG_MESSAGES = 300
NEEDLE_SEQ = 150  # inside the first page the session view loads (200 messages)
HAYSTACK_SEQ = 280  # beyond it


class BrowserError(RuntimeError):
    pass


class Browser:
    """One headless Chromium page, driven by DevTools protocol commands over a pipe."""

    def __init__(self, profile: Path) -> None:
        to_chrome, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome = os.pipe()
        # Numbers above 9 (and close-on-exec), so that making them 3 and 4 in the child cannot
        # overwrite one with the other; dup2 leaves 3 and 4 inheritable, every other descriptor
        # of ours is close-on-exec (PEP 446).
        ends = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_chrome, from_chrome)]
        for fd in (to_chrome, from_chrome):
            os.close(fd)

        def pipe_as_3_and_4() -> None:
            os.dup2(ends[0], 3)
            os.dup2(ends[1], 4)

        flags = [
            *HEADLESS,
            "--remote-debugging-pipe",
            f"--user-data-dir={profile}",
            "about:blank",
        ]
        self._log = (profile.parent / "chromium.log").open("wb")
        try:
            self.process = subprocess.Popen(
                [str(CHROMIUM), *flags],
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                close_fds=False,
                preexec_fn=pipe_as_3_and_4,
            )
        finally:
            for fd in ends:
                os.close(fd)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []
        self.problems: list[str] = []  # console errors, uncaught exceptions, error log entries
        self._session = ""
        try:
            target = self.command("Target.createTarget", url="about:blank")["targetId"]
            attached = self.command("Target.attachToTarget", targetId=target, flatten=True)
            self._session = attached["sessionId"]
            for domain in ("Page", "Runtime", "Log"):
                self.command(f"{domain}.enable")
            self.command(
                "Emulation.setDeviceMetricsOverride",
                width=1280,
                height=800,
                deviceScaleFactor=1,
                mobile=False,
            )
        except BaseException:
            self.close()
            raise

    # --- the protocol ---------------------------------------------------------------------------

    def _send(self, message: dict[str, Any]) -> None:
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self._to_chrome, data) :]

    def _receive(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_chrome], [], [], left)[0]:
                raise BrowserError("no answer from Chromium in time")
            chunk = os.read(self._from_chrome, 1 << 16)
            if not chunk:
                raise BrowserError("Chromium closed the pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        if "method" in message:
            self._note(message)
        return message

    def _note(self, event: dict[str, Any]) -> None:
        method, params = event["method"], event.get("params", {})
        if method == "Runtime.exceptionThrown":
            self.problems.append(f"exception: {params['exceptionDetails']}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            self.problems.append(f"console.{params['type']}: {params.get('args')}")
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            self.problems.append(f"log: {params['entry'].get('text')}")
        self._events.append(event)

    def command(self, method: str, timeout: float = 15, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if method.split(".")[0] not in ("Target", "Browser"):
            message["sessionId"] = self._session
        self._send(message)
        deadline = time.monotonic() + timeout
        while True:
            answer = self._receive(deadline)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error']}")
                result: dict[str, Any] = answer.get("result", {})
                return result

    # --- what a test does -----------------------------------------------------------------------

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises are awaited)."""
        result = self.command(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression!r} threw: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 10) -> Any:
        """Poll until the expression is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"still falsy after {timeout} s: {expression} -> {value!r}")

    def settle(self, seconds: float) -> None:
        """Let the page run (and its events arrive) for a moment."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.evaluate("1")
            time.sleep(0.05)

    def open(self, url: str) -> None:
        self.evaluate("window.__stale = true")
        self.command("Page.navigate", url=url)
        self.wait_for(
            "!window.__stale && document.readyState === 'complete'"
            " && document.getElementById('main') !== null"
        )

    def click(self, selector: str) -> None:
        """A real left click (mouse down and up) in the middle of the first match."""
        box = self.evaluate(
            f"""(() => {{
              const el = document.querySelector({json.dumps(selector)});
              if (!el) return null;
              el.scrollIntoView({{ block: "center" }});
              const r = el.getBoundingClientRect();
              return {{ x: r.left + r.width / 2, y: r.top + r.height / 2 }};
            }})()"""
        )
        assert box, f"nothing matches {selector}"
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.command(
                "Input.dispatchMouseEvent",
                type=kind,
                x=box["x"],
                y=box["y"],
                button="left" if kind != "mouseMoved" else "none",
                clickCount=1,
            )

    def type_into(self, selector: str, text: str, *, enter: bool = False) -> None:
        """Focus a field, clear it, type `text` as keyboard input, and optionally press Enter."""
        focused = self.evaluate(
            f"""(() => {{
              const el = document.querySelector({json.dumps(selector)});
              if (!el) return false;
              el.focus();
              el.select();
              return document.activeElement === el;
            }})()"""
        )
        assert focused, f"cannot focus {selector}"
        self.command(
            "Input.dispatchKeyEvent",
            type="keyDown",
            key="Backspace",
            code="Backspace",
            windowsVirtualKeyCode=8,
        )
        self.command(
            "Input.dispatchKeyEvent",
            type="keyUp",
            key="Backspace",
            code="Backspace",
            windowsVirtualKeyCode=8,
        )
        if text:
            self.command("Input.insertText", text=text)
        if enter:
            for kind in ("keyDown", "keyUp"):
                params: dict[str, Any] = {
                    "key": "Enter",
                    "code": "Enter",
                    "windowsVirtualKeyCode": 13,
                }
                if kind == "keyDown":
                    params["text"] = "\r"
                self.command("Input.dispatchKeyEvent", type=kind, **params)

    def close(self) -> None:
        with contextlib.suppress(BrowserError, OSError):
            self.command("Browser.close", timeout=5)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        finally:
            os.close(self._to_chrome)
            os.close(self._from_chrome)
            self._log.close()


# --- the data, the server and the browser --------------------------------------------------------


def seed(base: str) -> dict[str, str]:
    """Two video chats citing different videos, a memory, a hostile session and a long one."""
    with httpx.Client(base_url=base, timeout=10) as http:

        def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            response = http.post(path, json=body)
            assert response.status_code == 201, response.text
            data: dict[str, Any] = response.json()
            return data

        def session(title: str, messages: list[dict[str, Any]], **fields: Any) -> str:
            sid: str = post("/v1/sessions", {"user_id": "alice", "title": title, **fields})["id"]
            post(f"/v1/sessions/{sid}/messages", {"messages": messages})
            return sid

        def cites(source: str, start: float, end: float, text: str) -> list[dict[str, Any]]:
            return [
                {
                    "source": {"kind": "video", "id": source, "name": f"{source}.mp4"},
                    "items": [{"kind": "keyframe", "start": start, "end": end, "text": text}],
                }
            ]

        kitchen = session(
            "Kitchen video walkthrough",
            [
                {"role": "user", "content": "What happens with the onions?"},
                {
                    "role": "assistant",
                    "content": "Someone chops onions, then heats a pan.",
                    "refs": cites("vid-42", 12, 15.5, "A knife and onions"),
                },
            ],
            type="agent",
            summary={"text": "Alice asked about onions in her kitchen video."},
        )
        garden = session(
            "Garden video",
            [
                {
                    "role": "assistant",
                    "content": "The gardener plants onions in spring.",
                    "refs": cites("video-7", 30, 40, "planting onions now"),
                }
            ],
        )
        post("/v1/memories", {"user_id": "alice", "memory": "Alice grows onions on her balcony"})
        hostile = session(HOSTILE_TITLE, [{"role": "user", "content": HOSTILE_TEXT}])
        words = {NEEDLE_SEQ: "the needle is here", HAYSTACK_SEQ: "the haystack ends here"}
        long = session(
            "A very long chat",
            [
                {"role": "user", "content": words.get(seq, f"line {seq:03d}")}
                for seq in range(1, LONG_MESSAGES + 1)
            ],
        )
    return {"kitchen": kitchen, "garden": garden, "hostile": hostile, "long": long}


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    profile = tmp_path_factory.mktemp("chromium") / "profile"
    browser = Browser(profile)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, str]]]:
    server = _start_server(tmp_path_factory.mktemp("web-ui-search"))
    try:
        yield server, seed(server.base)
    finally:
        _stop(server)


@pytest.fixture
def page(browser: Browser) -> Iterator[Browser]:
    """The browser, checked after each test for script errors, exceptions and failed loads."""
    browser.problems.clear()
    yield browser
    browser.settle(0.2)
    assert not browser.problems, browser.problems


# --- reading the page -----------------------------------------------------------------------------

SEARCH_DONE = """(() => {
  const status = document.querySelector(".search-view [role=status]");
  return !document.getElementById("main").hasAttribute("aria-busy")
    && !!status && /^(Showing|No results)/.test(status.textContent);
})()"""

HITS = """[...document.querySelectorAll(".hits > li.hit")].map((li) => ({
  kind: li.dataset.kind,
  seq: li.dataset.seq ?? null,
  title: li.querySelector(".hit-title").textContent,
  href: li.querySelector("a.hit-title")?.getAttribute("href") ?? null,
  time: li.querySelector(".hit-head time")?.textContent ?? "",
  evidence: li.querySelector(".hit-evidence")?.textContent ?? null,
  snippet: li.querySelector(".snippet").textContent,
  marks: [...li.querySelectorAll(".snippet mark")].map((m) => m.textContent),
  elements: [...li.querySelector(".snippet").querySelectorAll("*")].map((e) => e.localName),
}))"""

MESSAGES = """(() => {
  const seqs = [...document.querySelectorAll(".messages > li.msg")].map((li) => +li.dataset.seq);
  const targets = [...document.querySelectorAll(".msg-target")];
  const target = targets[0];
  const box = target && target.getBoundingClientRect();
  return {
    seqs,
    targets: targets.map((li) => +li.dataset.seq),
    current: target ? target.getAttribute("aria-current") : null,
    focused: !!target && document.activeElement === target,
    inView: !!box && box.top >= 0 && box.bottom <= innerHeight && box.height > 0,
    scrollY,
    status: document.querySelector("#panel-messages [role=status]").textContent,
    earlier: [...document.querySelectorAll("#panel-messages button")]
      .some((b) => b.textContent === "Load earlier messages" && b.offsetParent !== null),
    path: location.pathname,
    search: location.search,
  };
})()"""


def search(page: Browser, base: str, query: str) -> list[dict[str, Any]]:
    page.open(f"{base}/ui/search?{query}")
    page.wait_for(SEARCH_DONE)
    hits: list[dict[str, Any]] = page.evaluate(HITS)
    return hits


# --- the tests ------------------------------------------------------------------------------------


def test_the_header_box_searches_and_marks_the_matched_words(
    page: Browser, site: tuple[Server, dict[str, str]]
) -> None:
    server, ids = site
    page.open(f"{server.base}/ui/")
    page.wait_for("document.querySelectorAll('tr[data-session-id]').length === 4")
    page.type_into("#top-q", "Onions", enter=True)
    page.wait_for("location.pathname.endsWith('/ui/search')")
    page.wait_for(SEARCH_DONE)
    assert page.evaluate("location.search") == "?q=Onions"
    assert page.evaluate("document.getElementById('s-q').value") == "Onions"
    assert page.evaluate("document.getElementById('top-search').hidden") is True
    hits: list[dict[str, Any]] = page.evaluate(HITS)
    found = {(hit["kind"], hit["title"], hit["seq"]) for hit in hits}
    assert found == {
        ("summary", "Kitchen video walkthrough", None),
        ("content", "Kitchen video walkthrough", "1"),
        ("content", "Kitchen video walkthrough", "2"),
        ("evidence", "Kitchen video walkthrough", "2"),
        ("content", "Garden video", "1"),
        ("evidence", "Garden video", "1"),
        ("memory", "Memory of alice", None),
    }, hits
    for hit in hits:
        assert [mark.lower() for mark in hit["marks"]] == ["onions"], hit
        assert set(hit["elements"]) == {"mark"}, hit
        assert hit["time"], hit
    by_key = {(hit["kind"], hit["title"], hit["seq"]): hit for hit in hits}
    answer = by_key["content", "Kitchen video walkthrough", "2"]
    assert answer["snippet"] == "Someone chops onions, then heats a pan."
    assert answer["href"] == f"sessions/{ids['kitchen']}?seq=2"
    assert (
        by_key["summary", "Kitchen video walkthrough", None]["href"] == f"sessions/{ids['kitchen']}"
    )
    assert by_key["memory", "Memory of alice", None]["href"] is None
    assert (
        by_key["memory", "Memory of alice", None]["snippet"] == "Alice grows onions on her balcony"
    )
    assert (
        "vid-42 00:12\u201300:15"
        in by_key["evidence", "Kitchen video walkthrough", "2"]["evidence"]
    )
    assert "video-7 00:30\u201300:40" in by_key["evidence", "Garden video", "1"]["evidence"]
    assert page.evaluate("document.querySelector('.search-view [role=status]').textContent") == (
        "Showing 7 results."
    )


def test_a_memory_hit_opens_the_whole_memory(
    page: Browser, site: tuple[Server, dict[str, str]]
) -> None:
    server, _ = site
    search(page, server.base, "q=balcony")
    page.click(".hit.kind-memory details.hit-memory > summary")
    text = page.wait_for(
        "document.querySelector('.hit.kind-memory .memory-full .prose')?.textContent"
    )
    assert text == "Alice grows onions on her balcony"


def test_stored_markup_in_a_match_is_shown_as_text(
    page: Browser, site: tuple[Server, dict[str, str]]
) -> None:
    server, ids = site
    hits = search(page, server.base, "q=zebrafish")
    by_kind = {hit["kind"]: hit for hit in hits}
    assert set(by_kind) == {"title", "content"}, hits
    assert by_kind["title"]["title"] == HOSTILE_TITLE
    assert by_kind["title"]["href"] == f"sessions/{ids['hostile']}"
    content = by_kind["content"]
    # the stored text, character for character: unescaped once, so `&lt;b&gt;` stays as typed
    assert content["snippet"] == HOSTILE_TEXT, content
    assert content["marks"] == ["zebrafish"]
    assert content["elements"] == ["mark"]
    page.settle(0.5)  # give a live image the time to fail and run its handler
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.evaluate("document.querySelectorAll('main img, main script, main svg').length") == 0


@pytest.mark.parametrize(
    ("word", "seq"), [("needle", NEEDLE_SEQ), ("haystack", HAYSTACK_SEQ)], ids=["page1", "deep"]
)
def test_a_message_result_opens_its_session_at_the_message(
    page: Browser, site: tuple[Server, dict[str, str]], word: str, seq: int
) -> None:
    server, ids = site
    hits = search(page, server.base, f"q={word}")
    assert [(hit["kind"], hit["seq"]) for hit in hits] == [("content", str(seq))], hits
    page.click(f'.hit[data-seq="{seq}"] a.hit-title')
    page.wait_for("document.querySelector('.msg-target') !== null")
    shown = page.evaluate(MESSAGES)
    assert shown["path"] == f"/ui/sessions/{ids['long']}"
    assert shown["search"] == f"?seq={seq}"
    assert shown["targets"] == [seq]
    assert shown["current"] == "true" and shown["focused"]
    assert shown["inView"] and shown["scrollY"] > 0, shown
    if seq <= 200:  # on the first page: the conversation from its start
        assert shown["seqs"] == list(range(1, 201))
        assert not shown["earlier"]
        assert shown["status"] == "Showing 200 of 300 messages."
        return
    # beyond it: from a few messages before, with the earlier ones a click away
    assert shown["seqs"] == list(range(seq - 10, LONG_MESSAGES + 1))
    assert shown["earlier"]
    assert shown["status"] == f"Showing messages #{seq - 10}\u2013#300 (31 of 300)."
    page.click("#panel-messages .more-row button.secondary")
    page.wait_for(f"document.querySelectorAll('.messages > li.msg').length > {len(shown['seqs'])}")
    page.click("#panel-messages .more-row button.secondary")
    page.wait_for(f"document.querySelectorAll('.messages > li.msg').length === {LONG_MESSAGES}")
    shown = page.evaluate(MESSAGES)
    assert shown["seqs"] == list(range(1, LONG_MESSAGES + 1))
    assert not shown["earlier"]
    assert shown["targets"] == [seq]
    assert shown["status"] == "All 300 messages shown."


def test_an_address_with_seq_marks_that_message(
    page: Browser, site: tuple[Server, dict[str, str]]
) -> None:
    server, ids = site
    page.open(f"{server.base}/ui/sessions/{ids['long']}?seq=290")
    page.wait_for("document.querySelector('.msg-target') !== null")
    shown = page.evaluate(MESSAGES)
    assert shown["targets"] == [290] and shown["inView"], shown
    assert shown["seqs"][0] == 280
    page.open(f"{server.base}/ui/sessions/{ids['long']}?seq=999")
    missing = page.wait_for("document.querySelector('.target-missing')?.textContent")
    assert missing == "Message #999 is not in this session (any more)."
    assert page.evaluate("document.querySelectorAll('.msg-target').length") == 0
    # an agent session opened at a message shows the conversation, not the runs tab
    page.open(f"{server.base}/ui/sessions/{ids['kitchen']}?seq=2&tab=runs")
    page.wait_for("document.querySelector('.msg-target') !== null")
    assert page.evaluate("document.getElementById('panel-messages').hidden") is False


def test_the_video_and_time_span_filter_narrows_the_results(
    page: Browser, site: tuple[Server, dict[str, str]]
) -> None:
    server, _ = site
    everything = search(page, server.base, "q=onions")
    assert {hit["title"] for hit in everything} == {
        "Kitchen video walkthrough",
        "Garden video",
        "Memory of alice",
    }
    page.type_into("#s-source", "vid-42")
    page.type_into("#s-start", "10")
    page.type_into("#s-end", "0:20", enter=True)
    page.wait_for("location.search.includes('source_id=vid-42')")
    page.wait_for(SEARCH_DONE)
    assert page.evaluate("location.search") == "?q=onions&source_id=vid-42&start=10&end=0%3A20"
    hits: list[dict[str, Any]] = page.evaluate(HITS)
    assert {(hit["kind"], hit["title"], hit["seq"]) for hit in hits} == {
        ("content", "Kitchen video walkthrough", "2"),
        ("evidence", "Kitchen video walkthrough", "2"),
    }, hits
    evidence = next(hit for hit in hits if hit["kind"] == "evidence")
    assert evidence["evidence"].startswith("vid-42 00:12\u201300:15")
    # the kind selector narrows further
    page.evaluate(
        "(() => { const s = document.getElementById('s-kind'); s.value = 'evidence';"
        " s.dispatchEvent(new Event('change')); })()"
    )
    page.wait_for("location.search.includes('kind=evidence')")
    page.wait_for(SEARCH_DONE)
    assert [(hit["kind"], hit["seq"]) for hit in page.evaluate(HITS)] == [("evidence", "2")]
    # a span that the citation does not touch
    page.type_into("#s-start", "100")
    page.type_into("#s-end", "200", enter=True)
    page.wait_for("location.search.includes('start=100')")
    page.wait_for(SEARCH_DONE)
    assert page.evaluate(HITS) == []
    assert page.evaluate("document.querySelector('.search-view [role=status]').textContent") == (
        "No results. Try fewer or other words, or remove a filter."
    )
    # a span needs a video: said before asking the server
    page.type_into("#s-source", "", enter=True)
    error = page.wait_for("document.querySelector('.field-error')?.textContent")
    assert error == "A time span needs a video: enter its source id."


def test_more_results_follows_the_cursor(
    page: Browser, site: tuple[Server, dict[str, str]]
) -> None:
    server, _ = site
    first = search(page, server.base, "q=line")
    assert first and page.evaluate(
        "[...document.querySelectorAll('button.more')].some((b) => !b.hidden)"
    )
    assert "(more available)" in page.evaluate(
        "document.querySelector('.search-view [role=status]').textContent"
    )
    page.click("button.more")
    page.wait_for(f"document.querySelectorAll('.hits > li.hit').length > {len(first)}")
    page.wait_for(SEARCH_DONE)
    hits: list[dict[str, Any]] = page.evaluate(HITS)
    seqs = [hit["seq"] for hit in hits]
    assert len(seqs) == len(set(seqs)), seqs  # the next page, not the first one again
    assert all(hit["marks"] == ["line"] for hit in hits)


def test_search_sends_the_saved_api_key(page: Browser, tmp_path: Path) -> None:
    server = _start_server(tmp_path)
    try:
        with httpx.Client(base_url=server.base, timeout=10) as http:
            made = http.post("/v1/sessions", json={"user_id": "u", "title": "Keyed"})
            assert made.status_code == 201, made.text
            sid = made.json()["id"]
            sent = http.post(
                f"/v1/sessions/{sid}/messages",
                json={"messages": [{"role": "user", "content": "secret walrus"}]},
            )
            assert sent.status_code == 201, sent.text
            key = http.post("/v1/keys", json={"role": "admin"})
            assert key.status_code == 201, key.text
        page.open(f"{server.base}/ui/search?q=walrus")
        page.wait_for("document.querySelector('.error-box[data-status=\"401\"]') !== null")
        page.problems.clear()  # the browser logs the refused request
        page.type_into("#api-key", key.json()["key"], enter=True)
        page.wait_for(SEARCH_DONE)
        hits: list[dict[str, Any]] = page.evaluate(HITS)
        assert [(hit["title"], hit["marks"]) for hit in hits] == [("Keyed", ["walrus"])]
    finally:
        page.evaluate("localStorage.clear()")
        _stop(server)


# What a search answers in the next test: an empty page first (allowed while has_more is true),
# then one hit a page, each with a snippet the server forgot to escape.
FAKE_SEARCH = """(() => {
  window.__afters = [];
  const real = window.fetch;
  window.fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input, location.href);
    if (!url.pathname.endsWith("/v1/search")) return real(input, init);
    window.__afters.push(url.searchParams.get("after"));
    const n = window.__afters.length;
    const hit = {
      object: "search_result", kind: "content", session_id: "s1", session_title: "Fake",
      seq: n, message_id: `m${n}`, role: "user", memory_id: null, user_id: "u",
      created_at: "2026-12-03T10:00:00Z", score: 0.7, evidence: null,
      snippet: `<img src=x onerror="window.__pwned=3">raw <mark>walrus</mark> &amp;lt; ${n}`,
    };
    const data = n === 1 ? [] : [hit];
    const body = { object: "list", data, has_more: true, next_cursor: `c${n}` };
    return new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } });
  };
})()"""


def test_short_pages_are_followed_and_a_snippet_is_never_parsed(
    page: Browser, site: tuple[Server, dict[str, str]]
) -> None:
    server, _ = site
    page.open(f"{server.base}/ui/")
    page.evaluate(FAKE_SEARCH)
    page.type_into("#top-q", "walrus", enter=True)  # a client-side navigation: fetch stays faked
    page.wait_for(SEARCH_DONE)
    # one load follows the cursor past the empty page, up to 5 requests for a page's worth
    assert page.evaluate("window.__afters") == [None, "c1", "c2", "c3", "c4"]
    hits: list[dict[str, Any]] = page.evaluate(HITS)
    assert [hit["seq"] for hit in hits] == ["2", "3", "4", "5"]
    assert page.evaluate("document.querySelector('.search-view [role=status]').textContent") == (
        "Showing 4 results (more available)."
    )
    page.click("button.more")
    page.wait_for("document.querySelectorAll('.hits > li.hit').length === 9")
    assert page.evaluate("window.__afters").count("c5") == 1
    # only the <mark> markers become elements; the rest is text, unescaped once
    assert hits[0]["snippet"] == '<img src=x onerror="window.__pwned=3">raw walrus &lt; 2'
    assert hits[0]["elements"] == ["mark"] and hits[0]["marks"] == ["walrus"]
    page.settle(0.3)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.evaluate("document.querySelectorAll('main img').length") == 0


def test_a_refused_query_shows_the_server_message(
    page: Browser, site: tuple[Server, dict[str, str]]
) -> None:
    server, _ = site
    page.open(f"{server.base}/ui/search?q=%21%3F%21")  # no word characters
    box = page.wait_for(
        "document.querySelector('.search-view .error-box[data-status=\"400\"]')?.textContent"
    )
    assert "Request failed (400)" in box
    page.problems[:] = [p for p in page.problems if "status of 400" not in p]
