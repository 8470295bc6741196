"""Storage: the `Store` contract and its SQLAlchemy Core implementation (SQLite, PostgreSQL)."""

from __future__ import annotations

from convostore.config import DEFAULT_LISTING_CACHE_MB, Settings
from convostore.storage.base import (
    Appended,
    AppendRequest,
    IdempotencyClaim,
    SessionBundle,
    Store,
)
from convostore.storage.engine import make_engine, wait_for_database
from convostore.storage.sql import SqlStore

__all__ = [
    "AppendRequest",
    "Appended",
    "IdempotencyClaim",
    "SessionBundle",
    "SqlStore",
    "Store",
    "make_engine",
    "open_configured",
    "open_store",
    "wait_for_database",
]


def open_store(
    url: str,
    *,
    pool_size: int = 10,
    statement_timeout_ms: int = 30_000,
    sqlite_synchronous: str = "FULL",
    migrate: bool = True,
    connect_retries: int = 0,
    connect_retry_interval_s: float = 1.0,
    listing_cache_mb: int = DEFAULT_LISTING_CACHE_MB,
    loop_reads: bool = True,
) -> SqlStore:
    """Open a store on `url`: wait for the database, then migrate it to the newest schema."""
    engine = make_engine(
        url,
        pool_size=pool_size,
        statement_timeout_ms=statement_timeout_ms,
        sqlite_synchronous=sqlite_synchronous,
    )
    try:
        wait_for_database(engine, retries=connect_retries, interval_s=connect_retry_interval_s)
        store = SqlStore(
            engine, listing_cache_bytes=listing_cache_mb * 1024 * 1024, loop_reads=loop_reads
        )
        if migrate:
            store.migrate()
    except BaseException:
        engine.dispose()
        raise
    return store


def open_configured(settings: Settings, url: str | None = None) -> SqlStore:
    """Open `url` (default: the main database) with the pool, timeout and retry settings."""
    return open_store(
        url or settings.database_url,
        pool_size=settings.pool_size,
        statement_timeout_ms=settings.statement_timeout_ms,
        sqlite_synchronous=settings.sqlite_synchronous,
        migrate=settings.migrate_on_start,
        connect_retries=settings.connect_retries,
        connect_retry_interval_s=settings.connect_retry_interval_s,
        listing_cache_mb=settings.listing_cache_mb,
        loop_reads=settings.loop_reads,
    )
