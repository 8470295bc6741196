"""Import an Agno database (SQLite or PostgreSQL) into convostore.

Agno 3.x keeps sessions in `agno_sessions` and one row per run in `agno_runs` (`run_data` holds the
whole run, messages included); 2.x kept every run of a session in one `runs` JSON column of the
sessions table, which migrated 3.x databases still carry. Both are read and merged by run id.
Memories come from `agno_memories`. The source is read with SQLAlchemy Core reflection only, so
Agno itself is never needed. Sessions and memories that already exist are skipped, which makes a
second run a no-op.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError

from convostore.compat.agno.memories_map import memory_from_agno_row
from convostore.compat.agno.runs_map import from_agno_run, stringify_input
from convostore.compat.agno.sessions_map import DERIVED_NAME, session_from_agno_row
from convostore.compat.agno.wire import from_epoch, split_metrics
from convostore.errors import Conflict, Unprocessable
from convostore.ids import new_id
from convostore.models import JSONObject, Memory, Message, NewRun, Run, Session
from convostore.rules import sum_metrics
from convostore.storage.base import SessionBundle, Store
from convostore.validation import check_evidence, check_metrics, check_numbers

SESSION_TABLE = "agno_sessions"
RUNS_TABLE = "agno_runs"
MEMORY_TABLE = "agno_memories"
_SCHEMAS = ("ai", None)  # Agno's PostgreSQL default schema first, then the default search path


@dataclass
class ImportReport:
    sessions_seen: int = 0
    sessions_imported: int = 0
    runs: int = 0
    messages: int = 0
    memories_seen: int = 0
    memories_imported: int = 0
    skipped: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AgnoSource:
    """The reflected tables of one Agno database."""

    engine: sa.Engine
    sessions: sa.Table | None
    runs: sa.Table | None
    memories: sa.Table | None


def open_source(url: str) -> AgnoSource:
    engine = sa.create_engine(url)
    inspector = sa.inspect(engine)
    found: dict[str, sa.Table | None] = {SESSION_TABLE: None, RUNS_TABLE: None, MEMORY_TABLE: None}
    schemas = _SCHEMAS if engine.dialect.name == "postgresql" else (None,)
    for name in found:
        for schema in schemas:
            if inspector.has_table(name, schema=schema):
                found[name] = sa.Table(name, sa.MetaData(), schema=schema, autoload_with=engine)
                break
    if found[SESSION_TABLE] is None and found[MEMORY_TABLE] is None:
        engine.dispose()
        raise ValueError(f"no Agno tables ({SESSION_TABLE}, {MEMORY_TABLE}) found in {url!r}")
    return AgnoSource(engine, found[SESSION_TABLE], found[RUNS_TABLE], found[MEMORY_TABLE])


def _json(value: Any) -> Any:
    """JSON columns arrive parsed or, from some SQLite files, as text."""
    if isinstance(value, str | bytes):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _row(mapping: Any) -> JSONObject:
    return {str(k): _json(v) for k, v in dict(mapping).items()}


# --- pure: one Agno session as a convostore bundle -------------------------------------------


def agno_session_name(kind: str, runs: list[JSONObject], component_data: Any) -> str:
    """The name Agno derives when none was set: first user message, else the first input."""
    if kind == "workflow":
        if not runs:
            return ""
        first = runs[0].get("input")
        if isinstance(first, str):
            return first
        if isinstance(first, dict):
            return json.dumps(first)
        name = component_data.get("name") if isinstance(component_data, dict) else None
        return f"New {name} Session" if name else ""
    candidates = [r for r in runs if not r.get("agent_id")] if kind == "team" else runs
    for run in candidates:
        for message in run.get("messages") or ():
            is_user = isinstance(message, dict) and message.get("role") == "user"
            if is_user and isinstance(message.get("content"), str) and message["content"]:
                return str(message["content"])
        if run.get("input") is not None:
            raw = run["input"]
            if isinstance(raw, dict) and raw.get("input_content") is not None:
                raw = raw["input_content"]
            return stringify_input(raw)
    return ""


def _to_run(new: NewRun, session: Session, index: int, data: JSONObject) -> Run:
    created = new.created_at or session.created_at
    return Run(
        session_id=session.id,
        id=new.id or new_id(),
        index=index,
        parent_run_id=new.parent_run_id,
        component_id=new.component_id,
        user_id=str(data.get("user_id") or session.user_id),
        status=new.status,
        input=new.input,
        content=new.content,
        metrics=new.metrics or {},
        extra=new.extra,
        created_at=created,
        updated_at=from_epoch(data.get("updated_at")) or created,
    )


def bundle_from_agno(row: JSONObject, runs: list[JSONObject]) -> SessionBundle:
    """An `agno_sessions` row with its run dicts (stored order) as a complete session."""
    new, raw_metrics = session_from_agno_row(row)
    created = new.created_at or from_epoch(0)
    assert created is not None
    title, extra = new.title, new.extra
    if not title:
        title = agno_session_name(new.type, runs, new.component_data)
        extra = {**(extra or {}), DERIVED_NAME: title}
    base = Session(
        id=str(new.id),
        user_id=new.user_id or "default",
        type=new.type,
        component_id=new.component_id,
        title=title,
        summary=new.summary,
        state=new.state,
        metadata=new.metadata,
        component_data=new.component_data,
        extra=extra,
        created_at=created,
        updated_at=from_epoch(row.get("updated_at")) or created,
    )
    stored_runs: list[Run] = []
    messages: list[Message] = []
    used_ids: set[str] = set()
    for index, data in enumerate(runs):
        new_run = from_agno_run(data)
        run = _to_run(new_run, base, index, data)
        stored_runs.append(run)
        for m in new_run.messages:
            message_id = m.id if m.id and m.id not in used_ids else new_id()
            used_ids.add(message_id)
            messages.append(
                Message(
                    session_id=base.id,
                    seq=len(messages) + 1,
                    id=message_id,
                    run_id=run.id,
                    role=m.role,
                    content=m.content,
                    thinkings=m.thinkings,
                    tool_calls=m.tool_calls,
                    metrics=m.metrics,
                    from_history=m.from_history,
                    extra=m.extra,
                    created_at=m.created_at or run.created_at,
                )
            )
    numbers = (
        split_metrics(raw_metrics)[0]
        if raw_metrics
        else sum_metrics(r.metrics for r in stored_runs)
    )
    session = base.model_copy(
        update={
            "metrics": numbers,
            "message_count": len(messages),
            "run_count": len(stored_runs),
            "last_message_at": messages[-1].created_at if messages else None,
        }
    )
    bundle = SessionBundle(session=session, runs=stored_runs, messages=messages)
    _check_numbers(bundle)
    return bundle


def _check_numbers(bundle: SessionBundle) -> None:
    """The numbers every surface takes (`validation.check_numbers`): Agno writes its JSON with
    Python's `json`, which writes NaN and Infinity, and those would be stored as null."""
    where = f"session {bundle.session.id}"
    check_numbers(bundle.session, where)
    check_metrics(bundle.session.metrics, f"{where}.metrics")
    for index, run in enumerate(bundle.runs):
        check_numbers(run, f"{where}.runs[{index}]")
        check_metrics(run.metrics, f"{where}.runs[{index}].metrics")
    for message in bundle.messages:
        at = f"{where}.messages[{message.seq}]"
        check_numbers(message, at)
        check_metrics(message.metrics, f"{at}.metrics")
        check_evidence(message.refs, f"{at}.refs")


def memory_from_agno(row: JSONObject) -> Memory:
    new = memory_from_agno_row(row)
    created = new.created_at or new.updated_at or from_epoch(0)
    assert created is not None
    memory = Memory(
        id=str(new.id),
        user_id=new.user_id or "default",
        memory=new.memory,
        topics=new.topics,
        agent_id=new.agent_id,
        team_id=new.team_id,
        extra=new.extra,
        created_at=created,
        updated_at=new.updated_at or created,
    )
    check_numbers(memory, f"memory {memory.id}")
    return memory


# --- reading the source ----------------------------------------------------------------------


def _runs_of(
    source: AgnoSource, conn: sa.Connection, rows: list[JSONObject]
) -> dict[str, list[JSONObject]]:
    """Each session's runs in stored order: the runs table, with legacy blob runs merged in."""
    ids = [str(r["session_id"]) for r in rows]
    by_session: dict[str, list[JSONObject]] = {i: [] for i in ids}
    if source.runs is not None:
        t = source.runs
        order = [c for c in ("run_index", "created_at", "run_id") if c in t.c]
        stmt = sa.select(t.c.session_id, t.c.run_data).where(t.c.session_id.in_(ids))
        stmt = stmt.order_by(*(t.c[c] for c in order))
        for session_id, run_data in conn.execute(stmt):
            data = _json(run_data)
            if isinstance(data, dict):
                by_session[str(session_id)].append(data)
    for row in rows:
        legacy = row.get("runs")
        if isinstance(legacy, list):
            sid = str(row["session_id"])
            have = {r.get("run_id") for r in by_session[sid]}
            extra = [r for r in legacy if isinstance(r, dict) and r.get("run_id") not in have]
            by_session[sid] = extra + by_session[sid]
    return by_session


def count_sessions(source: AgnoSource) -> int:
    if source.sessions is None:
        return 0
    with source.engine.connect() as conn:
        return int(
            conn.execute(sa.select(sa.func.count()).select_from(source.sessions)).scalar_one()
        )


def read_bundles(source: AgnoSource, batch_size: int = 100) -> Iterator[list[SessionBundle]]:
    """Sessions in batches, oldest first, each with all its runs and messages."""
    if source.sessions is None:
        return
    t = source.sessions
    stmt = sa.select(t).order_by(t.c.created_at, t.c.session_id)
    with source.engine.connect() as conn:
        result = conn.execution_options(stream_results=True).execute(stmt).mappings()
        while batch := [_row(r) for r in result.fetchmany(batch_size)]:
            runs = _runs_of(source, conn, batch)
            yield [_bundle(r, runs[str(r["session_id"])]) for r in batch]


def _bundle(row: JSONObject, runs: list[JSONObject]) -> SessionBundle:
    """`bundle_from_agno`, its validation errors as one line naming the session and value
    (a NaN metric, say: Python's `json` writes them)."""
    try:
        return bundle_from_agno(row, runs)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = ".".join(str(step) for step in error["loc"])
        raise Unprocessable(
            f"session {row['session_id']}: {exc.title} {where}: {error['msg']}"
        ) from None


def read_memories(source: AgnoSource) -> Iterator[Memory]:
    if source.memories is None:
        return
    t = source.memories
    with source.engine.connect() as conn:
        for row in conn.execute(sa.select(t).order_by(t.c.memory_id)).mappings():
            data = _row(row)
            if data.get("memory") not in (None, ""):
                yield memory_from_agno(data)


def import_agno(
    source: AgnoSource,
    store: Store,
    tenant_id: str,
    *,
    batch_size: int = 100,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Copy every session (with runs and messages) and memory; existing ids are skipped."""
    store.ensure_tenant(tenant_id)
    report = ImportReport()
    for bundles in read_bundles(source, batch_size):
        report.sessions_seen += len(bundles)
        fresh = [b for b in bundles if store.get_session(tenant_id, b.session.id) is None]
        written = store.import_sessions(tenant_id, fresh, on_conflict="skip")
        report.sessions_imported += len(written)
        report.runs += sum(len(b.runs) for b in written)
        report.messages += sum(len(b.messages) for b in written)
        if progress is not None:
            progress(len(bundles))
    for memory in read_memories(source):
        report.memories_seen += 1
        try:
            store.create_memory(tenant_id, memory)
        except Conflict:
            continue
        report.memories_imported += 1
    return report
