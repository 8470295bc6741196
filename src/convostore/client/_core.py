"""The I/O-free core that `Client` and `AsyncClient` share.

Every SDK operation is described here as a `Call`: the request to make (method, path, query
parameters, JSON body, extra headers) and how to read the answer into a typed value. The clients
only send calls (and sleep between retries), so everything about the convostore API lives in
this module. Nothing here touches the network; the environment is read once, by `Config.resolve`
when a client is built.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError
from pydantic_core import to_jsonable_python

from convostore.client import exceptions as exc
from convostore.client.types import (
    ApiKey,
    AppendedMessages,
    Deleted,
    EvidenceHit,
    Health,
    ImportResult,
    Memory,
    Message,
    Page,
    Run,
    SearchResult,
    Session,
    SessionItem,
    UserErasure,
)

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

DEFAULT_BASE_URL = "http://127.0.0.1:8080"
API_KEY_ENV = "CONVOSTORE_API_KEY"
BASE_URL_ENV = "CONVOSTORE_BASE_URL"
DEFAULT_TIMEOUT = 30.0
USER_AGENT = "convostore-python"
IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_RETRY_DELAY = 8.0

Params = list[tuple[str, str | int | float | bool | None]]
Parser = Callable[[httpx.Response], T]

STATUS_ERRORS: dict[int, type[exc.ConvostoreAPIError]] = {
    400: exc.BadRequestError,
    401: exc.AuthenticationError,
    403: exc.PermissionDeniedError,
    404: exc.NotFoundError,
    409: exc.ConflictError,
    413: exc.PayloadTooLargeError,
    422: exc.UnprocessableEntityError,
    429: exc.RateLimitError,
    503: exc.ServiceUnavailableError,
}


# --- configuration ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    """What both clients resolve once at construction: where to send and how to authenticate."""

    base_url: str
    headers: dict[str, str]
    max_retries: int = 0

    @classmethod
    def resolve(
        cls,
        base_url: str | httpx.URL | None,
        api_key: str | None,
        headers: Mapping[str, str] | None,
        max_retries: int,
        http_client_base: str = "",
    ) -> Config:
        """Arguments win over `CONVOSTORE_API_KEY` / `CONVOSTORE_BASE_URL`, which win over
        a given http client's own base URL, which wins over the loopback default."""
        if max_retries < 0:
            raise ValueError("max_retries must not be negative")
        if base_url is None:
            base_url = os.environ.get(BASE_URL_ENV) or http_client_base or DEFAULT_BASE_URL
        if api_key is None:
            api_key = os.environ.get(API_KEY_ENV) or None
        merged = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if api_key:
            merged["Authorization"] = f"Bearer {api_key}"
        merged.update(headers or {})
        return cls(str(base_url).rstrip("/"), merged, max_retries)

    def url(self, path: str) -> str:
        return self.base_url + path


# --- calls ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request and the way to read its answer."""

    method: str
    path: str
    parse: Parser[T]
    params: Params = field(default_factory=list)
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    ok_statuses: tuple[int, ...] = ()  # error statuses whose body is still the answer

    @property
    def retryable(self) -> bool:
        """Safe to resend after a lost answer: reads, and writes carrying an idempotency key."""
        return self.method == "GET" or IDEMPOTENCY_HEADER in self.headers


def retry_delay(attempt: int) -> float:
    """Seconds to wait before retry number `attempt + 1`: 0.5, 1, 2, 4, 8, 8, ..."""
    return float(min(0.5 * 2**attempt, MAX_RETRY_DELAY))


def result(call: Call[T], response: httpx.Response) -> T:
    """The typed answer of a finished call, or the typed error the server answered with."""
    if not (response.is_success or response.status_code in call.ok_statuses):
        raise api_error(response)
    try:
        return call.parse(response)
    except (ValueError, ValidationError) as error:  # JSONDecodeError is a ValueError
        raise exc.UnexpectedResponseError(
            f"unreadable {response.status_code} answer to {call.method} {call.path}: {error}",
            response=response,
        ) from error


def connection_error(error: httpx.RequestError) -> exc.ConvostoreConnectionError:
    request = error.request
    where = f"{request.method} {request.url}"
    if isinstance(error, httpx.TimeoutException):
        return exc.ConvostoreTimeoutError(f"timed out: {where}")
    return exc.ConvostoreConnectionError(f"{type(error).__name__} on {where}: {error}")


def api_error(response: httpx.Response) -> exc.ConvostoreAPIError:
    status = response.status_code
    cls = STATUS_ERRORS.get(status)
    if cls is None:
        cls = exc.InternalServerError if status >= 500 else exc.ConvostoreAPIError
    kind, message, param = _error_body(response)
    if cls is exc.RateLimitError:
        return exc.RateLimitError(
            message,
            status_code=status,
            type=kind,
            param=param,
            response=response,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )
    return cls(message, status_code=status, type=kind, param=param, response=response)


def _error_body(response: httpx.Response) -> tuple[str, str, str | None]:
    """`{"error": {"type", "message", "param"}}`, or the best reading of a foreign body."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        error = None
    if isinstance(error, Mapping) and isinstance(error.get("message"), str):
        param = error.get("param")
        return str(error.get("type", "error")), error["message"], param if param else None
    text = response.text.strip()[:500] or response.reason_phrase
    return "http_error", text, None


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """`Retry-After` as seconds, from either its delay or its HTTP-date form."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


# --- encoding ---------------------------------------------------------------------------------


def segment(value: str) -> str:
    """An id as one URL path segment."""
    return quote(value, safe="")


def query(**values: Any) -> Params:
    """Query parameters: `None` is left out, booleans are `true`/`false`, datetimes RFC 3339
    (naive ones taken as UTC), and sequences repeat the parameter."""
    params: Params = []
    for name, value in values.items():
        items = value if isinstance(value, Sequence) and not isinstance(value, str) else [value]
        for item in items:
            if item is not None:
                params.append((name, _query_value(item)))
    return params


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return str(value)


def body(value: Any) -> Any:
    """JSON-ready form of a body: models keep only the fields that were set."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_unset=True)
    if isinstance(value, Mapping):
        return {key: body(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [body(item) for item in value]
    return to_jsonable_python(value)


def _model(model: type[M]) -> Parser[M]:
    def parse(response: httpx.Response) -> M:
        return model.model_validate_json(response.content)

    return parse


def _data(page: type[Page[M]]) -> Parser[list[M]]:
    """The items of a list answer that has no cursor (keys, runs)."""

    def parse(response: httpx.Response) -> list[M]:
        return page.model_validate_json(response.content).data

    return parse


class _AppendedPage(Page[Message]):
    session_id: str


def _appended(response: httpx.Response) -> AppendedMessages:
    page = _AppendedPage.model_validate_json(response.content)
    replayed = response.headers.get(REPLAYED_HEADER, "").lower() == "true"
    return AppendedMessages(session_id=page.session_id, messages=page.data, replayed=replayed)


# --- the native API, one builder per endpoint -------------------------------------------------


def health() -> Call[Health]:
    return Call("GET", "/v1/health", _model(Health), ok_statuses=(503,))


def create_session(fields: Mapping[str, Any]) -> Call[Session]:
    return Call("POST", "/v1/sessions", _model(Session), json=body(fields))


def get_session(session_id: str, include_messages: int) -> Call[Session]:
    params = query(include_messages=include_messages or None)
    return Call("GET", f"/v1/sessions/{segment(session_id)}", _model(Session), params=params)


def update_session(session_id: str, changes: Mapping[str, Any]) -> Call[Session]:
    path = f"/v1/sessions/{segment(session_id)}"
    return Call("PATCH", path, _model(Session), json=body(changes))


def delete_session(session_id: str) -> Call[Deleted]:
    return Call("DELETE", f"/v1/sessions/{segment(session_id)}", _model(Deleted))


def list_sessions(filters: Mapping[str, Any]) -> Call[Page[SessionItem]]:
    return Call("GET", "/v1/sessions", _model(Page[SessionItem]), params=query(**filters))


def append_messages(
    session_id: str,
    messages: Sequence[Any],
    *,
    idempotency_key: str | None,
    create_if_missing: bool | None,
    session: Any,
) -> Call[AppendedMessages]:
    if isinstance(messages, str | bytes | Mapping | BaseModel):
        raise TypeError("messages must be a list of messages (dicts or NewMessage)")
    payload: dict[str, Any] = {"messages": body(list(messages))}
    payload.update(_creation(create_if_missing, session))
    path = f"/v1/sessions/{segment(session_id)}/messages"
    return Call("POST", path, _appended, json=payload, headers=_idempotency(idempotency_key))


def list_messages(session_id: str, filters: Mapping[str, Any]) -> Call[Page[Message]]:
    path = f"/v1/sessions/{segment(session_id)}/messages"
    return Call("GET", path, _model(Page[Message]), params=query(**filters))


def next_message_filters(filters: Mapping[str, Any], page: Page[Message]) -> dict[str, Any] | None:
    """The filters of the page after `page`, or None when it was the last."""
    if not page.has_more or not page.data:
        return None
    bound = "before" if filters.get("order") == "desc" else "after"
    return {**filters, bound: page.data[-1].seq}


def record_run(
    session_id: str,
    run: Any,
    *,
    idempotency_key: str | None,
    create_if_missing: bool | None,
    session: Any,
) -> Call[Run]:
    payload = body(run)
    if not isinstance(payload, dict):
        raise TypeError("run must be a dict or NewRun")
    payload.update(_creation(create_if_missing, session))
    path = f"/v1/sessions/{segment(session_id)}/runs"
    return Call("POST", path, _model(Run), json=payload, headers=_idempotency(idempotency_key))


def list_runs(
    session_id: str,
    created_after: datetime | None,
    created_before: datetime | None,
    status: str | Sequence[str] | None,
) -> Call[list[Run]]:
    params = query(created_after=created_after, created_before=created_before, status=status)
    path = f"/v1/sessions/{segment(session_id)}/runs"
    return Call("GET", path, _data(Page[Run]), params=params)


def get_run(session_id: str, run_id: str) -> Call[Run]:
    path = f"/v1/sessions/{segment(session_id)}/runs/{segment(run_id)}"
    return Call("GET", path, _model(Run))


def delete_user(user_id: str) -> Call[UserErasure]:
    return Call("DELETE", f"/v1/users/{segment(user_id)}", _model(UserErasure))


def create_memory(memory: str, fields: Mapping[str, Any]) -> Call[Memory]:
    return Call("POST", "/v1/memories", _model(Memory), json=body({**fields, "memory": memory}))


def get_memory(memory_id: str) -> Call[Memory]:
    return Call("GET", f"/v1/memories/{segment(memory_id)}", _model(Memory))


def replace_memory(memory_id: str, memory: str, fields: Mapping[str, Any]) -> Call[Memory]:
    payload = body({**fields, "memory": memory})
    return Call("PUT", f"/v1/memories/{segment(memory_id)}", _model(Memory), json=payload)


def delete_memory(memory_id: str) -> Call[Deleted]:
    return Call("DELETE", f"/v1/memories/{segment(memory_id)}", _model(Deleted))


def list_memories(filters: Mapping[str, Any]) -> Call[Page[Memory]]:
    return Call("GET", "/v1/memories", _model(Page[Memory]), params=query(**filters))


def find_evidence(source_id: str, filters: Mapping[str, Any]) -> Call[Page[EvidenceHit]]:
    params = query(source_id=source_id, **filters)
    return Call("GET", "/v1/evidence", _model(Page[EvidenceHit]), params=params)


def search(q: str, filters: Mapping[str, Any]) -> Call[Page[SearchResult]]:
    """`kind` goes as one comma-separated value (an empty sequence: every kind)."""
    kind = filters.get("kind")
    if kind is not None and not isinstance(kind, str):
        filters = {**filters, "kind": ",".join(kind) or None}
    return Call("GET", "/v1/search", _model(Page[SearchResult]), params=query(q=q, **filters))


def create_key(
    role: str, user_id: str | None, name: str | None, tenant: str | None
) -> Call[ApiKey]:
    payload = {"role": role, "user_id": user_id, "name": name, "tenant": tenant}
    json = {key: value for key, value in payload.items() if value is not None}
    return Call("POST", "/v1/keys", _model(ApiKey), json=json)


def list_keys() -> Call[list[ApiKey]]:
    return Call("GET", "/v1/keys", _data(Page[ApiKey]))


def revoke_key(key_id: str) -> Call[ApiKey]:
    return Call("DELETE", f"/v1/keys/{segment(key_id)}", _model(ApiKey))


def import_memories_ai(
    sessions: Sequence[Any], unique_id: str | None, on_conflict: str
) -> Call[ImportResult]:
    if isinstance(sessions, str | bytes | Mapping):
        raise TypeError("sessions must be a list of saved memories.ai documents")
    payload = {"sessions": body(list(sessions)), "on_conflict": on_conflict}
    if unique_id is not None:
        payload["unique_id"] = unique_id
    return Call("POST", "/v1/import/memories-ai", _model(ImportResult), json=payload)


def next_cursor_filters(filters: Mapping[str, Any], page: Page[Any]) -> dict[str, Any] | None:
    """The filters of the page after `page` in a cursor-paged list, or None when it was last."""
    if not page.has_more or not page.next_cursor:
        return None
    return {**filters, "after": page.next_cursor}


def _creation(create_if_missing: bool | None, session: Any) -> dict[str, Any]:
    """`session=` values imply `create_if_missing` unless it is explicitly false."""
    create = create_if_missing if create_if_missing is not None else session is not None
    out: dict[str, Any] = {}
    if create:
        out["create_if_missing"] = True
        if session is not None:
            out["session"] = body(session)
    return out


def _idempotency(key: str | None) -> dict[str, str]:
    return {IDEMPOTENCY_HEADER: key} if key is not None else {}
