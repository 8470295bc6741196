"""Pure mapping between convostore's domain values and memories.ai's session JSON.

`to_*` functions turn stored values into what memories.ai clients read; `from_*` functions turn
saved memories.ai JSON into domain values (for import). No HTTP, no SQL.

The pair is lossless: `to_*(from_*(json)) == json` for any object shaped like memories.ai's, and
`from_*(to_*(value)) == value` for evidence. One rule makes that work at every level (video,
refItem, ref, thinking, message, session): a known key whose value the typed field reproduces
exactly is read into that field; anything else (unknown keys, `null`s, a `duration` that is not
the canonical rendering of its number, a `startTime` of 23.0 rather than 23) is kept verbatim in
an `extra` dict and written back over the typed rendering on the way out. A key that the output
always carries but the input lacked is listed under `ABSENT`, so it stays absent.

Where the extras live:

* evidence (`EvidenceSource.extra`, `EvidenceItem.extra`): directly, since those dicts exist to
  carry a source's own fields; keys of the ref object itself go under `REF_EXTRA` in the source;
* thinkings, messages and sessions: under `extra[FOREIGN]`, so fields that other surfaces put in
  `extra` never leak into memories.ai answers. Refs nested in a thinking step are kept, in the
  native evidence shape, at `Thinking.extra["refs"]` and written back inside that step.

`EvidenceSource.kind` is written as a `kind` key of `video` when it is not "video" (memories.ai
only knows videos; clients ignore the extra key). Only user and assistant messages are shown, and
never copies of earlier messages replayed as history (`from_history`): memories.ai conversations
have no other roles, and agents' system prompts and tool traffic are not conversation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import ValidationError

from convostore.errors import InvalidRequest
from convostore.models import (
    EvidenceItem,
    EvidenceRef,
    EvidenceSource,
    JSONObject,
    Message,
    NewMessage,
    Role,
    Session,
    Thinking,
)

PAGE_SIZE = 20
FOREIGN = "memories_ai"
ABSENT = "memories_ai_absent"
REF_EXTRA = "memories_ai_ref"
SHOWN_ROLES = ("user", "assistant")
MAX_SOURCE_ID_CHARS = 128
MAX_SOURCE_KIND_CHARS = 32

_ROLES: dict[str, Role] = {
    "user": "user",
    "assistant": "assistant",
    "system": "system",
    "tool": "tool",
}
T = TypeVar("T")


# --- numbers ----------------------------------------------------------------------------------


def render_number(value: float) -> int | float:
    """memories.ai times are integers; a float with no fraction is written as one."""
    return int(value) if value.is_integer() else value


def render_duration(value: float) -> str:
    """memories.ai durations are strings of seconds: 10.0 -> "10", 10.5 -> "10.5"."""
    return str(render_number(value))


def parse_number(value: Any) -> float | None:
    """A finite number from a JSON number or numeric string; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    elif isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _same(rendered: Any, raw: Any) -> bool:
    return type(rendered) is type(raw) and rendered == raw


# --- the lossless reader ----------------------------------------------------------------------


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise InvalidRequest(f"{where} must be a JSON object", param=where)
    return value


@dataclass
class _Reader:
    """Reads the known keys of one foreign object and collects what the typed fields lose."""

    obj: Mapping[str, Any]
    known: tuple[str, ...]
    extra: JSONObject = field(default_factory=dict)
    absent: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.extra = {k: v for k, v in self.obj.items() if k not in self.known}

    def _missing(self, key: str, always_written: bool) -> bool:
        if key in self.obj:
            return False
        if always_written:
            self.absent.append(key)
        return True

    def text(self, key: str, *, always_written: bool = False) -> str | None:
        if self._missing(key, always_written):
            return None
        value = self.obj[key]
        if isinstance(value, str):
            return value
        self.extra[key] = value
        return None

    def number(
        self,
        key: str,
        *,
        render: Callable[[float], Any] = render_number,
        always_written: bool = False,
    ) -> float | None:
        if self._missing(key, always_written):
            return None
        raw = self.obj[key]
        number = parse_number(raw)
        if number is None or not _same(render(number), raw):
            self.extra[key] = raw
        return number

    def objects(self, key: str, parse: Callable[[Any], T]) -> list[T]:
        """A list that the output omits when empty: `[]` and non-lists are kept verbatim."""
        if key not in self.obj:
            return []
        value = self.obj[key]
        if isinstance(value, list) and value:
            return [parse(item) for item in value]
        self.extra[key] = value
        return []

    def leftovers(self) -> JSONObject:
        out = dict(self.extra)
        if self.absent:
            out[ABSENT] = list(self.absent)
        return out


def _overlay(out: dict[str, Any], extra: Any) -> dict[str, Any]:
    """Write kept values over the typed rendering and drop keys the original did not have."""
    if not isinstance(extra, Mapping) or not extra:
        return out
    for key, value in extra.items():
        if key != ABSENT:
            out[key] = value
    absent = extra.get(ABSENT)
    if isinstance(absent, list):
        for key in absent:
            if isinstance(key, str):
                out.pop(key, None)
    return out


def _identifier(value: str | None, reader: _Reader, key: str) -> str:
    """An id field: a string, or the string of a JSON number (the raw value stays in extra)."""
    if value is not None:
        return value
    raw = reader.obj.get(key)
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return str(raw)
    return ""


# --- evidence ---------------------------------------------------------------------------------

_VIDEO_KEYS = ("video_no", "video_name", "duration")
_ITEM_KEYS = ("videoNo", "startTime", "endTime", "type", "text")
_REF_KEYS = ("video", "refItems")


def to_video(source: EvidenceSource) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if source.duration is not None:
        out["duration"] = render_duration(source.duration)
    out["video_no"] = source.id
    if source.name is not None:
        out["video_name"] = source.name
    if source.kind != "video":
        out["kind"] = source.kind
    kept = {k: v for k, v in source.extra.items() if k != REF_EXTRA}
    return _overlay(out, kept)


def from_video(video: Any) -> EvidenceSource:
    reader = _Reader(_object(video, "refs[].video"), _VIDEO_KEYS)
    source_id = _identifier(reader.text("video_no", always_written=True), reader, "video_no")
    if len(source_id) > MAX_SOURCE_ID_CHARS:
        raise InvalidRequest(
            f"video_no must be at most {MAX_SOURCE_ID_CHARS} characters", param="video_no"
        )
    name = reader.text("video_name")
    duration = reader.number("duration", render=render_duration)
    kind = "video"
    declared = reader.extra.get("kind")
    if isinstance(declared, str) and 0 < len(declared) <= MAX_SOURCE_KIND_CHARS:
        kind = reader.extra.pop("kind") if declared != "video" else kind
    return EvidenceSource(
        kind=kind, id=source_id, name=name, duration=duration, extra=reader.leftovers()
    )


def to_ref_item(item: EvidenceItem, source_id: str) -> dict[str, Any]:
    out: dict[str, Any] = {"videoNo": source_id, "startTime": render_number(item.start)}
    if item.end is not None:
        out["endTime"] = render_number(item.end)
    out["type"] = item.kind
    if item.text is not None:
        out["text"] = item.text
    return _overlay(out, item.extra)


def from_ref_item(value: Any, source_id: str) -> EvidenceItem:
    obj = _object(value, "refItems[]")
    reader = _Reader(obj, _ITEM_KEYS)
    if "videoNo" not in obj:
        reader.absent.append("videoNo")
    elif not _same(source_id, obj["videoNo"]):
        reader.extra["videoNo"] = obj["videoNo"]
    start = reader.number("startTime", always_written=True)
    end = reader.number("endTime")
    kind = reader.text("type", always_written=True)
    text = reader.text("text")
    return EvidenceItem(
        kind=kind or "",
        start=start if start is not None else 0.0,
        end=end,
        text=text,
        extra=reader.leftovers(),
    )


def to_ref(ref: EvidenceRef) -> dict[str, Any]:
    out: dict[str, Any] = {
        "video": to_video(ref.source),
        "refItems": [to_ref_item(item, ref.source.id) for item in ref.items],
    }
    return _overlay(out, ref.source.extra.get(REF_EXTRA))


def from_ref(value: Any) -> EvidenceRef:
    obj = _object(value, "refs[]")
    reader = _Reader(obj, _REF_KEYS)
    if isinstance(obj.get("video"), dict):
        source = from_video(obj["video"])
    else:
        if "video" in obj:
            reader.extra["video"] = obj["video"]
        else:
            reader.absent.append("video")
        source = EvidenceSource(id="")
    items: list[EvidenceItem] = []
    if isinstance(obj.get("refItems"), list):
        items = [from_ref_item(item, source.id) for item in obj["refItems"]]
    elif "refItems" in obj:
        reader.extra["refItems"] = obj["refItems"]
    else:
        reader.absent.append("refItems")
    ref_extra = reader.leftovers()
    if ref_extra:
        source = source.model_copy(update={"extra": {**source.extra, REF_EXTRA: ref_extra}})
    return EvidenceRef(source=source, items=items)


# --- thinkings and messages -------------------------------------------------------------------


def _stored_ref(value: Any) -> Any:
    """A ref kept in a thinking step, in memories.ai shape; unreadable values are shown as kept."""
    try:
        return to_ref(EvidenceRef.model_validate(value))
    except ValidationError:
        return value


def to_thinking(thinking: Thinking) -> dict[str, Any]:
    out: dict[str, Any] = {"title": thinking.title, "content": thinking.content}
    refs = thinking.extra.get("refs")
    if isinstance(refs, list):
        out["refs"] = [_stored_ref(ref) for ref in refs]
    return _overlay(out, thinking.extra.get(FOREIGN))


def from_thinking(value: Any) -> Thinking:
    obj = _object(value, "thinkings[]")
    reader = _Reader(obj, ("title", "content", "refs"))
    title = reader.text("title", always_written=True)
    content = reader.text("content", always_written=True)
    extra: JSONObject = {}
    if isinstance(obj.get("refs"), list):
        extra["refs"] = [from_ref(ref).model_dump(mode="json") for ref in obj["refs"]]
    elif "refs" in obj:
        reader.extra["refs"] = obj["refs"]
    foreign = reader.leftovers()
    if foreign:
        extra[FOREIGN] = foreign
    return Thinking(title=title or "", content=content or "", extra=extra)


def to_message(message: Message) -> dict[str, Any] | None:
    """A message as memories.ai shows it, or None for one it does not show (see module doc)."""
    if message.role not in SHOWN_ROLES or message.from_history:
        return None
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.thinkings:
        out["thinkings"] = [to_thinking(t) for t in message.thinkings]
    if message.refs:
        out["refs"] = [to_ref(r) for r in message.refs]
    return _overlay(out, message.extra.get(FOREIGN))


def from_message(value: Any) -> NewMessage:
    obj = _object(value, "messages[]")
    reader = _Reader(obj, ("role", "content", "thinkings", "refs"))
    raw_role = obj.get("role")
    role = _ROLES.get(raw_role.lower()) if isinstance(raw_role, str) else None
    if role is None:
        raise InvalidRequest(
            f"messages[].role must be one of {', '.join(_ROLES)}; got {raw_role!r}",
            param="role",
        )
    if role != raw_role:
        reader.extra["role"] = raw_role
    content = reader.text("content", always_written=True)
    thinkings = reader.objects("thinkings", from_thinking)
    refs = reader.objects("refs", from_ref)
    foreign = reader.leftovers()
    return NewMessage(
        role=role,
        content=content or "",
        thinkings=thinkings,
        refs=refs,
        extra={FOREIGN: foreign} if foreign else {},
    )


# --- sessions ---------------------------------------------------------------------------------


def to_session_item(session: Session) -> dict[str, Any]:
    return {"sessionId": session.id, "title": session.title}


def to_session_list(sessions: Iterable[Session], *, page: int, total: int) -> dict[str, Any]:
    """`list_sessions` data: `total_count` is a string, as memories.ai sends it."""
    return {
        "sessions": [to_session_item(s) for s in sessions],
        "current_page": page,
        "page_size": PAGE_SIZE,
        "total_count": str(total),
    }


_SESSION_KEYS = ("title", "messages", "session_id")


def to_session_detail(session: Session, messages: Iterable[Message]) -> dict[str, Any]:
    """`get_session_detail` data: the shown messages in order, and the id as a string."""
    return session_detail(session, shown_messages(messages))


def shown_messages(messages: Iterable[Message]) -> list[dict[str, Any]]:
    """The messages memories.ai shows, in its shape (see `to_message`)."""
    return [m for m in map(to_message, messages) if m is not None]


def session_detail(session: Session, shown: Any) -> dict[str, Any]:
    """`get_session_detail` data around `shown`, the messages already mapped (or a placeholder
    for them, when they are streamed).

    Unknown keys an imported object carried are added back; the three known keys always come
    from the stored session, so a later rename or append shows.
    """
    out: dict[str, Any] = {"title": session.title, "messages": shown, "session_id": session.id}
    foreign = (session.extra or {}).get(FOREIGN)
    if isinstance(foreign, Mapping):
        for key, value in foreign.items():
            if key not in _SESSION_KEYS and key != ABSENT:
                out[key] = value
    return out


@dataclass(frozen=True)
class ForeignSession:
    """A `get_session_detail` data object read into domain values, before storage assigns rows.

    `title` is None when the object had no string title; `extra` holds its unknown keys, which
    belong under `Session.extra[FOREIGN]`.
    """

    id: str
    title: str | None
    messages: list[NewMessage]
    extra: JSONObject


def from_session_detail(value: Any) -> ForeignSession:
    obj = _object(value, "data")
    raw_id = obj.get("session_id")
    if isinstance(raw_id, bool) or not isinstance(raw_id, str | int) or raw_id == "":
        raise InvalidRequest(
            "data.session_id must be a non-empty string or integer", param="session_id"
        )
    title = obj.get("title")
    messages = obj.get("messages", [])
    if not isinstance(messages, list):
        raise InvalidRequest("data.messages must be a list", param="messages")
    return ForeignSession(
        id=str(raw_id),
        title=title if isinstance(title, str) else None,
        messages=[from_message(m) for m in messages],
        extra={k: v for k, v in obj.items() if k not in _SESSION_KEYS},
    )
