// Formatting values for reading: media timestamps, dates, token counts, JSON.

const numberFormat = new Intl.NumberFormat();
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** Seconds into a source as mm:ss (h:mm:ss past an hour). */
export function timestamp(seconds) {
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0) return "";
  const total = Math.floor(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = String(m).padStart(2, "0");
  const ss = String(s).padStart(2, "0");
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** A time range as `mm:ss–mm:ss`, or one timestamp when there is no end. */
export function timeRange(start, end) {
  const from = timestamp(start);
  if (end === null || end === undefined) return from;
  return `${from}\u2013${timestamp(end)}`;
}

export function number(value) {
  return typeof value === "number" && Number.isFinite(value) ? numberFormat.format(value) : "—";
}

export function date(iso) {
  if (!iso) return "";
  const parsed = new Date(iso);
  return Number.isNaN(parsed.getTime()) ? String(iso) : dateFormat.format(parsed);
}

export function json(value) {
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}

/** Whether a JSON value has anything worth showing (a non-empty object or array, or a scalar). */
export function present(value) {
  if (value === null || value === undefined) return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === "object") return Object.keys(value).length > 0;
  return value !== "";
}
