// The runs of an agent session: one card per turn with its status, input, output and metrics.

import { h } from "./dom.js";
import * as fmt from "./format.js";
import { tokenLine, valueBlock } from "./messages.js";

function statusClass(status) {
  const value = String(status || "").toLowerCase();
  if (["completed", "success", "succeeded"].includes(value)) return "ok";
  if (["error", "failed", "cancelled", "canceled"].includes(value)) return "bad";
  return "neutral";
}

function textOrJson(label, value) {
  if (!fmt.present(value)) return null;
  if (typeof value === "string") {
    return h("div", { class: "kv" }, h("div", { class: "kv-label", text: label }), h("div", { class: "prose", text: value }));
  }
  return valueBlock(label, value);
}

function runItem(run) {
  return h(
    "li",
    { class: "run", dataset: { runId: run.id } },
    h(
      "div",
      { class: "run-head" },
      h("span", { class: `badge status status-${statusClass(run.status)}`, text: run.status || "unknown" }),
      h("span", { class: "run-index", text: `Run ${run.index + 1}` }),
      h("code", { class: "muted small", text: run.id }),
      run.parent_run_id ? h("span", { class: "muted small", text: `child of ${run.parent_run_id}` }) : null,
      h("time", { class: "muted small", datetime: run.created_at, title: run.created_at, text: fmt.date(run.created_at) }),
      tokenLine(run.metrics),
    ),
    textOrJson("Input", run.input),
    textOrJson("Output", run.content),
    fmt.present(run.extra) ? h("details", { class: "extra" }, h("summary", { text: "More fields" }), h("pre", { class: "code", text: fmt.json(run.extra) })) : null,
  );
}

/** A list of runs, or a note that there are none. */
export function runList(runs) {
  if (!runs.length) return h("p", { class: "muted", text: "No runs were recorded for this session." });
  return h("ol", { class: "runs" }, runs.map(runItem));
}
