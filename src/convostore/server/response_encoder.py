"""Response bodies built from the response models that document them.

A response model (a pydantic class in a surface's `schemas`) is the one description of a wire
shape: FastAPI shows it in the OpenAPI document, and `response_encoder` compiles from it the
function that turns a domain value into that shape, so the two cannot drift apart. The function
is a plain dict display (`{"id": value.id, ...}`), generated once, the way `dataclasses` generates
`__init__`: hot read paths write dozens of these per page, and a dict built field by field in a
loop costs much more than one written out.

The body is not validated against the model (that would double the cost of a page): values come
from the domain model, which was validated, and nested domain values and datetimes are written by
the JSON renderer (`json_wire`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any, Literal, TypeVar, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

T = TypeVar("T", bound=BaseModel)


def response_encoder(
    model: type[BaseModel],
    source: type[T],
    *,
    renamed: Mapping[str, str] | None = None,
    converted: Mapping[str, Callable[[Any], Any]] | None = None,
    left_out: Collection[str] = (),
) -> Callable[[T], dict[str, Any]]:
    """The function from a `source` value to the JSON object `model` describes, its fields in
    the model's order.

    A field typed as one literal with that default (`object: Literal["message"] = "message"`) is
    that constant; any other is read from the value's field of the same name, or the one
    `renamed` gives, through the function `converted` gives for it, if any. Fields in `left_out`
    are not written: the caller adds them when the answer has them (a run's messages, say).
    A field the source does not have is an error here, when the encoder is built.
    """
    renamed = renamed or {}
    converted = converted or {}
    unknown = (set(renamed) | set(converted) | set(left_out)) - set(model.model_fields)
    if unknown:
        raise ValueError(f"{model.__name__} has no fields {sorted(unknown)}")
    namespace: dict[str, Any] = {}
    entries = []
    for index, (name, field) in enumerate(model.model_fields.items()):
        if name in left_out:
            continue
        if _is_constant(field.annotation, field.default):
            namespace[f"constant_{index}"] = field.default
            expression = f"constant_{index}"
        else:
            attribute = renamed.get(name, name)
            if attribute not in source.model_fields:
                raise ValueError(f"{model.__name__}.{name}: {source.__name__} has no {attribute!r}")
            expression = f"value.{attribute}"
            if name in converted:
                namespace[f"convert_{index}"] = converted[name]
                expression = f"convert_{index}({expression})"
        entries.append(f"{name!r}: {expression}")
    code = "def encode(value):\n    return {" + ", ".join(entries) + "}\n"
    exec(compile(code, f"<{model.__name__} encoder>", "exec"), namespace)
    encode: Callable[[T], dict[str, Any]] = namespace["encode"]
    encode.__name__ = encode.__qualname__ = f"encode_{model.__name__}"
    encode.__doc__ = f"The JSON of `{model.__name__}` for a `{source.__name__}`."
    return encode


def _is_constant(annotation: Any, default: Any) -> bool:
    return (
        get_origin(annotation) is Literal
        and default is not PydanticUndefined
        and get_args(annotation) == (default,)
    )
