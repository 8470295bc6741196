"""Moving history over from memories.ai: saved API responses in, stored sessions out.

Accepted documents (each is one JSON value; a file may also hold JSON Lines, one per line):

* a `get_session_detail` response, `{"code": "0000", "data": {...}, ...}`;
* its bare `data` object, `{"title", "messages", "session_id"}`;
* a list of those;
* a bundle `{"list": <list_sessions response(s)>, "details": [<responses or data objects>]}`: the
  list supplies titles to details that lack one; listed sessions with no detail are reported
  (`missing_details`) and not imported, so a later import with their details is not blocked.

memories.ai messages carry no ids or timestamps, so they are made deterministic: the session's
`created_at` is read from its id (memories.ai ids are time-ordered 64-bit numbers laid out like
convostore's; anything else gets convostore's id epoch), message `seq` runs 1..N with
`created_at` one millisecond apart, and message ids are `<session id>-<seq>`. Importing the same
documents again therefore writes nothing new (`skip`) or exactly the same rows (`replace`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from convostore.compat.memories_ai.mapping import FOREIGN, from_session_detail
from convostore.config import Limits
from convostore.errors import InvalidRequest
from convostore.ids import EPOCH_MS, from_micros
from convostore.models import JSONObject, Message, NewMessage, Principal, Session
from convostore.rules import derive_title
from convostore.service import SessionService
from convostore.storage.base import SessionBundle
from convostore.validation import check_id, check_json, check_messages

OnConflict = Literal["skip", "replace"]
_TIMESTAMP_SHIFT = 22  # bits below the millisecond count in a time-ordered 64-bit id


@dataclass
class Documents:
    """What a set of documents holds: detail data objects, and titles from any session lists."""

    details: list[dict[str, Any]] = field(default_factory=list)
    listed: dict[str, str] = field(default_factory=dict)


@dataclass
class ImportResult:
    """Counts of one import: `sessions` read = `imported` + `skipped` (present or repeated)."""

    sessions: int = 0
    imported: int = 0
    skipped: int = 0
    messages: int = 0
    missing_details: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "sessions": self.sessions,
            "imported": self.imported,
            "skipped": self.skipped,
            "messages": self.messages,
            "missing_details": self.missing_details,
        }


# --- reading documents ------------------------------------------------------------------------


def _unwrap(value: Any, where: str) -> Any:
    """The `data` of a response envelope (refusing saved error responses), or the value itself."""
    if isinstance(value, dict) and "code" in value and "data" in value:
        if value.get("code") != "0000":
            raise InvalidRequest(
                f"{where} is an error response (code {value.get('code')!r}: {value.get('msg')!r})"
            )
        return value["data"]
    return value


def read_documents(values: list[Any], documents: Documents | None = None) -> Documents:
    """Sort documents into detail objects and listed titles; see the module doc for the forms."""
    found = documents if documents is not None else Documents()
    for index, value in enumerate(values):
        where = f"document {index + 1}"
        if isinstance(value, list):
            read_documents(value, found)
        elif isinstance(value, dict) and ("details" in value or "list" in value):
            _read_list(value.get("list"), found, where)
            details = value.get("details", [])
            if not isinstance(details, list):
                raise InvalidRequest(f"{where}: details must be a list", param="details")
            read_documents(details, found)
        else:
            data = _unwrap(value, where)
            if not isinstance(data, dict) or "session_id" not in data:
                raise InvalidRequest(
                    f"{where} is not a get_session_detail response or data object (no session_id)"
                )
            found.details.append(data)
    return found


def _read_list(value: Any, found: Documents, where: str) -> None:
    if value is None:
        return
    if isinstance(value, list):
        for page in value:
            _read_list(page, found, where)
        return
    data = _unwrap(value, f"{where}: list")
    sessions = data.get("sessions") if isinstance(data, dict) else None
    if not isinstance(sessions, list):
        raise InvalidRequest(f"{where}: list must be a list_sessions response", param="list")
    for item in sessions:
        if isinstance(item, dict) and item.get("sessionId") is not None:
            title = item.get("title")
            found.listed[str(item["sessionId"])] = title if isinstance(title, str) else ""


# --- building sessions ------------------------------------------------------------------------


def created_at_of(session_id: str) -> datetime:
    """When a memories.ai session began, as far as its id tells; a fixed instant otherwise."""
    millis = 0
    if session_id.isascii() and session_id.isdigit() and len(session_id) <= 19:
        number = int(session_id)
        if number < 1 << 63:
            millis = number >> _TIMESTAMP_SHIFT
    return from_micros((EPOCH_MS + millis) * 1000)


def _message_id(session_id: str, seq: int, limits: Limits) -> str:
    candidate = f"{session_id}-{seq}"
    if len(candidate) <= limits.max_id_chars:
        return candidate
    return f"{hashlib.sha256(session_id.encode()).hexdigest()[:32]}-{seq}"


def _stored(session_id: str, seq: int, new: NewMessage, at: datetime, limits: Limits) -> Message:
    return Message(
        session_id=session_id,
        seq=seq,
        id=_message_id(session_id, seq, limits),
        role=new.role,
        content=new.content,
        thinkings=new.thinkings,
        refs=new.refs,
        extra=new.extra,
        created_at=at,
    )


def bundle_of(
    data: dict[str, Any], *, unique_id: str, limits: Limits, listed_title: str | None = None
) -> SessionBundle:
    """One `get_session_detail` data object as a complete session of `unique_id`."""
    foreign = from_session_detail(data)
    check_id(foreign.id, limits, "session_id")
    check_messages(foreign.messages, limits, f"session {foreign.id}: messages")
    title = foreign.title if foreign.title is not None else listed_title
    if title is None:
        title = derive_title(foreign.messages, limits.max_title_chars)
    title = title[: limits.max_title_chars]
    extra: JSONObject | None = {FOREIGN: foreign.extra} if foreign.extra else None
    check_json(extra, limits, "data")
    created = created_at_of(foreign.id)
    messages = [
        _stored(foreign.id, seq, new, created + timedelta(milliseconds=seq - 1), limits)
        for seq, new in enumerate(foreign.messages, start=1)
    ]
    last = messages[-1].created_at if messages else None
    session = Session(
        id=foreign.id,
        user_id=unique_id,
        type="agent",
        title=title,
        extra=extra,
        message_count=len(messages),
        created_at=created,
        updated_at=last or created,
        last_message_at=last,
    )
    return SessionBundle(session=session, messages=messages)


def build_bundles(
    documents: Documents, *, unique_id: str, limits: Limits
) -> tuple[list[SessionBundle], int]:
    """Bundles for each distinct session (the first detail of an id wins), and duplicates seen."""
    bundles: dict[str, SessionBundle] = {}
    duplicates = 0
    for data in documents.details:
        bundle = bundle_of(
            data,
            unique_id=unique_id,
            limits=limits,
            listed_title=documents.listed.get(str(data.get("session_id"))),
        )
        if bundle.session.id in bundles:
            duplicates += 1
            continue
        bundles[bundle.session.id] = bundle
    return list(bundles.values()), duplicates


# --- storing ----------------------------------------------------------------------------------


def import_documents(
    service: SessionService,
    principal: Principal,
    unique_id: str,
    values: list[Any],
    *,
    on_conflict: OnConflict = "skip",
) -> ImportResult:
    """Store the sessions in `values` under `unique_id`, through the service (which checks the
    caller may, and that no id is another user's); nothing is written if any is invalid."""
    limits = service.limits
    check_id(unique_id, limits, "unique_id")
    documents = read_documents(values)
    bundles, duplicates = build_bundles(documents, unique_id=unique_id, limits=limits)
    written = service.import_sessions(principal, unique_id, bundles, on_conflict=on_conflict)
    detailed = {b.session.id for b in bundles}
    return ImportResult(
        sessions=len(documents.details),
        imported=len(written),
        skipped=len(bundles) - len(written) + duplicates,
        messages=sum(len(b.messages) for b in written),
        missing_details=[sid for sid in documents.listed if sid not in detailed],
    )
