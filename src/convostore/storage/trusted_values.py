"""Domain values built from data we validated before, without validating it again.

Everything in the database was validated on its way in, and so was what the service hands the
store to append; validating it again on the way out cost list pages more than their query
(pydantic's `model_construct` is slower still). These builders give the instance validation
would give (`tests/unit/test_rows.py` holds them equal) by filling pydantic's instance slots
directly, so they depend on how pydantic keeps an instance's state: that is all this module knows
about pydantic's insides.

So it checks itself when first imported (`slot_writes_hold`): a sample value is built both ways
and must compare, dump, copy and assign alike. If it does not (a pydantic release that keeps
its state differently), or if `CONVOSTORE_TRUSTED_VALUES=0` is set, every value is validated as
usual instead: slower, never wrong. docs/performance.md has the gain and how to remove it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, KeysView
from typing import Any, TypeVar

from pydantic import BaseModel, Field

V = TypeVar("V", bound=BaseModel)
_MISSING: Any = object()
# per model: every field in order (a default, or _MISSING), the fields with default factories,
# and the field names as a set-like view
_TEMPLATES: dict[
    type[BaseModel], tuple[dict[str, Any], dict[str, Callable[[], Any]], KeysView[str]]
] = {}


def trusted(cls: type[V], values: dict[str, Any]) -> V:
    """A value built from our own data without validating it again; `values` becomes its own.

    The caller hands over a fresh dict (the row mappers build one per row, and decoded JSON is
    new): when it names every field, it is used as it is; fields it leaves out get their
    defaults.
    """
    if not SLOT_WRITES:
        return cls.model_validate(values)
    template = _TEMPLATES.get(cls)
    if template is None:
        template = _TEMPLATES[cls] = _template_of(cls)
    defaults, factories, names = template
    if values.keys() == names:
        return whole_builder(cls)(values)
    full = dict(defaults)
    full.update(values)  # keys already present keep their (field) order
    for name, factory in factories.items():
        if full[name] is _MISSING:
            full[name] = factory()
    value = cls.__new__(cls)
    _set_dict(value, full)
    _set_fields_set(value, set(values))
    _set_extra(value, None)
    _set_private(value, None)
    return value


def builder(cls: type[V], *, whole: bool = False) -> Callable[[dict[str, Any]], V]:
    """Builds `cls` values with its lookups done once: from dicts that name every field
    (`whole`), or from freshly decoded JSON objects of ours, which do when we wrote them (those
    that do not are handed to `trusted`).

    The values one builder makes share one set of "fields set": it names every field already,
    and pydantic only ever adds to it (assigning a field) or copies it (`model_copy`), so sharing
    it changes nothing, and saves building a set per value (a page of messages holds dozens of
    values).
    """
    if not SLOT_WRITES:
        return cls.model_validate
    names = dict.fromkeys(cls.model_fields).keys()
    every_field = set(cls.model_fields)
    new = cls.__new__

    def build(data: dict[str, Any]) -> V:
        if not whole and data.keys() != names:
            return trusted(cls, data)
        value = new(cls)
        _set_dict(value, data)
        _set_fields_set(value, every_field)
        _set_extra(value, None)
        _set_private(value, None)
        return value

    return build


def whole_builder(cls: type[V]) -> Callable[[dict[str, Any]], V]:
    """The one builder of `cls` values from dicts that name every field of `cls` in order."""
    build = _WHOLE.get(cls)
    if build is None:
        build = _WHOLE[cls] = builder(cls, whole=True)
    return build


_WHOLE: dict[type[BaseModel], Callable[[dict[str, Any]], Any]] = {}


def _slot_setter(name: str) -> Callable[[Any, Any], None]:
    """Sets one of the slots pydantic keeps an instance's state in, past its validating setattr."""
    descriptor = BaseModel.__dict__.get(name)
    if descriptor is not None and hasattr(descriptor, "__set__"):
        return descriptor.__set__  # type: ignore[no-any-return]
    return lambda instance, value: object.__setattr__(instance, name, value)


_set_dict = _slot_setter("__dict__")
_set_fields_set = _slot_setter("__pydantic_fields_set__")
_set_extra = _slot_setter("__pydantic_extra__")
_set_private = _slot_setter("__pydantic_private__")


def _template_of(
    cls: type[BaseModel],
) -> tuple[dict[str, Any], dict[str, Callable[[], Any]], KeysView[str]]:
    defaults: dict[str, Any] = {}
    factories: dict[str, Callable[[], Any]] = {}
    for name, field in cls.model_fields.items():
        defaults[name] = _MISSING if field.is_required() else field.default
        if field.default_factory is not None:
            defaults[name] = _MISSING
            factories[name] = field.default_factory  # type: ignore[assignment]
    return defaults, factories, dict.fromkeys(cls.model_fields).keys()


class _Sample(BaseModel):
    """A value of the kinds the domain models hold: required, defaulted, made by a factory."""

    id: str
    count: int = 0
    tags: list[str] = Field(default_factory=list)
    inner: dict[str, Any] | None = None


def slot_writes_hold() -> bool:
    """Whether values built by writing the slots behave exactly as validated ones do, in the
    pydantic this process runs with."""
    whole = {"id": "a", "count": 2, "tags": ["x"], "inner": {"k": [1]}}
    try:
        for values in (whole, {"id": "b"}):
            built = trusted(_Sample, dict(values))
            made = _Sample.model_validate(dict(values))
            same = (
                built == made
                and built.model_dump() == made.model_dump()
                and built.model_dump_json() == made.model_dump_json()
                and built.model_fields_set == made.model_fields_set
                and built.model_copy(update={"count": 3}) == made.model_copy(update={"count": 3})
            )
            if not same:
                return False
        built = whole_builder(_Sample)(dict(whole))
        built.count = 5
        return built.count == 5 and built == _Sample.model_validate({**whole, "count": 5})
    except Exception:  # any failure means: do not trust slot writes here
        return False


SLOT_WRITES = os.environ.get("CONVOSTORE_TRUSTED_VALUES", "1") != "0"
if SLOT_WRITES and not slot_writes_hold():
    SLOT_WRITES = False
    logging.getLogger("convostore.storage").warning(
        "this pydantic keeps instance state differently: stored values are validated as they"
        " are read (slower, still correct)"
    )
