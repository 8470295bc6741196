// One message as the reader sees it: role, reasoning steps, the answer, cited evidence with
// timestamps, tool calls and token usage. Everything is built from text nodes (see dom.js).

import { h } from "./dom.js";
import * as fmt from "./format.js";

export const ROLE_LABELS = { user: "User", assistant: "Assistant", system: "System", tool: "Tool" };
export const ITEM_KINDS = {
  keyframe: "Keyframe",
  visual_ts: "Visual",
  audio_ts: "Audio",
  transcript: "Transcript",
  ocr: "On-screen text",
};
const TOKEN_LABELS = [
  ["input_tokens", "in"],
  ["output_tokens", "out"],
  ["total_tokens", "total"],
  ["reasoning_tokens", "reasoning"],
  ["cache_read_tokens", "cache read"],
  ["cache_write_tokens", "cache write"],
];

/** Short token chips (`in 120 · out 45 · total 165`) for a metrics object; null when empty. */
export function tokenLine(metrics, className = "tokens") {
  const parts = [];
  for (const [key, label] of TOKEN_LABELS) {
    const value = metrics && metrics[key];
    if (typeof value === "number" && (value > 0 || key === "total_tokens")) {
      parts.push(h("span", { class: "token", dataset: { metric: key } }, `${label} `, h("b", { text: fmt.number(value) })));
    }
  }
  if (metrics && typeof metrics.duration === "number") {
    parts.push(h("span", { class: "token", dataset: { metric: "duration" } }, h("b", { text: `${metrics.duration.toFixed(2)} s` })));
  }
  if (!parts.length || (parts.length === 1 && metrics.total_tokens === 0)) return null;
  return h("span", { class: className, "aria-label": "Token usage" }, parts);
}

function thinkingsBlock(thinkings) {
  if (!thinkings || !thinkings.length) return null;
  const steps = thinkings.length === 1 ? "1 step" : `${thinkings.length} steps`;
  return h(
    "details",
    { class: "thinkings" },
    h("summary", {}, "Reasoning ", h("span", { class: "muted", text: `· ${steps}` })),
    h(
      "ol",
      { class: "steps" },
      thinkings.map((step, index) =>
        h(
          "li",
          { class: "step" },
          h("div", { class: "step-title", text: step.title || `Step ${index + 1}` }),
          step.content ? h("div", { class: "step-content prose", text: step.content }) : null,
        ),
      ),
    ),
  );
}

function timeline(item, duration) {
  if (!(typeof duration === "number" && duration > 0 && typeof item.start === "number")) return null;
  const start = Math.min(Math.max(item.start / duration, 0), 1);
  const end = typeof item.end === "number" ? Math.min(Math.max(item.end / duration, start), 1) : start;
  const mark = h("span", { class: "timeline-mark" });
  mark.style.left = `${(start * 100).toFixed(2)}%`;
  mark.style.width = `max(3px, ${((end - start) * 100).toFixed(2)}%)`;
  return h("span", { class: "timeline", "aria-hidden": "true" }, mark);
}

function evidenceBlock(refs) {
  if (!refs || !refs.length) return null;
  return h(
    "section",
    { class: "evidence", "aria-label": "Evidence" },
    h("h3", { class: "block-title", text: refs.length === 1 ? "Evidence" : `Evidence · ${refs.length} sources` }),
    refs.map((ref) => {
      const source = ref.source || {};
      const items = ref.items || [];
      return h(
        "div",
        { class: "ref", dataset: { sourceId: source.id ?? "" } },
        h(
          "div",
          { class: "ref-source" },
          h("span", { class: `badge kind-${source.kind || "source"}`, text: source.kind || "source" }),
          h("span", { class: "ref-name", text: source.name || "Untitled source" }),
          h("code", { class: "ref-id", title: "Source id", text: source.id ?? "" }),
          typeof source.duration === "number"
            ? h("span", { class: "muted small", text: `length ${fmt.timestamp(source.duration)}` })
            : null,
        ),
        items.length
          ? h(
              "ul",
              { class: "ref-items" },
              items.map((item) =>
                h(
                  "li",
                  { class: "ref-item" },
                  h("span", { class: "ts mono", text: fmt.timeRange(item.start, item.end) }),
                  h("span", { class: "badge item-kind", title: item.kind, text: ITEM_KINDS[item.kind] || item.kind }),
                  item.text ? h("span", { class: "ref-text", text: item.text }) : null,
                  timeline(item, source.duration),
                ),
              ),
            )
          : null,
      );
    }),
  );
}

function toolName(call) {
  return call.tool_name || (call.function && call.function.name) || call.name || "tool";
}

function toolArgs(call) {
  const raw = call.tool_args ?? (call.function && call.function.arguments) ?? call.arguments ?? call.args;
  if (typeof raw === "string") {
    try {
      return JSON.parse(raw);
    } catch {
      return raw;
    }
  }
  return raw;
}

function valueBlock(label, value) {
  if (!fmt.present(value)) return null;
  const text = typeof value === "string" ? value : fmt.json(value);
  return h("div", { class: "kv" }, h("div", { class: "kv-label", text: label }), h("pre", { class: "code", text }));
}

function toolCallsBlock(calls) {
  if (!calls || !calls.length) return null;
  return h(
    "details",
    { class: "tool-calls" },
    h("summary", {}, "Tool calls ", h("span", { class: "muted", text: `· ${calls.map(toolName).join(", ")}` })),
    calls.map((call) =>
      h(
        "div",
        { class: "tool-call" },
        h("div", { class: "tool-name mono", text: toolName(call) }),
        valueBlock("Arguments", toolArgs(call)),
        valueBlock("Result", call.result ?? call.content),
      ),
    ),
  );
}

/** The list item for one message. */
export function messageItem(message) {
  const role = message.role || "user";
  const hasContent = typeof message.content === "string" && message.content.length > 0;
  return h(
    "li",
    { class: `msg role-${role}`, dataset: { seq: String(message.seq) } },
    h(
      "div",
      { class: "msg-head" },
      h("span", { class: "role", text: ROLE_LABELS[role] || role }),
      h("span", { class: "seq muted", title: "Position in the conversation", text: `#${message.seq}` }),
      message.from_history ? h("span", { class: "badge", text: "from history" }) : null,
      h("time", { class: "muted small", datetime: message.created_at, title: message.created_at, text: fmt.date(message.created_at) }),
      tokenLine(message.metrics),
    ),
    thinkingsBlock(message.thinkings),
    hasContent
      ? h("div", { class: "content prose", text: message.content })
      : (message.tool_calls || []).length
        ? null
        : h("div", { class: "content muted", text: "(no text)" }),
    evidenceBlock(message.refs),
    toolCallsBlock(message.tool_calls),
  );
}

export { valueBlock };
