// The public /v1 API, as the browser reaches it: same origin, optional Bearer key.

const KEY_STORAGE = "convostore.apiKey";

/** The server root (the page's <base> is `<root>/ui/`). */
export const ROOT = new URL("../", document.baseURI);

export class ApiError extends Error {
  constructor(status, type, message, param) {
    super(message);
    this.status = status;
    this.type = type;
    this.param = param;
  }
}

export function getKey() {
  try {
    return localStorage.getItem(KEY_STORAGE) || "";
  } catch {
    return "";
  }
}

export function setKey(key) {
  try {
    if (key) localStorage.setItem(KEY_STORAGE, key);
    else localStorage.removeItem(KEY_STORAGE);
  } catch {
    // storage may be disabled; the key then lasts only for this page
  }
}

/** GET `path` (relative to the server root) with query `params`; resolves to the JSON body. */
export async function get(path, params = {}, { signal } = {}) {
  const url = new URL(path, ROOT);
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
  }
  const headers = { Accept: "application/json" };
  const key = getKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  let response;
  try {
    response = await fetch(url, { headers, signal, credentials: "same-origin" });
  } catch (error) {
    if (error && error.name === "AbortError") throw error;
    throw new ApiError(0, "network_error", "The server could not be reached.");
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const err = (body && body.error) || {};
    const message = err.message || `The server answered ${response.status}.`;
    throw new ApiError(response.status, err.type || "http_error", message, err.param);
  }
  return body;
}

export const api = {
  sessions: (params, options) => get("v1/sessions", params, options),
  session: (id, params, options) => get(`v1/sessions/${encodeURIComponent(id)}`, params, options),
  messages: (id, params, options) =>
    get(`v1/sessions/${encodeURIComponent(id)}/messages`, params, options),
  runs: (id, options) => get(`v1/sessions/${encodeURIComponent(id)}/runs`, {}, options),
  memory: (id, options) => get(`v1/memories/${encodeURIComponent(id)}`, {}, options),
  search: (params, options) => get("v1/search", params, options),
};
