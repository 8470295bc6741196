// One session: its header, totals, summary and state, then the conversation (paged by seq,
// 200 messages at a time) and, for agent sessions, its runs.

import { ApiError, api } from "./api.js";
import { clear, h } from "./dom.js";
import { errorBox } from "./errors.js";
import * as fmt from "./format.js";
import { messageItem } from "./messages.js";
import { runList } from "./runs.js";

const MESSAGE_PAGE = 200;
// Messages shown before a linked message (`?seq=N`) that lies beyond the first page.
const TARGET_CONTEXT = 10;

function metaList(session) {
  const rows = [
    ["Session id", h("code", { text: session.id })],
    ["User", h("a", { href: `./?user_id=${encodeURIComponent(session.user_id)}`, "data-link": true, text: session.user_id })],
    ["Type", h("span", { class: `badge type-${session.type}`, text: session.type })],
    session.component_id ? ["Component", h("code", { text: session.component_id })] : null,
    ["Created", h("time", { datetime: session.created_at, title: session.created_at, text: fmt.date(session.created_at) })],
    ["Updated", h("time", { datetime: session.updated_at, title: session.updated_at, text: fmt.date(session.updated_at) })],
  ].filter(Boolean);
  return h("dl", { class: "meta" }, rows.map(([term, value]) => h("div", {}, h("dt", { text: term }), h("dd", {}, value))));
}

function totals(session) {
  const metrics = session.metrics || {};
  const cards = [
    ["Messages", session.message_count, "message_count"],
    ["Input tokens", metrics.input_tokens ?? 0, "input_tokens"],
    ["Output tokens", metrics.output_tokens ?? 0, "output_tokens"],
    ["Total tokens", metrics.total_tokens ?? 0, "total_tokens"],
  ];
  if (metrics.reasoning_tokens) cards.push(["Reasoning tokens", metrics.reasoning_tokens, "reasoning_tokens"]);
  if (metrics.cache_read_tokens) cards.push(["Cache-read tokens", metrics.cache_read_tokens, "cache_read_tokens"]);
  if (session.run_count) cards.push(["Runs", session.run_count, "run_count"]);
  return h(
    "section",
    { class: "totals", "aria-label": "Totals" },
    cards.map(([label, value, key]) =>
      h("div", { class: "total", dataset: { total: key } }, h("div", { class: "total-value", text: fmt.number(value) }), h("div", { class: "total-label", text: label })),
    ),
  );
}

function summaryBlock(summary) {
  if (!summary || !summary.text) return null;
  const topics = summary.topics || [];
  const covers = typeof summary.covers_through_seq === "number" ? `Covers messages up to #${summary.covers_through_seq}.` : null;
  return h(
    "section",
    { class: "card summary", "aria-labelledby": "summary-heading" },
    h("h2", { id: "summary-heading", text: "Summary" }),
    h("p", { class: "prose", text: summary.text }),
    topics.length ? h("ul", { class: "chips", "aria-label": "Topics" }, topics.map((t) => h("li", { class: "chip", text: t }))) : null,
    covers || summary.updated_at
      ? h("p", { class: "muted small" }, covers, covers && summary.updated_at ? " " : null, summary.updated_at ? `Updated ${fmt.date(summary.updated_at)}.` : null)
      : null,
  );
}

function jsonDetails(label, value, className) {
  if (!fmt.present(value)) return null;
  const count = typeof value === "object" && !Array.isArray(value) ? Object.keys(value).length : null;
  return h(
    "details",
    { class: `card json ${className}` },
    h("summary", {}, label, count !== null ? h("span", { class: "muted", text: ` · ${count} ${count === 1 ? "key" : "keys"}` }) : null),
    h("pre", { class: "code", text: fmt.json(value) }),
  );
}

function tabs(view, showRuns, runCount) {
  const wanted = new URL(location.href).searchParams.get("tab") === "runs" && showRuns ? "runs" : "messages";
  const defs = [["messages", "Conversation"]];
  if (showRuns) defs.push(["runs", `Runs (${fmt.number(runCount)})`]);
  const buttons = {};
  const panels = {};
  const bar = h("div", { class: "tabs", role: "tablist", "aria-label": "Session views" });
  for (const [name, label] of defs) {
    buttons[name] = h("button", {
      type: "button",
      role: "tab",
      id: `tab-${name}`,
      "aria-controls": `panel-${name}`,
      text: label,
      onclick: () => select(name, true),
    });
    panels[name] = h("section", { role: "tabpanel", id: `panel-${name}`, "aria-labelledby": `tab-${name}`, class: "panel" });
    bar.appendChild(buttons[name]);
  }
  bar.addEventListener("keydown", (event) => {
    if (!["ArrowLeft", "ArrowRight", "Home", "End"].includes(event.key)) return;
    const names = defs.map(([name]) => name);
    const at = names.indexOf(document.activeElement && document.activeElement.id.replace("tab-", ""));
    let next = event.key === "Home" ? 0 : event.key === "End" ? names.length - 1 : at + (event.key === "ArrowRight" ? 1 : -1);
    next = (next + names.length) % names.length;
    event.preventDefault();
    select(names[next], true);
    buttons[names[next]].focus();
  });
  const listeners = [];
  function select(name, remember) {
    for (const [other] of defs) {
      const on = other === name;
      buttons[other].setAttribute("aria-selected", String(on));
      buttons[other].tabIndex = on ? 0 : -1;
      panels[other].hidden = !on;
    }
    if (remember) {
      const url = new URL(location.href);
      if (name === "runs") url.searchParams.set("tab", "runs");
      else url.searchParams.delete("tab");
      history.replaceState(null, "", url);
    }
    for (const listener of listeners) listener(name);
  }
  return { bar, panels, select, initial: wanted, onSelect: (fn) => listeners.push(fn) };
}

/** The message `seq` the address points at (`?seq=N`, from a search result), or null. */
function targetSeq(url) {
  const raw = url.searchParams.get("seq");
  if (raw === null || !/^\d+$/.test(raw)) return null;
  const seq = Number(raw);
  return Number.isSafeInteger(seq) && seq > 0 ? seq : null;
}

/**
 * The conversation, paged by seq. It starts at the first message; with a `target` seq beyond the
 * first page it starts a little before that message instead, offers the earlier ones above, and
 * the later ones below. The target message is then scrolled into view and marked.
 */
function messagesPanel(view, session, panel, firstPage, target) {
  const list = h("ol", { class: "messages", "aria-label": "Messages" });
  const status = h("span", { class: "muted", role: "status", "aria-live": "polite" });
  const problems = h("div");
  const earlierProblems = h("div");
  const earlier = h("button", { type: "button", class: "secondary", hidden: true, text: "Load earlier messages", onclick: loadEarlier });
  const more = h("button", { type: "button", hidden: true, text: `Load ${MESSAGE_PAGE} more`, onclick: () => load(false) });
  const all = h("button", { type: "button", class: "secondary", hidden: true, text: "Load all", onclick: () => load(true) });
  const earlierRow = h("p", { class: "more-row", hidden: true }, earlier);
  panel.append(earlierRow, earlierProblems, list, problems, h("p", { class: "more-row" }, status, more, all));
  let cursor = null;
  let shown = 0;
  let busy = false;
  let head = null; // seq of the first message shown, while earlier ones are not (else null)
  let firstSeq = null;
  let lastSeq = null;

  function describe() {
    const total = Math.max(session.message_count, shown);
    if (shown === 0) status.textContent = "This session has no messages yet.";
    else if (head !== null) {
      status.textContent = `Showing messages #${firstSeq}\u2013#${lastSeq} (${fmt.number(shown)} of ${fmt.number(total)}).`;
    } else if (cursor) status.textContent = `Showing ${fmt.number(shown)} of ${fmt.number(total)} messages.`;
    else status.textContent = `All ${fmt.number(shown)} ${shown === 1 ? "message" : "messages"} shown.`;
  }

  function add(page) {
    for (const message of page.data) list.appendChild(messageItem(message));
    shown += page.data.length;
    if (page.data.length) {
      if (firstSeq === null) firstSeq = page.data[0].seq;
      lastSeq = page.data[page.data.length - 1].seq;
    }
    cursor = page.has_more ? page.next_cursor : null;
    more.hidden = all.hidden = !cursor;
    describe();
  }

  async function load(everything) {
    if (busy || !cursor) return;
    busy = true;
    more.disabled = all.disabled = true;
    clear(problems);
    status.textContent = "Loading messages…";
    try {
      do {
        add(await api.messages(session.id, { after: cursor, limit: MESSAGE_PAGE }, { signal: view.signal }));
      } while (everything && cursor && !view.signal.aborted);
    } catch (error) {
      if (view.signal.aborted) return;
      if (!(error instanceof ApiError)) console.error(error);
      status.textContent = `Showing ${fmt.number(shown)} messages.`;
      problems.appendChild(errorBox(error, { onRetry: () => load(everything) }));
    } finally {
      busy = false;
      more.disabled = all.disabled = false;
    }
  }

  async function loadEarlier() {
    if (busy || head === null) return;
    busy = true;
    earlier.disabled = true;
    clear(earlierProblems);
    try {
      const page = await api.messages(session.id, { before: head, order: "desc", limit: MESSAGE_PAGE }, { signal: view.signal });
      for (const message of page.data) list.insertBefore(messageItem(message), list.firstChild);
      shown += page.data.length;
      if (page.data.length) firstSeq = page.data[page.data.length - 1].seq;
      head = page.has_more && page.data.length ? firstSeq : null;
      earlierRow.hidden = head === null;
      describe();
    } catch (error) {
      if (view.signal.aborted) return;
      if (!(error instanceof ApiError)) console.error(error);
      earlierProblems.appendChild(errorBox(error, { onRetry: loadEarlier }));
    } finally {
      busy = false;
      earlier.disabled = false;
    }
  }

  function showTarget() {
    const item = list.querySelector(`li[data-seq="${target}"]`);
    if (!item) {
      problems.appendChild(h("p", { class: "muted target-missing", role: "status", text: `Message #${target} is not in this session (any more).` }));
      return;
    }
    item.classList.add("msg-target");
    item.setAttribute("aria-current", "true");
    item.tabIndex = -1;
    item.scrollIntoView({ block: "center" });
    item.focus({ preventScroll: true });
  }

  async function start() {
    const reached = !firstPage.has_more || firstPage.data.some((message) => message.seq >= target);
    if (target === null || reached) {
      add(firstPage);
      if (target !== null) showTarget();
      return;
    }
    // Start a few messages before the target, so it is read in context.
    status.textContent = `Loading message #${target}…`;
    let page;
    try {
      page = await api.messages(session.id, { after: Math.max(0, target - 1 - TARGET_CONTEXT), limit: MESSAGE_PAGE }, { signal: view.signal });
    } catch (error) {
      if (view.signal.aborted) return;
      if (!(error instanceof ApiError)) console.error(error);
      add(firstPage);
      problems.appendChild(errorBox(error, { onRetry: () => { clear(problems); clear(list); shown = 0; firstSeq = lastSeq = null; start(); } }));
      return;
    }
    if (view.signal.aborted) return;
    const sessionStart = firstPage.data.length ? firstPage.data[0].seq : null;
    if (page.data.length && sessionStart !== null && page.data[0].seq > sessionStart) {
      head = page.data[0].seq;
      earlierRow.hidden = false;
      earlier.hidden = false;
    }
    add(page);
    showTarget();
  }

  start();
}

function runsPanel(view, session, panel) {
  let loaded = false;
  async function load() {
    loaded = true;
    clear(panel);
    panel.appendChild(h("p", { class: "muted", role: "status", text: "Loading runs…" }));
    try {
      const body = await api.runs(session.id, { signal: view.signal });
      clear(panel).appendChild(runList(body.data || []));
    } catch (error) {
      if (view.signal.aborted) return;
      clear(panel).appendChild(errorBox(error, { onRetry: load }));
    }
  }
  return (name) => {
    if (name === "runs" && !loaded) load();
  };
}

/** Render session `id` into `view.main`. */
export async function renderSession(view, id) {
  document.title = "Session — convostore";
  const crumbs = h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "./", "data-link": true, text: "← All sessions" }));
  const loading = h("p", { class: "muted", role: "status", text: "Loading the conversation…" });
  view.main.append(crumbs, loading);
  view.main.setAttribute("aria-busy", "true");
  let session;
  try {
    session = await api.session(id, { include_messages: MESSAGE_PAGE }, { signal: view.signal });
  } catch (error) {
    if (view.signal.aborted) return;
    loading.remove();
    view.main.removeAttribute("aria-busy");
    if (error instanceof ApiError && error.status === 404) document.title = "Session not found — convostore";
    view.main.appendChild(errorBox(error, { onRetry: () => { clear(view.main); renderSession(view, id); } }));
    return;
  }
  loading.remove();
  view.main.removeAttribute("aria-busy");
  const title = session.title || "(untitled session)";
  document.title = `${title} — convostore`;

  const showRuns = session.type === "agent" || session.run_count > 0;
  const target = targetSeq(view.url);
  const tabset = tabs(view, showRuns, session.run_count);
  view.main.appendChild(
    h(
      "article",
      { class: "session-view", "aria-labelledby": "session-title" },
      h("header", { class: "session-head" }, h("h1", { id: "session-title", text: title }), metaList(session)),
      totals(session),
      summaryBlock(session.summary),
      jsonDetails("State", session.state, "state"),
      jsonDetails("Metadata", session.metadata, "metadata"),
      jsonDetails("Component data", session.component_data, "component-data"),
      tabset.bar,
      Object.values(tabset.panels),
    ),
  );
  const empty = { data: [], has_more: false, next_cursor: null };
  if (showRuns) tabset.onSelect(runsPanel(view, session, tabset.panels.runs));
  // The panel is shown before it is filled, so that a linked message can be scrolled to.
  tabset.select(target === null ? tabset.initial : "messages", false);
  messagesPanel(view, session, tabset.panels.messages, session.messages || empty, target);
}
