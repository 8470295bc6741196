"""Turning a results file into Markdown: figures, floors, ratios and the issue's targets.

The results file (JSON, written by `bench.run` after every measurement) holds flat dictionaries
keyed by `backend/size/case/cN`; this module only reads it, so a report can be redrawn at any time:

    python -m bench.report bench/results/latest.json
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.cases import BY_NAME, CASES

Results = dict[str, Any]
TARGET_CONNECTIONS = 16
MAX_RSS_MB = 150.0


@dataclass(frozen=True)
class Target:
    text: str
    check: Callable[[Results, str], tuple[str, bool | None]]  # (figure, passed) for a dataset


def measured(results: Results, dataset: str, case: str, conns: int = TARGET_CONNECTIONS) -> Any:
    return results.get("runs", {}).get(f"{dataset}/{case}/c{conns}")


def _rps_at_least(case: str, floor: float, per_message: bool = False) -> Target:
    unit = "messages/s" if per_message else "req/s"

    def check(results: Results, dataset: str) -> tuple[str, bool | None]:
        run = measured(results, dataset, case)
        if run is None:
            return "-", None
        value = run["rps"] * (BY_NAME[case].messages_per_request if per_message else 1)
        return f"{value:,.0f}", value >= floor

    return Target(f"{case} ≥ {floor:,.0f} {unit}", check)


def _p99_at_most(case: str, limit_ms: float) -> Target:
    def check(results: Results, dataset: str) -> tuple[str, bool | None]:
        run = measured(results, dataset, case)
        if run is None:
            return "-", None
        return f"{run['p99_ms']:.1f} ms", run["p99_ms"] <= limit_ms

    return Target(f"{case} p99 ≤ {limit_ms:g} ms", check)


def _p50_at_most(case: str, limit_ms: float) -> Target:
    def check(results: Results, dataset: str) -> tuple[str, bool | None]:
        run = measured(results, dataset, case)
        if run is None:
            return "-", None
        return f"{run['p50_ms']:.1f} ms", run["p50_ms"] <= limit_ms

    return Target(f"{case} p50 ≤ {limit_ms:g} ms", check)


def _within(case: str, reference: str, factor: float) -> Target:
    def check(results: Results, dataset: str) -> tuple[str, bool | None]:
        run, ref = measured(results, dataset, case), measured(results, dataset, reference)
        if run is None or ref is None or not run["rps"]:
            return "-", None
        ratio = ref["rps"] / run["rps"]
        return f"{ratio:.2f}x", ratio <= factor

    return Target(f"{case} within {factor:g}x of {reference}", check)


def _rss(results: Results, dataset: str) -> tuple[str, bool | None]:
    peaks = [
        run["hwm_mb"] for key, run in results.get("runs", {}).items() if key.startswith(dataset)
    ]
    if not peaks:
        return "-", None
    return f"{max(peaks):.0f} MB", max(peaks) <= MAX_RSS_MB


TARGETS: tuple[Target, ...] = (
    *(_rps_at_least(c, 4_000) for c in ("list_first", "list_user", "list_deep_cursor")),
    *(_p99_at_most(c, 15) for c in ("list_first", "list_user", "list_deep_cursor")),
    _within("list_deep_cursor", "list_first", 1.3),
    _rps_at_least("detail_20", 2_500),
    _rps_at_least("messages_page", 2_500),
    *(_within(c.name, c.native_equivalent, 1.5) for c in CASES if c.native_equivalent),
    _p50_at_most("search_selective", 10),
    _p99_at_most("search_selective", 50),
    _p99_at_most("search_common", 100),
    _p50_at_most("search_video", 10),
    _rps_at_least("append_1", 1_500),
    _rps_at_least("append_100", 20_000, per_message=True),
    Target(f"server peak RSS ≤ {MAX_RSS_MB:g} MB", _rss),
)


def _fmt(value: float | None, spec: str = ",.0f") -> str:
    return "-" if value is None else format(value, spec)


def datasets(results: Results) -> list[str]:
    seen: list[str] = []
    for key in results.get("runs", {}):
        dataset = "/".join(key.split("/")[:2])
        if dataset not in seen:
            seen.append(dataset)
    return seen


def figures_table(results: Results, dataset: str) -> list[str]:
    lines = [
        "| case | conns | req/s | msgs/s | p50 ms | p99 ms | RSS MB | body B | ASGI floor req/s "
        "| x ASGI | SQL floor µs | x SQL | load | errors |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for case in CASES:
        sql = results.get("sql_floors", {}).get(f"{dataset}/{case.name}")
        for key, run in results.get("runs", {}).items():
            if not key.startswith(f"{dataset}/{case.name}/c"):
                continue
            conns = int(key.rsplit("/c", 1)[1])
            floor = results.get("asgi_floors", {}).get(run.get("asgi_floor_key", ""))
            msgs = run["rps"] * case.messages_per_request if case.messages_per_request else None
            x_asgi = floor["rps"] / run["rps"] if floor and run["rps"] else None
            x_sql = sql["rps"] / run["rps"] if sql and run["rps"] else None
            lines.append(
                f"| {case.name} | {conns} | {_fmt(run['rps'])} | {_fmt(msgs)} "
                f"| {run['p50_ms']:.2f} | {run['p99_ms']:.2f} | {run['rss_mb']:.0f} "
                f"| {run['body_bytes']:,} | {_fmt(floor['rps'] if floor else None)} "
                f"| {_fmt(x_asgi, '.1f')} | {_fmt(sql['median_us'] if sql else None, ',.0f')} "
                f"| {_fmt(x_sql, '.1f')} | {run['load'][0]:.1f} "
                f"| {run['errors'] + run['non_2xx']} |"
            )
    return lines


def targets_table(results: Results, dataset: str) -> list[str]:
    lines = [
        f"| target (at {TARGET_CONNECTIONS} connections) | figure | pass |",
        "|---|--:|:-:|",
    ]
    for target in TARGETS:
        figure, passed = target.check(results, dataset)
        verdict = "-" if passed is None else "pass" if passed else "**fail**"
        lines.append(f"| {target.text} | {figure} | {verdict} |")
    return lines


def _ratio_rows(results: Results, pairs: list[tuple[str, str]], limit: float) -> list[str]:
    rows = []
    for case in (c for c in CASES if not c.write):
        cells = []
        for cheap, dear in pairs:
            a, b = measured(results, cheap, case.name), measured(results, dear, case.name)
            if a is None or b is None or not b["rps"]:
                cells.append("-")
                continue
            ratio = a["rps"] / b["rps"]
            cells.append(f"{ratio:.2f}x {'pass' if ratio <= limit else '**fail**'}")
        rows.append(f"| {case.name} | " + " | ".join(cells) + " |")
    return rows


def scaling_table(results: Results) -> list[str]:
    """Read cost of the largest data set over the smallest, per backend (target ≤ 1.3x)."""
    pairs = []
    for backend in ("sqlite", "postgresql"):
        sizes = [d for d in datasets(results) if d.startswith(backend + "/")]
        if len(sizes) >= 2:
            pairs.append((sizes[0], sizes[-1]))
    if not pairs:
        return []
    head = " | ".join(f"{a} → {b.split('/')[1]}" for a, b in pairs)
    return [
        "| read case | " + head + " |",
        "|---|" + "--:|" * len(pairs),
        *_ratio_rows(results, pairs, 1.3),
    ]


def backend_table(results: Results) -> list[str]:
    """PostgreSQL's cost over SQLite's on the same data set (target ≤ 2x)."""
    pairs = [
        (d, "postgresql/" + d.split("/")[1])
        for d in datasets(results)
        if d.startswith("sqlite/") and "postgresql/" + d.split("/")[1] in datasets(results)
    ]
    if not pairs:
        return []
    head = " | ".join(f"PG/SQLite {a.split('/')[1]}" for a, _ in pairs)
    return [
        "| read case | " + head + " |",
        "|---|" + "--:|" * len(pairs),
        *_ratio_rows(results, pairs, 2.0),
    ]


def render(results: Results) -> str:
    meta = results.get("meta", {})
    out = [f"Command: `{meta.get('command', '?')}`", f"Started: {meta.get('started', '?')}", ""]
    for name, info in results.get("datasets", {}).items():
        how = "reused" if info.get("reused") else "seeded"
        out.append(
            f"- data set {name}: {how}, seeding took {info['seconds']:.1f} s, {info['rows']}"
        )
    for dataset in datasets(results):
        out += ["", f"### {dataset}", "", *figures_table(results, dataset), ""]
        out += targets_table(results, dataset)
    for title, table in (
        ("Cost of size (req/s of the smaller over the larger, 16 connections)", scaling_table),
        ("PostgreSQL over SQLite (req/s ratio, 16 connections)", backend_table),
    ):
        lines = table(results)
        if lines:
            out += ["", f"### {title}", "", *lines]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    path = Path(args[0]) if args else Path(__file__).parent / "results" / "latest.json"
    sys.stdout.write(render(json.loads(path.read_text())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
