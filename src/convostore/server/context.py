"""What every request handler needs, built once per app and reached through `request.app.state`."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime

from fastapi import Request

from convostore.auth import KeyService
from convostore.config import Settings
from convostore.ids import utcnow
from convostore.models import Principal
from convostore.ratelimit import RateLimiter
from convostore.server.middleware.request_id import current_request
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
    rate_limiter: RateLimiter | None = None

    def admit(self, principal: Principal) -> Principal:
        """Note the authenticated caller for the access log, then charge its rate limit.

        Every surface calls this right after authentication. The budget is the API key's; callers
        without a key (open mode) share one budget per client address.
        """
        info = current_request()
        if info is not None:
            info.tenant_id = principal.tenant_id
            info.key_id = principal.key_id
        if self.rate_limiter is not None:
            client = info.client if info is not None else None
            self.rate_limiter.check(principal.key_id or f"client:{client}")
        return principal


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
