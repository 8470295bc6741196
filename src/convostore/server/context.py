"""What every request handler needs, built once per app and reached through `request.app.state`."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime

from fastapi import Request

from convostore.auth import KeyService, key_from_header
from convostore.config import Settings
from convostore.ids import utcnow
from convostore.models import Principal
from convostore.service import SessionService
from convostore.storage.base import Store


@dataclass
class AppContext:
    settings: Settings
    store: Store
    service: SessionService
    keys: KeyService
    allow_open: bool
    # extra named databases (Agno's db_id); the main store is under settings.default_database_id
    stores: dict[str, Store] = field(default_factory=dict)
    started_at: datetime = field(default_factory=utcnow)


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def principal_from(request: Request) -> Principal:
    """Authenticate the caller from `Authorization` (Bearer or raw key)."""
    ctx = context(request)
    raw = key_from_header(request.headers.get("authorization"))
    return ctx.keys.authenticate(raw, allow_open=ctx.allow_open)
