"""What every request handler needs, built once per app and reached through `request.app.state`."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from datetime import datetime

from fastapi import Request

from convostore.auth import KeyService
from convostore.config import Settings
from convostore.errors import MissingKey
from convostore.ids import utcnow
from convostore.models import Principal
from convostore.ratelimit import RateLimiter
from convostore.server.database import Database, Workers
from convostore.server.middleware.request_id import current_request
from convostore.service import SessionService
from convostore.storage.base import Store


@dataclass
class AppContext:
    settings: Settings
    # every database by name (Agno's db_id; the main one is settings.default_database_id), each
    # awaited through its `Database`, and the service over each
    databases: dict[str, Database]
    services: dict[str, SessionService]
    keys: KeyService
    workers: Workers
    # the bind lets callers without a key use open mode (loopback, or --insecure) ...
    allow_open: bool
    # ... and with --insecure, whatever name the request is addressed to (its Host header)
    open_any_host: bool = False
    started_at: datetime = field(default_factory=utcnow)
    rate_limiter: RateLimiter | None = None

    # the main database and its service, looked up once (every request uses them)
    db: Database = field(init=False)
    service: SessionService = field(init=False)

    def __post_init__(self) -> None:
        self.db = self.databases[self.settings.default_database_id]
        self.service = self.services[self.settings.default_database_id]

    @property
    def store(self) -> Store:
        return self.db.store

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

    def vet_open_caller(self, principal: Principal, host: str | None) -> Principal:
        """`principal`, unless it is open mode's caller (no key: `KeyService.authenticate` found
        the bind allowing it and the database never holding a key) on a request addressed to a
        name other than this machine's (`host`, the Host header): then `MissingKey`.

        A web page on a domain that resolves to 127.0.0.1 (DNS rebinding) is same-origin to the
        browser, but its requests name that domain in their Host header. `--insecure` lets any
        name through, as it lets any bind.
        """
        if principal.key_id is None and not self.open_any_host and not addressed_to_loopback(host):
            raise MissingKey(
                "an API key is required: without keys, the server answers only requests"
                " addressed to localhost, 127.0.0.1 or [::1]"
            )
        return principal


def binds_only_loopback(host: str) -> bool:
    """Whether listening on `host` takes connections from this machine only: a loopback
    address, or a name whose every address is loopback (resolved, as the server will). An empty
    host, `0.0.0.0` and `::` listen on every interface."""
    literal = host.strip("[]")
    if not literal:
        return False
    try:
        return ipaddress.ip_address(literal).is_loopback
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(literal, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return False
    return bool(found) and all(_loopback_address(str(info[4][0])) for info in found)


def _loopback_address(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.partition("%")[0]).is_loopback
    except ValueError:
        return False


def addressed_to_loopback(host: str | None) -> bool:
    """Whether a Host header names this machine: `localhost`, an address in 127.0.0.0/8 or
    `[::1]`, with or without a port. Names are never resolved: a name that resolves to
    127.0.0.1 is exactly what DNS rebinding uses."""
    if not host:
        return False
    name = host.strip().lower()
    if name.startswith("["):
        literal, bracket, port = name[1:].partition("]")
        if not bracket or not _port_suffix(port):
            return False
        try:
            return ipaddress.IPv6Address(literal).is_loopback
        except ValueError:
            return False
    name, colon, port = name.partition(":")
    if colon and not _port_suffix(colon + port):
        return False
    if name == "localhost":
        return True
    try:
        return ipaddress.IPv4Address(name).is_loopback
    except ValueError:
        return False


def _port_suffix(text: str) -> bool:
    """Nothing, or `:` and a port's digits (possibly none, as RFC 9110 allows)."""
    digits = text[1:]
    return text[:1] in ("", ":") and (not digits or (digits.isascii() and digits.isdigit()))


def context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx
