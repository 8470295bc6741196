"""Domain values built from data we validated before, without validating it again.

Everything in the database was validated on its way in, and so was what the service hands the
store to append; validating it again on the way out cost list pages more than their query
(pydantic's `model_construct` is slower still). These builders give the instance validation
would give (`tests/unit/test_rows.py` holds them equal) by filling pydantic's instance slots
directly, so they depend on how pydantic keeps an instance's state: that is all this module knows
about pydantic's insides.
"""

from __future__ import annotations

from collections.abc import Callable, KeysView
from typing import Any, TypeVar

from pydantic import BaseModel

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
