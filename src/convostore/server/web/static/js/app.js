// The UI's entry point: the API key form, and a small router over the History API.
//
// Routes (relative to <root>/ui/):  ""  the session list (filters in the query string);
// "search"  full-text search (`?q=` and its filters); "sessions/<id>"  one session (`?tab=runs`
// for its runs, `?seq=N` to scroll to message N and mark it).

import { getKey, setKey } from "./api.js";
import { clear, h } from "./dom.js";
import { renderSearch } from "./search.js";
import { renderSession } from "./session.js";
import { renderSessionList } from "./sessions.js";

const main = document.getElementById("main");
let current = null; // AbortController of the view on screen

function routeOf(url) {
  const base = new URL(".", document.baseURI).pathname;
  const path = url.pathname.startsWith(base) ? url.pathname.slice(base.length) : null;
  if (path === "" || path === null && url.pathname === base.replace(/\/$/, "")) {
    return { name: "list" };
  }
  if (path === "search" || path === "search/") return { name: "search" };
  const match = /^sessions\/([^/]+)\/?$/.exec(path || "");
  if (match) return { name: "session", id: decodeURIComponent(match[1]) };
  return { name: "missing" };
}

/** Show the view for the current URL; `focus` moves keyboard focus to it after navigation. */
export function render({ focus = false } = {}) {
  if (current) current.abort();
  current = new AbortController();
  const url = new URL(location.href);
  const route = routeOf(url);
  clear(main);
  const view = { main, url, signal: current.signal, navigate };
  topSearch.hidden = route.name === "search"; // the search page has its own box
  if (route.name === "list") renderSessionList(view);
  else if (route.name === "search") renderSearch(view);
  else if (route.name === "session") renderSession(view, route.id);
  else {
    document.title = "Page not found — convostore";
    main.appendChild(
      h("div", { class: "error-box", role: "alert" },
        h("h1", { text: "Page not found" }),
        h("p", {}, h("a", { href: "./", "data-link": true, text: "Back to the sessions" })),
      ),
    );
  }
  if (focus) main.focus({ preventScroll: true });
}

/** Go to `href` (relative to the document base) without reloading the page. */
export function navigate(href, { replace = false } = {}) {
  const url = new URL(href, document.baseURI);
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  render({ focus: !replace });
  if (!replace) window.scrollTo(0, 0);
}

document.addEventListener("click", (event) => {
  const link = event.target instanceof Element ? event.target.closest("a[data-link]") : null;
  if (!link || event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const url = new URL(link.href);
  if (url.origin !== location.origin) return;
  event.preventDefault();
  navigate(url.href);
});

window.addEventListener("popstate", () => render());

// The skip link's "#main" would resolve against <base>; move focus instead of navigating.
document.querySelector(".skip-link").addEventListener("click", (event) => {
  event.preventDefault();
  main.focus();
});

// --- the search box in the top bar ---------------------------------------------------------------

const topSearch = document.getElementById("top-search");
const topQuery = document.getElementById("top-q");

topSearch.addEventListener("submit", (event) => {
  event.preventDefault();
  const q = topQuery.value.trim();
  if (!q) {
    topQuery.focus();
    return;
  }
  topQuery.value = "";
  navigate(`search?${new URLSearchParams({ q })}`);
});

// --- the API key form ---------------------------------------------------------------------------

const keyForm = document.getElementById("key-form");
const keyInput = document.getElementById("api-key");
const keyStatus = document.getElementById("key-status");

function showKeyState(message) {
  keyStatus.textContent = message || (getKey() ? "Key saved" : "");
  keyInput.placeholder = getKey() ? "•••••• (saved)" : "not set";
}

keyForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const value = keyInput.value.trim();
  if (!value) {
    keyStatus.textContent = "Type a key first";
    return;
  }
  setKey(value);
  keyInput.value = "";
  showKeyState("Key saved");
  render();
});

document.getElementById("key-clear").addEventListener("click", () => {
  setKey("");
  keyInput.value = "";
  showKeyState("Key cleared");
  render();
});

showKeyState();
render();
