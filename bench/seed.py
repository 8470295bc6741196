"""Seeding benchmark data sets fast, and keeping them for the next run.

The schema comes from the store's own migrations (`open_store`); rows from `bench.dataset`. The
writers bypass the service for speed but not its shape: same tables, same columns, same derived
fields. Secondary indexes are dropped during the load and rebuilt from the database's own
definitions afterwards. SQLite loads with `synchronous=OFF` on the seeding connection only (the
server later opens the file with its usual settings). PostgreSQL loads everything in one
transaction with binary `COPY ... FREEZE`, builds primary keys and indexes after the rows are in,
then runs `VACUUM ANALYZE` as autovacuum would soon do on its own.

A finished data set is recorded in a small JSON file beside it (spec, row counts, seconds); a
later run with an equal spec reuses it, anything else is rebuilt.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg import postgres
from psycopg.abc import Buffer
from psycopg.adapt import Dumper
from psycopg.pq import Format

from bench.dataset import COLUMNS, TENANT, Batch, Pools, Spec, batches, build_pools
from convostore.storage import open_store
from convostore.storage.search_index import index_all_sources, index_existing

DATA_DIR = Path(__file__).parent / "results" / "data"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BATCH_SESSIONS = 2_000
PG_MAINTENANCE_WORK_MEM = "1GB"  # for the index builds at the end of a PostgreSQL load
_SUFFIXES = {"k": 1_000, "m": 1_000_000}


def parse_size(text: str) -> int:
    """`10k`, `100k`, `1M` or a plain number."""
    text = text.strip().lower()
    if text[-1:] in _SUFFIXES:
        return int(float(text[:-1]) * _SUFFIXES[text[-1]])
    return int(text)


def size_label(sessions: int) -> str:
    for suffix, factor in (("M", 1_000_000), ("k", 1_000)):
        if sessions >= factor and sessions % factor == 0:
            return f"{sessions // factor}{suffix}"
    return str(sessions)


@dataclass
class Dataset:
    backend: str
    spec: Spec
    url: str
    seconds: float
    reused: bool
    rows: dict[str, int]


def dataset_url(backend: str, spec: Spec, *, data_dir: Path, pg_url: str) -> str:
    name = f"cs_bench_{size_label(spec.sessions).lower()}"
    if backend == "sqlite":
        return f"sqlite:///{(data_dir / f'{name}.db').resolve()}"
    return sa.make_url(pg_url).set(database=name).render_as_string(hide_password=False)


def ensure_dataset(
    backend: str,
    spec: Spec,
    *,
    data_dir: Path = DATA_DIR,
    pg_url: str = DEFAULT_PG_URL,
    log: Any = print,
) -> Dataset:
    """The seeded data set for `spec`, reused from disk when it is there and complete."""
    data_dir.mkdir(parents=True, exist_ok=True)
    url = dataset_url(backend, spec, data_dir=data_dir, pg_url=pg_url)
    marker = data_dir / f"{backend}-{size_label(spec.sessions)}.json"
    if marker.exists():
        saved = json.loads(marker.read_text())
        if saved.get("spec") == spec.key() and _session_count(url) >= spec.sessions:
            log(f"reusing {backend} {size_label(spec.sessions)} ({saved['seconds']:.1f}s to seed)")
            # one seeded before a schema change is brought up to date here, not by the server
            # under test at start-up (folding 1M titles takes longer than its health check waits)
            open_store(url).close()
            return Dataset(backend, spec, url, saved["seconds"], True, saved["rows"])
        marker.unlink()
    log(f"seeding {backend} {size_label(spec.sessions)} ...")
    started = time.perf_counter()
    _recreate(backend, url)
    open_store(url).close()  # the schema, by the store's own migrations
    if backend == "sqlite":
        rows = _seed_sqlite(url, spec, build_pools())
    else:
        rows = _seed_postgres(url, spec, build_pools())
    indexing = time.perf_counter()
    rows["search_docs"] = index_for_search(url)
    indexed = time.perf_counter() - indexing
    log(f"indexed {rows['search_docs']:,} search documents in {indexed:.1f}s")
    seconds = time.perf_counter() - started
    marker.write_text(json.dumps({"spec": spec.key(), "seconds": seconds, "rows": rows}))
    log(f"seeded {backend} {size_label(spec.sessions)} in {seconds:.1f}s: {rows}")
    return Dataset(backend, spec, url, seconds, False, rows)


def index_for_search(url: str) -> int:
    """Index the seeded rows for search as migration 0006 indexes a database stored before it
    (the rows went in beside the store, so nothing indexed them on the way)."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            written = index_existing(conn)
            index_all_sources(conn)
        if engine.dialect.name == "postgresql":
            with engine.connect() as conn:
                conn.execute(sa.text("ANALYZE search_docs"))
                conn.execute(sa.text("ANALYZE search_sources"))
                conn.commit()
        return written
    finally:
        engine.dispose()


def drop_dataset(url: str) -> None:
    """Remove a seeded data set (the SQLite file or the PostgreSQL database)."""
    _recreate(_backend(url), url, create=False)


def _backend(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def _libpq(url: str) -> str:
    return sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _session_count(url: str) -> int:
    try:
        if _backend(url) == "sqlite":
            path = sa.make_url(url).database or ""
            if not Path(path).exists():
                return 0
            with sqlite3.connect(path) as conn:
                return int(conn.execute("SELECT count(*) FROM sessions").fetchone()[0])
        with psycopg.connect(_libpq(url), connect_timeout=5) as pg:
            row = pg.execute("SELECT count(*) FROM sessions").fetchone()
            return int(row[0]) if row else 0
    except (sqlite3.Error, psycopg.Error):
        return 0


def _recreate(backend: str, url: str, *, create: bool = True) -> None:
    if backend == "sqlite":
        path = Path(sa.make_url(url).database or "")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    parsed = sa.make_url(url)
    admin = _libpq(parsed.render_as_string(hide_password=False)).rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as pg:
        pg.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        if create:
            pg.execute(f'CREATE DATABASE "{parsed.database}"')


def _counts(rows: dict[str, int], batch: Batch) -> None:
    for table in COLUMNS:
        rows[table] = rows.get(table, 0) + len(getattr(batch, table))


# --- SQLite -------------------------------------------------------------------------------------


def _seed_sqlite(url: str, spec: Spec, pools: Pools) -> dict[str, int]:
    conn = sqlite3.connect(sa.make_url(url).database or "", isolation_level=None)
    try:
        for pragma in ("synchronous=OFF", "cache_size=-1000000", "temp_store=MEMORY"):
            conn.execute(f"PRAGMA {pragma}")
        conn.execute("INSERT OR IGNORE INTO tenants (id, created_at) VALUES (?, ?)", (TENANT, 0))
        indexes = [
            (name, sql)
            for table in COLUMNS
            for name, sql in conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                "AND sql IS NOT NULL",
                (table,),
            )
        ]
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        inserts = {
            table: f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
            for table, cols in COLUMNS.items()
        }
        rows: dict[str, int] = {}
        for batch in batches(spec, pools, BATCH_SESSIONS):
            conn.execute("BEGIN")
            for table, sql in inserts.items():
                conn.executemany(sql, getattr(batch, table))
            conn.execute("COMMIT")
            _counts(rows, batch)
        for _, sql in indexes:
            conn.execute(sql)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return rows
    finally:
        conn.close()


# --- PostgreSQL ---------------------------------------------------------------------------------


class _JsonTextDumper(Dumper):
    """Already-serialised JSON into a binary `jsonb` field: its version byte, then the text."""

    format = Format.BINARY
    oid = postgres.types["jsonb"].oid

    def dump(self, obj: Any) -> Buffer | None:
        text: str = obj
        return b"\x01" + text.encode()


def _prefetched(items: Iterator[Batch]) -> Iterator[Batch]:
    """`items`, each built by a worker thread while the previous one is being sent.

    The driver releases the GIL while it waits for the server, so building the next batch
    overlaps with the server loading this one.
    """
    with ThreadPoolExecutor(1) as worker:
        pending = worker.submit(next, items, None)
        while (batch := pending.result()) is not None:
            pending = worker.submit(next, items, None)
            yield batch


def _seed_postgres(url: str, spec: Spec, pools: Pools) -> dict[str, int]:
    """Load every row in one transaction with binary `COPY ... FREEZE`, then build the keys.

    `FREEZE` needs the tables emptied in the loading transaction (hence the `TRUNCATE`); it
    writes rows already frozen and marked all-visible, so the final `VACUUM` has nothing left
    to do and index-only scans work at once. Primary keys and indexes are dropped first and
    rebuilt from their own definitions at the end: one sorted build each instead of millions
    of inserts.
    """
    tables = list(COLUMNS)
    with psycopg.connect(_libpq(url), autocommit=True) as pg:
        pg.adapters.register_dumper(None, _JsonTextDumper)
        pg.execute("SET synchronous_commit = off")
        pg.execute(f"SET maintenance_work_mem = '{PG_MAINTENANCE_WORK_MEM}'")
        pg.execute(
            "INSERT INTO tenants (id, created_at) VALUES (%s, 0) ON CONFLICT DO NOTHING", (TENANT,)
        )
        keys = pg.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'p' AND conrelid = ANY(%s::regclass[])",
            (tables,),
        ).fetchall()
        indexes = pg.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = ANY(%s) "
            "AND i.schemaname = current_schema() "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            (tables,),
        ).fetchall()
        types = {table: _column_types(pg, table, cols) for table, cols in COLUMNS.items()}
        rows: dict[str, int] = {}
        with pg.transaction(), pg.cursor() as cur:
            cur.execute(f"TRUNCATE {', '.join(tables)}")
            for name, _ in indexes:
                cur.execute(f'DROP INDEX "{name}"')
            for table, name, _ in keys:
                cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            for batch in _prefetched(batches(spec, pools, BATCH_SESSIONS)):
                for table, cols in COLUMNS.items():
                    sql = f"COPY {table} ({', '.join(cols)}) FROM STDIN (FORMAT binary, FREEZE)"
                    with cur.copy(sql) as copy:
                        copy.set_types(types[table])
                        for row in getattr(batch, table):
                            copy.write_row(row)
                _counts(rows, batch)
            for table, name, definition in keys:
                cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            for _, sql in indexes:
                cur.execute(sql)
        for table in tables:
            pg.execute(f"VACUUM ANALYZE {table}")
        return rows


def _column_types(pg: psycopg.Connection[Any], table: str, columns: tuple[str, ...]) -> list[int]:
    """The type oids of `columns`, which binary `COPY` must be told."""
    found = dict(
        pg.execute(
            "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass "
            "AND attnum > 0 AND NOT attisdropped",
            (table,),
        ).fetchall()
    )
    return [int(found[column]) for column in columns]
