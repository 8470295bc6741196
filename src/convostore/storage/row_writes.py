"""Table rows from domain values: what the store writes. Pure functions, no queries.

Empty JSON values (no thinkings, no metrics, an empty `extra`) are written as NULL; the readers
(`row_reads`) turn them back into empty values. Evidence references are also indexed in rows of
their own (`evidence_rows`), one per reference, by the span of time they cover.
"""

from __future__ import annotations

from typing import Any

from convostore.ids import to_micros
from convostore.models import EvidenceRef, Memory, Message, Run, Summary


def _or_none(value: Any) -> Any:
    """Empty JSON values are stored as NULL."""
    return value if value else None


def summary_to_json(summary: Summary | None) -> dict[str, Any] | None:
    return summary.model_dump(mode="json") if summary is not None else None


def message_to_row(
    tenant_id: str, message: Message, created_at_us: int | None = None
) -> dict[str, Any]:
    """The row of a stored message; `created_at_us` when the caller has its timestamp already."""
    thinkings, refs = message.thinkings, message.refs
    return {
        "tenant_id": tenant_id,
        "session_id": message.session_id,
        "seq": message.seq,
        "id": message.id,
        "run_id": message.run_id,
        "role": message.role,
        "content": message.content,
        "thinkings": [t.model_dump(mode="json") for t in thinkings] if thinkings else None,
        "refs": [r.model_dump(mode="json") for r in refs] if refs else None,
        "tool_calls": message.tool_calls or None,
        "metrics": message.metrics or None,
        "from_history": message.from_history,
        "extra": message.extra or None,
        "created_at": to_micros(message.created_at) if created_at_us is None else created_at_us,
    }


def evidence_rows(tenant_id: str, message: Message) -> list[dict[str, Any]]:
    rows = []
    for index, ref in enumerate(message.refs):
        start_min, end_max = evidence_span(ref)
        rows.append(
            {
                "tenant_id": tenant_id,
                "source_id": ref.source.id,
                "session_id": message.session_id,
                "seq": message.seq,
                "ref_index": index,
                "source_kind": ref.source.kind,
                "start_min": start_min,
                "end_max": end_max,
            }
        )
    return rows


def evidence_span(ref: EvidenceRef) -> tuple[float | None, float | None]:
    """The span a reference's items cover, `(earliest start, latest end)`, an item without an
    end ending where it starts; `(None, None)` without items. What evidence rows index."""
    if not ref.items:
        return None, None
    starts = [item.start for item in ref.items]
    ends = [item.end if item.end is not None else item.start for item in ref.items]
    return min(starts), max(ends)


def run_to_row(tenant_id: str, run: Run) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "session_id": run.session_id,
        "id": run.id,
        "run_index": run.index,
        "parent_run_id": run.parent_run_id,
        "component_id": run.component_id,
        "user_id": run.user_id,
        "status": run.status,
        "input": run.input,
        "content": run.content,
        "metrics": _or_none(run.metrics),
        "extra": _or_none(run.extra),
        "created_at": to_micros(run.created_at),
        "updated_at": to_micros(run.updated_at),
    }


def memory_to_row(tenant_id: str, memory: Memory) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "id": memory.id,
        "user_id": memory.user_id,
        "memory": memory.memory,
        "topics": _or_none(memory.topics),
        "agent_id": memory.agent_id,
        "team_id": memory.team_id,
        "source": memory.source.model_dump(mode="json") if memory.source else None,
        "extra": _or_none(memory.extra),
        "created_at": to_micros(memory.created_at),
        "updated_at": to_micros(memory.updated_at),
    }
