"""API keys: how they are made, stored and checked.

A key reads `csk_<id>_<secret>`. The id is public and indexes the key's row; the secret is 32
random bytes, stored only as a SHA-256 digest (it is high-entropy, so a slow hash adds nothing) and
compared in constant time. Keys are shown once, when created.

Key records are cached for `KEY_CACHE_S` seconds per process, so authenticating a request usually
costs no query; a revocation takes effect at once in the process that made it and within that
many seconds in every other.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time

from convostore.errors import InvalidRequest, MissingKey, NotFound, Unauthenticated
from convostore.ids import utcnow
from convostore.models import KEY_ROLES, ApiKey, KeyRole, NewApiKey, Principal
from convostore.storage.base import Store

KEY_PREFIX = "csk_"
DEFAULT_TENANT = "default"
_OPEN_MODE_CACHE_S = 1.0
KEY_CACHE_S = 2.0
_KEY_CACHE_MAX = 10_000
# A digest to compare against when the key id is unknown, so a miss costs as much as a mismatch.
_DUMMY_HASH = hashlib.sha256(b"convostore").hexdigest()


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_key(raw: str) -> tuple[str, str] | None:
    if not raw.startswith(KEY_PREFIX):
        return None
    key_id, sep, secret = raw[len(KEY_PREFIX) :].partition("_")
    if not sep or not key_id or not secret or len(raw) > 200:
        return None
    return key_id, secret


def key_from_header(value: str | None) -> str | None:
    """`Authorization: Bearer <key>` and `Authorization: <key>` both carry a key."""
    if value is None:
        return None
    value = value.strip()
    if value[:7].lower() == "bearer ":
        value = value[7:].strip()
    return value or None


class KeyService:
    """Creates, lists and revokes keys, and turns a presented key into a `Principal`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._keys_exist: tuple[float, bool] | None = None
        self._found: dict[str, tuple[float, tuple[ApiKey, str] | None]] = {}

    def create(
        self,
        tenant_id: str,
        role: str,
        *,
        user_id: str | None = None,
        name: str | None = None,
    ) -> NewApiKey:
        if role not in KEY_ROLES:
            raise InvalidRequest(f"role must be one of {', '.join(KEY_ROLES)}", param="role")
        if not tenant_id or len(tenant_id) > 128 or not tenant_id.isprintable():
            raise InvalidRequest("tenant must be 1 to 128 printable characters", param="tenant")
        # isprintable() also refuses NUL and lone surrogates, which no database can store
        if user_id is not None and (not user_id or len(user_id) > 128 or not user_id.isprintable()):
            raise InvalidRequest("user_id must be 1 to 128 printable characters", param="user_id")
        if name is not None and (len(name) > 200 or not name.isprintable()):
            raise InvalidRequest("name must be at most 200 printable characters", param="name")
        key_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        record = ApiKey(
            id=key_id,
            tenant_id=tenant_id,
            role=_role(role),
            user_id=user_id,
            name=name,
            created_at=utcnow(),
        )
        self.store.create_key(record, hash_secret(secret))
        self.forget_open_mode()
        return NewApiKey(key=f"{KEY_PREFIX}{key_id}_{secret}", record=record)

    def list(self, tenant_id: str) -> list[ApiKey]:
        return self.store.list_keys(tenant_id)

    def revoke(self, tenant_id: str, key_id: str) -> ApiKey:
        record = self.store.revoke_key(tenant_id, key_id)
        if record is None:
            raise NotFound(f"key {key_id!r} not found", param="key_id")
        self.forget_open_mode()
        return record

    def _find(self, key_id: str) -> tuple[ApiKey, str] | None:
        """The key's record and digest, from the short-lived cache or the store."""
        now = time.monotonic()
        cached = self._found.get(key_id)
        if cached is not None and now - cached[0] < KEY_CACHE_S:
            return cached[1]
        found = self.store.find_key(key_id)
        with self._lock:
            if len(self._found) >= _KEY_CACHE_MAX:
                self._found.clear()
            self._found[key_id] = (now, found)
        return found

    def open_mode(self) -> bool:
        """True while no active key exists: then loopback callers act as the default tenant."""
        now = time.monotonic()
        with self._lock:
            cached = self._keys_exist
        if cached is not None and now - cached[0] < _OPEN_MODE_CACHE_S:
            return not cached[1]
        exists = self.store.has_active_keys()
        with self._lock:
            self._keys_exist = (now, exists)
        return not exists

    def forget_open_mode(self) -> None:
        """Drop what is cached about keys, after this process created or revoked one."""
        with self._lock:
            self._keys_exist = None
            self._found.clear()

    def answers_from_cache(self, raw: str | None, *, allow_open: bool) -> bool:
        """Whether `authenticate(raw)` can be answered from what this process remembers, without
        asking the store (so a caller on an event loop may call it there)."""
        now = time.monotonic()
        if raw is None:
            if not allow_open:
                return True
            with self._lock:
                cached = self._keys_exist
            return cached is not None and now - cached[0] < _OPEN_MODE_CACHE_S
        parsed = parse_key(raw)
        if parsed is None:
            return True
        found = self._found.get(parsed[0])
        return found is not None and now - found[0] < KEY_CACHE_S

    def authenticate(self, raw: str | None, *, allow_open: bool) -> Principal:
        """The caller behind `raw`; with no key, the default tenant if open mode allows it."""
        if raw is None:
            if allow_open and self.open_mode():
                return Principal(tenant_id=DEFAULT_TENANT, role="admin")
            raise MissingKey("an API key is required")
        parsed = parse_key(raw)
        found = self._find(parsed[0]) if parsed else None
        digest = hash_secret(parsed[1]) if parsed else _DUMMY_HASH
        expected = found[1] if found else _DUMMY_HASH
        if not hmac.compare_digest(digest, expected) or found is None:
            raise Unauthenticated("the API key is not valid")
        record = found[0]
        if record.revoked_at is not None:
            raise Unauthenticated("the API key is not valid")
        return Principal(
            tenant_id=record.tenant_id, role=record.role, user_id=record.user_id, key_id=record.id
        )


def _role(value: str) -> KeyRole:
    if value == "admin":
        return "admin"
    if value == "write":
        return "write"
    return "read"
