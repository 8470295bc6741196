"""Settings: one pydantic-settings class, read from `CONVOSTORE_*` variables or passed explicitly.

Nothing here runs at import. `Settings()` reads the environment when it is called; tests and the
CLI build their own instances, and `create_app(settings)` receives one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from convostore.models import MAX_BATCH_CEILING

DEFAULT_DATABASE_URL = "sqlite:///./convostore.db"
# The memory a store gets for listing rows already mapped to values (storage.row_memo), per
# database, unless told otherwise (`listing_cache_mb`).
DEFAULT_LISTING_CACHE_MB = 32
# The browser origins AgentOS allows by default (agno's `AgnoAPISettings`): where Agno's Agent UI
# runs locally, and agno.com's control plane. Allowed by default so those UIs work unconfigured.
AGENTOS_ORIGINS = (
    "http://localhost:3000",
    "https://agno.com",
    "https://www.agno.com",
    "https://app.agno.com",
    "https://os-stg.agno.com",
    "https://os.agno.com",
)


@dataclass(frozen=True)
class Limits:
    """Every input limit in one place; the service enforces them and the README documents them."""

    max_body_bytes: int = 10 * 1024 * 1024
    max_content_chars: int = 1_000_000
    max_title_chars: int = 1_000
    max_id_chars: int = 128
    max_json_bytes: int = 1024 * 1024
    max_batch: int = 1_000
    max_page_size: int = 200
    max_message_page_size: int = 1_000
    # what one page (or one chunk of a streamed answer) may hold of stored text and JSON; the
    # page ends after the item that reaches it, so it holds at most this plus one item
    max_page_bytes: int = 4 * 1024 * 1024
    max_query_chars: int = 500
    max_memory_chars: int = 5_000


_DEFAULT_LIMITS = Limits()


class Settings(BaseSettings):
    """How a convostore process runs. Field names map to `CONVOSTORE_<NAME>` variables."""

    model_config = SettingsConfigDict(env_prefix="CONVOSTORE_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    # Further named databases (Agno's `db_id`): name -> URL. The main one is `default_database_id`.
    databases: dict[str, str] = Field(default_factory=dict)
    default_database_id: str = "default"

    host: str = "127.0.0.1"
    port: int = 8080
    insecure: bool = False
    migrate_on_start: bool = True
    demo: bool = False

    sqlite_synchronous: Literal["OFF", "NORMAL", "FULL", "EXTRA"] = "FULL"
    pool_size: int = 10
    # threads that read a network database (PostgreSQL) at once, per database; 0: read on the
    # event loop, for a database on the same machine (server.database)
    read_threads: int = Field(default=2, ge=0, le=64)
    # PostgreSQL reads on the event loop with an asynchronous driver, when they can be
    # (storage.loop_reads); the rest, and all of them when off, go to the read threads
    loop_reads: bool = True
    # requests bound by a plan and GETs served in front of FastAPI's stack (server.fastpath);
    # off: FastAPI serves every request itself, with the same answers
    fast_routes: bool = True
    # FastAPI's OpenTelemetry instrumentation, for an application that configures OpenTelemetry
    # providers; off, FastAPI skips the per-request check whether any are configured
    opentelemetry: bool = False
    # memory for listing rows already mapped to values, per database (storage.row_memo); 0: off
    listing_cache_mb: int = Field(default=DEFAULT_LISTING_CACHE_MB, ge=0, le=65_536)
    statement_timeout_ms: int = 30_000
    connect_retries: int = 10
    connect_retry_interval_s: float = 1.0

    # the configurable limits; their defaults are Limits' own
    max_body_bytes: int = _DEFAULT_LIMITS.max_body_bytes
    max_content_chars: int = _DEFAULT_LIMITS.max_content_chars
    max_title_chars: int = _DEFAULT_LIMITS.max_title_chars
    max_json_bytes: int = _DEFAULT_LIMITS.max_json_bytes
    max_batch: int = Field(default=_DEFAULT_LIMITS.max_batch, ge=1, le=MAX_BATCH_CEILING)
    max_page_size: int = _DEFAULT_LIMITS.max_page_size
    max_page_bytes: int = Field(default=_DEFAULT_LIMITS.max_page_bytes, ge=1)

    log_level: str = "info"

    # Slow clients (SECURITY.md); 0 turns a deadline off. A request's line and headers must
    # arrive within header_timeout_s of connecting (or of the request's first byte on a kept-alive
    # connection; server.read_timeouts, which 0 leaves out); each chunk of a body within
    # body_timeout_s (server.body_limit: 408 in the surface's shape, connection closed).
    header_timeout_s: float = Field(default=10.0, ge=0, le=3600, allow_inf_nan=False)
    body_timeout_s: float = Field(default=30.0, ge=0, le=3600, allow_inf_nan=False)

    # Protections and observability (SECURITY.md). Rate limits are per API key, per process.
    rate_limit_per_minute: int = Field(default=0, ge=0)  # 0: no limit
    rate_limit_burst: int = Field(default=0, ge=0)  # 0: the same as rate_limit_per_minute
    # Origins allowed to call from a browser (`*` for any); empty: no CORS headers at all.
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(AGENTOS_ORIGINS)
    )
    access_log: bool = True
    log_format: Literal["json", "text"] = "json"
    metrics_enabled: bool = True
    # When set, `GET /metrics` needs `Authorization: Bearer <token>`; otherwise it is open.
    metrics_token: SecretStr | None = None

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> Any:
        """A JSON list or comma-separated origins; a trailing `/` would never match, so it goes."""
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else text.split(",")
        if isinstance(value, list | tuple):
            items = [o.strip().rstrip("/") if isinstance(o, str) else o for o in value]
            return [o for o in items if o != ""]
        return value

    def limits(self) -> Limits:
        return Limits(
            max_body_bytes=self.max_body_bytes,
            max_content_chars=self.max_content_chars,
            max_title_chars=self.max_title_chars,
            max_json_bytes=self.max_json_bytes,
            max_batch=self.max_batch,
            max_page_size=self.max_page_size,
            max_page_bytes=self.max_page_bytes,
        )
