// How a failed request is shown: what happened, and what the reader can do about it.

import { getKey } from "./api.js";
import { h } from "./dom.js";

function advice(error) {
  switch (error.status) {
    case 0:
      return "Check that the convostore server is running, then retry.";
    case 401:
      return getKey()
        ? "The saved API key was refused. Enter a valid key at the top, or press Clear to remove it."
        : "This server needs an API key. Enter one in the “API key” field at the top and press Save.";
    case 403:
      return "The API key you entered is not allowed to read this. A user-scoped key sees only its own user's sessions.";
    case 404:
      return "It may have been deleted, or it belongs to another user or tenant.";
    case 429:
      return "The server is busy; wait a moment and retry.";
    default:
      return error.status >= 500 ? "The server had a problem; retry in a moment." : "";
  }
}

function heading(error) {
  switch (error.status) {
    case 0:
      return "Cannot reach the server";
    case 401:
      return getKey() ? "API key not accepted" : "API key required";
    case 403:
      return "Not allowed";
    case 404:
      return "Not found";
    default:
      return `Request failed (${error.status || "error"})`;
  }
}

/** An alert box for `error`, with a retry button (and a key prompt for 401). */
export function errorBox(error, { onRetry } = {}) {
  const status = typeof error.status === "number" ? error.status : -1;
  const box = h(
    "div",
    { class: "error-box", role: "alert", dataset: { status: String(status) } },
    h("h2", { text: heading(error) }),
    h("p", { class: "error-message", text: error.message || String(error) }),
  );
  const tip = advice(error);
  if (tip) box.appendChild(h("p", { class: "error-advice", text: tip }));
  const actions = h("p", { class: "actions" });
  if (status === 401 || status === 403) {
    actions.appendChild(
      h("button", {
        type: "button",
        text: "Enter API key",
        onclick: () => document.getElementById("api-key")?.focus(),
      }),
    );
  }
  if (onRetry && status !== 404) {
    actions.appendChild(h("button", { type: "button", class: "secondary", text: "Retry", onclick: onRetry }));
  }
  if (actions.childNodes.length) box.appendChild(actions);
  return box;
}
