// Full-text search over what was said, reasoned and cited (`GET /v1/search`).
//
// The words and filters live in the query string (`search?q=&kind=&user_id=&source_id=&start=&end=`),
// so a search can be bookmarked, shared, and restored by the back button. Each message hit links
// to its message in the session view (`sessions/<id>?seq=N`), which scrolls to it and marks it.

import { ApiError, api } from "./api.js";
import { clear, h } from "./dom.js";
import { errorBox } from "./errors.js";
import * as fmt from "./format.js";
import { ITEM_KINDS, ROLE_LABELS } from "./messages.js";

const PAGE_SIZE = 20;
// A page may come back short (even empty) while more remain: the server bounds the work of one
// request. One "load" follows the cursor until it has a page's worth, or this many requests.
const MAX_HOPS = 5;
const FILTERS = ["q", "kind", "user_id", "source_id", "start", "end"];
const KINDS = [
  ["", "All kinds"],
  ["title", "Session titles"],
  ["summary", "Summaries"],
  ["memory", "Memories"],
  ["content", "Messages"],
  ["thinking", "Reasoning"],
  ["evidence", "Evidence"],
];
const KIND_LABELS = {
  title: "Title",
  summary: "Summary",
  memory: "Memory",
  content: "Message",
  thinking: "Reasoning",
  evidence: "Evidence",
};
const MESSAGE_KINDS = new Set(["content", "thinking", "evidence"]);

// --- snippets -----------------------------------------------------------------------------------

const ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** Undo the server's HTML escaping of snippet text (one pass, so `&amp;lt;` stays `&lt;`). */
export function unescapeHtml(text) {
  return text.replace(/&(#[xX][0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (whole, name) => {
    if (name[0] !== "#") return ENTITIES[name];
    const code = name[1] === "x" || name[1] === "X" ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
    try {
      return String.fromCodePoint(code);
    } catch {
      return whole;
    }
  });
}

/**
 * A snippet as nodes: the server wraps matched words in `<mark>`…`</mark>` and escapes the rest.
 * Only those two literal markers become elements; everything else is unescaped into text nodes,
 * so the snippet never goes through an HTML parser (even if the server forgot to escape).
 */
export function snippetNodes(snippet) {
  const nodes = [];
  let marked = false;
  for (const part of String(snippet || "").split(/(<mark>|<\/mark>)/)) {
    if (part === "<mark>") marked = true;
    else if (part === "</mark>") marked = false;
    else if (part) nodes.push(marked ? h("mark", { text: unescapeHtml(part) }) : unescapeHtml(part));
  }
  return nodes;
}

// --- the query in the address -------------------------------------------------------------------

/** Seconds from `75`, `75.5`, `1:15` or `1:02:03`; NaN when it is none of those. */
export function parseSeconds(text) {
  const value = String(text).trim();
  if (!/^\d+(\.\d*)?$|^\d+(:\d{1,2}){1,2}(\.\d*)?$/.test(value)) return Number.NaN;
  return value.split(":").reduce((total, part) => total * 60 + Number(part), 0);
}

function queryFrom(url) {
  const query = {};
  for (const name of FILTERS) query[name] = (url.searchParams.get(name) || "").trim();
  if (!KINDS.some(([value]) => value === query.kind)) query.kind = "";
  return query;
}

function searchOf(query) {
  const params = new URLSearchParams();
  for (const name of FILTERS) if (query[name]) params.set(name, query[name]);
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** What is wrong with the filters before asking the server, or "" when nothing is. */
function problemOf(query) {
  for (const [name, label] of [["start", "Start"], ["end", "End"]]) {
    if (query[name] && Number.isNaN(parseSeconds(query[name]))) {
      return `${label} must be seconds (like 75 or 75.5) or minutes:seconds (like 1:15).`;
    }
  }
  if ((query.start || query.end) && !query.source_id) return "A time span needs a video: enter its source id.";
  if (query.start && query.end && parseSeconds(query.start) > parseSeconds(query.end)) {
    return "The span's start is after its end.";
  }
  return "";
}

function paramsOf(query) {
  return {
    q: query.q,
    kind: query.kind,
    user_id: query.user_id,
    source_id: query.source_id,
    start: query.start ? String(parseSeconds(query.start)) : "",
    end: query.end ? String(parseSeconds(query.end)) : "",
  };
}

// --- one result ---------------------------------------------------------------------------------

/** Where a hit leads: its message (scrolled to and marked), or its session; null for memories. */
export function hitLink(hit) {
  if (!hit.session_id) return null;
  const session = `sessions/${encodeURIComponent(hit.session_id)}`;
  return MESSAGE_KINDS.has(hit.kind) && typeof hit.seq === "number" ? `${session}?seq=${hit.seq}` : session;
}

function evidenceLine(evidence) {
  if (!evidence) return null;
  const span = typeof evidence.start === "number" ? fmt.timeRange(evidence.start, evidence.end) : "";
  return h(
    "div",
    { class: "hit-evidence" },
    h("code", { class: "hit-source", title: "Source id", text: evidence.source_id ?? "" }),
    span ? " " : null,
    span ? h("span", { class: "ts mono", text: span }) : null,
    evidence.item_kind
      ? h("span", { class: "badge item-kind", title: evidence.item_kind, text: ITEM_KINDS[evidence.item_kind] || evidence.item_kind })
      : null,
    evidence.source_kind ? h("span", { class: "muted small", text: evidence.source_kind }) : null,
  );
}

function memoryDetails(hit, signal) {
  if (!hit.memory_id) return null;
  const body = h("div", { class: "memory-full" }, h("p", { class: "muted small", text: "Loading the memory…" }));
  const details = h("details", { class: "hit-memory" }, h("summary", { text: "The whole memory" }), body);
  let loaded = false;
  async function load() {
    loaded = true;
    clear(body).appendChild(h("p", { class: "muted small", text: "Loading the memory…" }));
    try {
      const memory = await api.memory(hit.memory_id, { signal });
      const topics = memory.topics || [];
      clear(body).append(
        h("p", { class: "prose", text: memory.memory }),
        topics.length ? h("ul", { class: "chips", "aria-label": "Topics" }, topics.map((t) => h("li", { class: "chip", text: t }))) : null,
        h("p", { class: "muted small" }, "Memory ", h("code", { text: memory.id }), ` · updated ${fmt.date(memory.updated_at)}`),
      );
    } catch (error) {
      if (signal.aborted) return;
      clear(body).appendChild(errorBox(error, { onRetry: load }));
    }
  }
  details.addEventListener("toggle", () => {
    if (details.open && !loaded) load();
  });
  return details;
}

function hitItem(hit, signal) {
  const link = hitLink(hit);
  const data = { kind: hit.kind };
  if (hit.session_id) data.sessionId = hit.session_id;
  if (typeof hit.seq === "number") data.seq = String(hit.seq);
  if (hit.memory_id) data.memoryId = hit.memory_id;
  const isMessage = MESSAGE_KINDS.has(hit.kind);
  const title = hit.session_id
    ? h("a", { class: "hit-title", href: link, "data-link": true, text: hit.session_title || "(untitled session)" })
    : h("span", { class: "hit-title", text: hit.user_id ? `Memory of ${hit.user_id}` : "Memory" });
  return h(
    "li",
    { class: `hit kind-${hit.kind}`, dataset: data },
    h(
      "div",
      { class: "hit-head" },
      h("span", { class: `badge hit-kind hit-kind-${hit.kind}`, text: KIND_LABELS[hit.kind] || hit.kind }),
      title,
      isMessage && hit.role ? h("span", { class: "role small", text: ROLE_LABELS[hit.role] || hit.role }) : null,
      isMessage && typeof hit.seq === "number"
        ? h("a", { class: "seq muted", href: link, "data-link": true, title: "Open this message in its session", text: `#${hit.seq}` })
        : null,
      h("time", { class: "muted small", datetime: hit.created_at, title: hit.created_at, text: fmt.date(hit.created_at) }),
    ),
    evidenceLine(hit.evidence),
    h("p", { class: "snippet prose" }, snippetNodes(hit.snippet)),
    hit.kind === "memory" ? memoryDetails(hit, signal) : null,
  );
}

// --- the page -----------------------------------------------------------------------------------

function field(id, label, control, className) {
  control.id = id;
  return h("div", { class: `field ${className || ""}`.trim() }, h("label", { for: id, text: label }), control);
}

/** Render the search page into `view.main`. */
export function renderSearch(view) {
  let query = queryFrom(view.url);
  let loader = null; // AbortController of the requests in flight
  let typing = null; // timer: search once the typing pauses
  let cursor = null;
  let shown = 0;

  const q = h("input", { type: "search", name: "q", value: query.q, placeholder: "Words, \"a phrase\", or prefix*", maxlength: 1000, spellcheck: "false" });
  const kind = h("select", { name: "kind" }, KINDS.map(([value, label]) => h("option", { value, selected: value === query.kind, text: label })));
  const user = h("input", { type: "text", name: "user_id", value: query.user_id, placeholder: "Any user", spellcheck: "false" });
  const source = h("input", { type: "text", name: "source_id", value: query.source_id, placeholder: "Any video", spellcheck: "false" });
  const start = h("input", { type: "text", name: "start", value: query.start, placeholder: "s or m:ss", inputmode: "decimal", spellcheck: "false" });
  const end = h("input", { type: "text", name: "end", value: query.end, placeholder: "s or m:ss", inputmode: "decimal", spellcheck: "false" });
  const form = h(
    "form",
    { class: "filters search-filters", role: "search", "aria-label": "Search conversations" },
    field("s-q", "Search for", q, "wide"),
    field("s-kind", "Found in", kind),
    field("s-user", "User id", user),
    field("s-source", "Video (source id)", source),
    field("s-start", "From (seconds)", start),
    field("s-end", "To (seconds)", end),
    h(
      "div",
      { class: "field buttons" },
      h("button", { type: "submit", text: "Search" }),
      h("button", { type: "button", class: "secondary", text: "Reset", onclick: reset }),
    ),
  );
  const status = h("p", { class: "muted", role: "status", "aria-live": "polite" });
  const problems = h("div", { class: "problems" });
  const results = h("ol", { class: "hits", "aria-label": "Search results", hidden: true });
  const more = h("button", { type: "button", class: "more", hidden: true, text: "More results", onclick: () => load(false) });

  view.main.appendChild(
    h(
      "section",
      { class: "search-view", "aria-labelledby": "search-heading" },
      h("div", { class: "page-head" }, h("h1", { id: "search-heading", text: "Search" }), status),
      form,
      problems,
      results,
      h("p", { class: "more-row" }, more),
    ),
  );

  function readForm() {
    return {
      q: q.value.trim(),
      kind: kind.value,
      user_id: user.value.trim(),
      source_id: source.value.trim(),
      start: start.value.trim(),
      end: end.value.trim(),
    };
  }

  function apply() {
    clearTimeout(typing);
    query = readForm();
    const target = new URL(`search${searchOf(query)}`, document.baseURI);
    if (target.href !== location.href) history.pushState(null, "", target);
    load(true);
  }

  function reset() {
    for (const input of [q, user, source, start, end]) input.value = "";
    kind.value = "";
    apply();
    q.focus();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    apply();
  });
  kind.addEventListener("change", apply);
  for (const input of [q, user, source, start, end]) {
    input.addEventListener("input", () => {
      clearTimeout(typing);
      typing = setTimeout(() => {
        const typed = readForm();
        if (FILTERS.some((name) => typed[name] !== query[name])) apply();
      }, 400);
    });
  }
  view.signal.addEventListener("abort", () => {
    clearTimeout(typing);
    if (loader) loader.abort();
  });

  function describe(hasMore) {
    if (shown === 0 && !hasMore) {
      status.textContent = "No results. Try fewer or other words, or remove a filter.";
    } else if (shown === 0) {
      status.textContent = "No results yet; the search has more to look through.";
    } else {
      const noun = shown === 1 ? "result" : "results";
      status.textContent = `Showing ${fmt.number(shown)} ${noun}${hasMore ? " (more available)" : ""}.`;
    }
  }

  async function load(fresh) {
    if (loader) loader.abort();
    loader = new AbortController();
    const signal = loader.signal;
    if (fresh) {
      cursor = null;
      shown = 0;
      clear(results);
      results.hidden = true;
      more.hidden = true;
    }
    clear(problems);
    document.title = query.q ? `${query.q} — Search — convostore` : "Search — convostore";
    if (!query.q) {
      status.textContent = "Search what was said, reasoned and cited in every session, and the memories.";
      return;
    }
    const problem = problemOf(query);
    if (problem) {
      status.textContent = "";
      problems.appendChild(h("p", { class: "error-box field-error", role: "alert", text: problem }));
      return;
    }
    status.textContent = "Searching…";
    more.disabled = true;
    view.main.setAttribute("aria-busy", "true");
    const params = paramsOf(query);
    try {
      let added = 0;
      let hops = 0;
      let hasMore = false;
      do {
        const page = await api.search({ ...params, limit: PAGE_SIZE, after: cursor }, { signal });
        for (const hit of page.data || []) results.appendChild(hitItem(hit, view.signal));
        added += (page.data || []).length;
        shown += (page.data || []).length;
        hops += 1;
        hasMore = Boolean(page.has_more && page.next_cursor);
        cursor = hasMore ? page.next_cursor : null;
        results.hidden = shown === 0;
      } while (hasMore && added < PAGE_SIZE && hops < MAX_HOPS && !signal.aborted);
      more.hidden = !hasMore;
      describe(hasMore);
    } catch (error) {
      if (signal.aborted) return;
      status.textContent = "";
      if (!(error instanceof ApiError)) console.error(error);
      problems.appendChild(errorBox(error, { onRetry: () => load(fresh) }));
    } finally {
      if (!signal.aborted) {
        more.disabled = false;
        view.main.removeAttribute("aria-busy");
      }
    }
  }

  load(true);
}
