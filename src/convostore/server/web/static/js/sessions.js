// The session browser: search, filter, sort, and a keyset-paged table.
//
// Filters live in the query string (`?q=&user_id=&type=&component_id=&sort=&order=`), so a
// filtered list can be bookmarked, shared, and restored by the back button.

import { ApiError, api } from "./api.js";
import { clear, h } from "./dom.js";
import { errorBox } from "./errors.js";
import * as fmt from "./format.js";

const PAGE_SIZE = 50;
const FILTERS = ["q", "user_id", "type", "component_id"];
const SORTS = [
  ["updated_at:desc", "Recently updated"],
  ["updated_at:asc", "Least recently updated"],
  ["created_at:desc", "Newest first"],
  ["created_at:asc", "Oldest first"],
  ["title:asc", "Title A–Z"],
  ["title:desc", "Title Z–A"],
];

function queryFrom(url) {
  const query = {};
  for (const name of FILTERS) query[name] = (url.searchParams.get(name) || "").trim();
  const sort = url.searchParams.get("sort") || "updated_at";
  const order = url.searchParams.get("order") || (sort === "title" ? "asc" : "desc");
  query.sort = SORTS.some(([value]) => value === `${sort}:${order}`) ? sort : "updated_at";
  query.order = query.sort === sort ? order : "desc";
  return query;
}

function searchOf(query) {
  const params = new URLSearchParams();
  for (const name of FILTERS) if (query[name]) params.set(name, query[name]);
  if (query.sort !== "updated_at" || query.order !== "desc") {
    params.set("sort", query.sort);
    params.set("order", query.order);
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

function field(id, label, control) {
  control.id = id;
  return h("div", { class: "field" }, h("label", { for: id, text: label }), control);
}

function sessionLink(session) {
  return `sessions/${encodeURIComponent(session.id)}`;
}

function filterLink(query, name, value) {
  return `./${searchOf({ ...query, [name]: value })}`;
}

function row(session, query) {
  const metrics = session.metrics || {};
  const title = session.title || "(untitled)";
  const component = session.component_id
    ? h("a", {
        href: filterLink(query, "component_id", session.component_id),
        "data-link": true,
        class: "subtle",
        title: "Show only this component's sessions",
        text: session.component_id,
      })
    : null;
  return h(
    "tr",
    { dataset: { sessionId: session.id } },
    h(
      "td",
      { class: "col-title", "data-label": "Title" },
      h("a", { href: sessionLink(session), "data-link": true, class: "session-title", text: title }),
      h("div", { class: "muted mono small", text: session.id }),
    ),
    h(
      "td",
      { "data-label": "User" },
      h("a", {
        href: filterLink(query, "user_id", session.user_id),
        "data-link": true,
        class: "subtle",
        title: "Show only this user's sessions",
        text: session.user_id,
      }),
    ),
    h(
      "td",
      { "data-label": "Type" },
      h("span", { class: `badge type-${session.type}`, text: session.type }),
      component ? " " : null,
      component,
    ),
    h("td", { class: "num", "data-label": "Messages", text: fmt.number(session.message_count) }),
    h("td", { class: "num", "data-label": "Tokens", text: fmt.number(metrics.total_tokens ?? 0) }),
    h(
      "td",
      { "data-label": "Updated" },
      h("time", { datetime: session.updated_at, title: session.updated_at, text: fmt.date(session.updated_at) }),
    ),
  );
}

/** Render the session list into `view.main`. */
export function renderSessionList(view) {
  document.title = "Sessions — convostore";
  let query = queryFrom(view.url);
  let loader = null; // AbortController of the page request in flight
  let cursor = null;
  let shown = 0;

  const q = h("input", { type: "search", name: "q", value: query.q, placeholder: "Words in the title", maxlength: 500 });
  const user = h("input", { type: "text", name: "user_id", value: query.user_id, placeholder: "Any user", spellcheck: "false" });
  const component = h("input", { type: "text", name: "component_id", value: query.component_id, placeholder: "Any agent, team or workflow", spellcheck: "false" });
  const type = h(
    "select",
    { name: "type" },
    [["", "Any type"], ["agent", "Agent"], ["team", "Team"], ["workflow", "Workflow"]].map(([value, label]) =>
      h("option", { value, selected: value === query.type, text: label }),
    ),
  );
  const sort = h(
    "select",
    { name: "sort" },
    SORTS.map(([value, label]) =>
      h("option", { value, selected: value === `${query.sort}:${query.order}`, text: label }),
    ),
  );
  const form = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Filter sessions" },
    field("f-q", "Search titles", q),
    field("f-user", "User id", user),
    field("f-type", "Type", type),
    field("f-component", "Component id", component),
    field("f-sort", "Sort by", sort),
    h(
      "div",
      { class: "field buttons" },
      h("button", { type: "submit", text: "Search" }),
      h("button", { type: "button", class: "secondary", text: "Reset", onclick: reset }),
    ),
  );
  const status = h("p", { class: "muted", role: "status", "aria-live": "polite" });
  const tbody = h("tbody");
  const table = h(
    "table",
    { class: "sessions", hidden: true },
    h("caption", { class: "visually-hidden", text: "Sessions" }),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["Title", "User", "Type", "Messages", "Tokens", "Updated"].map((label) =>
          h("th", { scope: "col", class: label === "Messages" || label === "Tokens" ? "num" : null, text: label }),
        ),
      ),
    ),
    tbody,
  );
  const problems = h("div", { class: "problems" });
  const more = h("button", { type: "button", class: "more", hidden: true, text: "Load more sessions", onclick: () => load(false) });

  view.main.appendChild(
    h(
      "section",
      { class: "list-view", "aria-labelledby": "list-heading" },
      h("div", { class: "page-head" }, h("h1", { id: "list-heading", text: "Sessions" }), status),
      form,
      problems,
      h("div", { class: "table-wrap" }, table),
      h("p", { class: "more-row" }, more),
    ),
  );

  function readForm() {
    const [sortField, order] = sort.value.split(":");
    return {
      q: q.value.trim(),
      user_id: user.value.trim(),
      type: type.value,
      component_id: component.value.trim(),
      sort: sortField,
      order,
    };
  }

  function apply() {
    query = readForm();
    const target = `./${searchOf(query)}`;
    if (new URL(target, document.baseURI).href !== location.href) {
      history.pushState(null, "", new URL(target, document.baseURI));
    }
    load(true);
  }

  function reset() {
    q.value = "";
    user.value = "";
    component.value = "";
    type.value = "";
    sort.value = "updated_at:desc";
    apply();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    apply();
  });
  type.addEventListener("change", apply);
  sort.addEventListener("change", apply);
  let typing = null;
  for (const input of [q, user, component]) {
    input.addEventListener("input", () => {
      clearTimeout(typing);
      typing = setTimeout(apply, 350);
    });
  }
  view.signal.addEventListener("abort", () => {
    clearTimeout(typing);
    if (loader) loader.abort();
  });

  async function load(fresh) {
    if (loader) loader.abort();
    loader = new AbortController();
    const signal = loader.signal;
    if (fresh) {
      cursor = null;
      shown = 0;
    }
    clear(problems);
    status.textContent = "Loading…";
    more.disabled = true;
    view.main.setAttribute("aria-busy", "true");
    try {
      const page = await api.sessions(
        { ...query, limit: PAGE_SIZE, after: fresh ? null : cursor },
        { signal },
      );
      if (fresh) clear(tbody);
      for (const session of page.data) tbody.appendChild(row(session, query));
      shown += page.data.length;
      cursor = page.next_cursor;
      table.hidden = shown === 0;
      more.hidden = !(page.has_more && cursor);
      const filtered = FILTERS.some((name) => query[name]);
      if (shown === 0) {
        status.textContent = filtered
          ? "No sessions match these filters."
          : "No sessions yet. Store conversations through the API (see the API docs) and they appear here.";
      } else {
        const noun = shown === 1 ? "session" : "sessions";
        status.textContent = `Showing ${fmt.number(shown)} ${noun}${page.has_more ? " (more available)" : ""}.`;
      }
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
