"""`LeanRoute`: FastAPI documents the route as usual; requests skip its per-request solving.

FastAPI works out each request's arguments by walking the endpoint's dependency tree and
validating every query parameter on its own, which costs more than convostore's whole read path.
The routes that use this class declare their parameters exactly as FastAPI expects, so the
OpenAPI document is unchanged, but their arguments are bound by a plan worked out once per route:
path parameters as given, all query parameters validated in one pydantic pass, dependencies that
only need the request awaited directly. Validation failures raise FastAPI's own
`RequestValidationError` with FastAPI's error locations, so each surface renders them as before.

A JSON body model is parsed and validated in one pydantic pass, and optional text headers are
read as they are; a body the plan does not take as it is (another content type, invalid JSON, a
validation error) is handed to FastAPI's own handler, which answers it exactly as always. A route
whose signature asks for more (cookies, nested dependencies, constrained headers), or whose
dependant FastAPI describes in a way this module does not know, is served by FastAPI's handler
altogether: the plan is an optimisation, never a second behaviour. So is every request while a
test overrides dependencies, and every request of an app whose `fast_routes` is off.
"""

from __future__ import annotations

import inspect
import json
import logging
import typing
from collections.abc import Awaitable, Callable, Coroutine
from types import UnionType
from typing import TYPE_CHECKING, Any, TypeGuard

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError, create_model
from starlette.responses import Response

if TYPE_CHECKING:
    from convostore.server.database import Workers

__all__ = ["Handler", "LeanRoute", "planned"]

log = logging.getLogger("convostore.server")

# bodies at least this large are parsed and validated in a worker thread, off the event loop
LARGE_BODY_BYTES = 64 * 1024

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class LeanRoute(APIRoute):
    """An APIRoute whose requests are bound by a precomputed plan when its signature allows."""

    # the route's handler without FastAPI's layers, when it has a plan and takes no body
    lean_handler: Handler | None = None

    def get_route_handler(self) -> Handler:
        fallback: Handler = super().get_route_handler()
        plan = planned(self.dependant, self.path)
        if plan is None:
            self.lean_handler = None
            return fallback
        endpoint = self.dependant.call
        assert endpoint is not None

        async def lean(request: Request) -> Response:
            arguments = await plan.bind(request)
            if arguments is None:  # a body the plan does not take as it is: FastAPI decides
                return await fallback(request)
            response = await endpoint(**arguments)
            if not isinstance(response, Response):
                raise TypeError(f"{self.path}: a lean route's endpoint must return a Response")
            return response

        async def handle(request: Request) -> Response:
            app = request.app
            if app.dependency_overrides or not getattr(app, "fast_routes", True):
                return await fallback(request)
            return await lean(request)

        # served in front of FastAPI's stack only without a body (the fallback needs that stack)
        self.lean_handler = lean if plan.body is None else None
        return handle


def planned(dependant: Dependant, path: str = "") -> _Plan | None:
    """The plan for a route's dependant; None when FastAPI must bind its requests: the
    signature needs its general machinery, or FastAPI no longer describes dependants as this
    module expects (a newer release: then FastAPI serves the route, and the log says so)."""
    try:
        return _Plan.of(dependant)
    except (AttributeError, TypeError, ValueError) as exc:
        log.warning("fast routes: %s is served by FastAPI's own handler (%r)", path, exc)
        return None


def plan_binds_body(plan: _Plan | None) -> bool:
    """Whether a plan parses the route's JSON body itself."""
    return plan is not None and plan.body is not None


class _Plan:
    """How one route's endpoint arguments come out of a request."""

    def __init__(
        self,
        request_name: str | None,
        path_names: list[str],
        query_model: type[BaseModel] | None,
        query_model_name: str | None,
        query_lists: frozenset[str],
        dependencies: list[tuple[str, Callable[[Request], Awaitable[Any]]]],
        headers: list[tuple[str, str]],
        body: tuple[str, type[BaseModel]] | None,
    ) -> None:
        self.request_name = request_name
        self.path_names = path_names
        self.query_model = query_model
        self.query_model_name = query_model_name  # the endpoint takes the model itself
        self.query_lists = query_lists  # aliases read as repeated values
        self.dependencies = dependencies
        self.headers = headers  # (argument, header name) of optional plain-text headers
        self.body = body  # (argument, model) of a JSON body

    @classmethod
    def of(cls, dependant: Dependant) -> _Plan | None:
        """The plan for a dependant, or None when it needs FastAPI's general machinery."""
        if not inspect.iscoroutinefunction(dependant.call):
            return None
        if dependant.cookie_params:
            return None
        headers = []
        for field in dependant.header_params:
            info = field.field_info
            optional_text = info.annotation == str | None and info.default is None
            if not optional_text or info.metadata or not getattr(info, "convert_underscores", True):
                return None
            headers.append((field.name, info.alias or field.name.replace("_", "-")))
        body: tuple[str, type[BaseModel]] | None = None
        if dependant.body_params:
            field = dependant.body_params[0]
            model = field.field_info.annotation
            embedded = getattr(field.field_info, "embed", False)
            if len(dependant.body_params) > 1 or embedded or not _is_model(model):
                return None
            body = (field.name, model)
        if _takes_special_parameters(dependant):
            return None
        dependencies = []
        for sub in dependant.dependencies:
            if not _request_only(sub) or sub.name is None:
                return None
            assert sub.call is not None
            dependencies.append((sub.name, sub.call))
        for field in dependant.path_params:
            if field.field_info.annotation is not str:
                return None
        query_model: type[BaseModel] | None = None
        query_model_name: str | None = None
        fields = dependant.query_params
        annotation = fields[0].field_info.annotation if len(fields) == 1 else None
        if _is_model(annotation):
            query_model = annotation
            query_model_name = fields[0].name
        elif fields:
            if any(_is_model(f.field_info.annotation) for f in fields):
                return None
            query_model = create_model(  # type: ignore[call-overload]
                f"{dependant.call.__name__}_query",
                **{f.name: (f.field_info.annotation, f.field_info) for f in fields},
            )
        model_fields = query_model.model_fields if query_model is not None else {}
        lists = frozenset(
            (info.alias or name) for name, info in model_fields.items() if _is_list(info.annotation)
        )
        return cls(
            dependant.request_param_name,
            [f.name for f in dependant.path_params],
            query_model,
            query_model_name,
            lists,
            dependencies,
            headers,
            body,
        )

    async def bind(self, request: Request) -> dict[str, Any] | None:
        """The endpoint's arguments; None when the body is not one the plan takes as it is."""
        arguments: dict[str, Any] = {}
        if self.body is not None:
            name, model = self.body
            value = await self._read_body(request, model)
            if value is None:
                return None
            arguments[name] = value
        # FastAPI runs dependencies (authentication) before it validates parameters: so do we
        for name, call in self.dependencies:
            arguments[name] = await call(request)
        for name, header in self.headers:
            arguments[name] = request.headers.get(header)
        if self.request_name is not None:
            arguments[self.request_name] = request
        path = request.path_params
        for name in self.path_names:
            arguments[name] = path[name]
        if self.query_model is not None:
            values = self._validate(request)
            if self.query_model_name is not None:
                arguments[self.query_model_name] = values
            else:
                arguments.update(values.__dict__)
        return arguments

    @staticmethod
    async def _read_body(request: Request, model: type[BaseModel]) -> BaseModel | None:
        """A JSON body, parsed and validated. A small one in one pass here, None for anything
        unusual (another content type, invalid JSON, a validation error), which FastAPI then
        handles itself, answering exactly as it always does. A large one in a worker thread, as
        FastAPI would parse and validate it (`_large_body`), its failures raised there as
        FastAPI raises them: never parsed again on the event loop."""
        content_type = request.headers.get("content-type", "")
        if content_type.split(";", 1)[0].strip().lower() != "application/json":
            return None
        raw = await request.body()
        if len(raw) >= LARGE_BODY_BYTES:
            workers: Workers = request.app.state.ctx.workers
            return await workers.compute(_large_body, model, raw)
        try:
            return model.model_validate_json(raw)
        except ValidationError:
            return None

    def _validate(self, request: Request) -> BaseModel:
        assert self.query_model is not None
        raw: bytes = request.scope["query_string"]
        received: dict[str, Any]
        if self.query_lists or b"%" in raw or b"+" in raw:
            query = request.query_params
            received = dict(query)
            for alias in self.query_lists:
                if alias in received:
                    received[alias] = query.getlist(alias)
        else:
            received = _plain_query(raw)
        try:
            return self.query_model.model_validate(received)
        except ValidationError as exc:
            raise RequestValidationError(_fastapi_errors(exc)) from None


def _same(value: dict[str, Any]) -> dict[str, Any]:
    return value


def _large_body(model: type[BaseModel], raw: bytes) -> BaseModel:
    """What FastAPI makes of a JSON body for a model parameter: `json.loads` (as Starlette's
    `Request.json`), then the model validated in Python mode, its errors located in "body" —
    the same answers, only computed off the event loop."""
    try:
        # a call back per object: the interpreter may switch threads between two, so the event
        # loop is not held for the whole parse of a body of many small objects
        value = json.loads(raw, object_hook=_same)
    except json.JSONDecodeError as exc:
        error = {
            "type": "json_invalid",
            "loc": ("body", exc.pos),
            "msg": "JSON decode error",
            "input": {},
            "ctx": {"error": exc.msg},
        }
        raise RequestValidationError([error], body=exc.doc) from None
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        errors = [
            {**error, "loc": ("body", *error["loc"])} for error in exc.errors(include_url=False)
        ]
        raise RequestValidationError(errors, body=value) from None


def _plain_query(raw: bytes) -> dict[str, str]:
    """What `dict(request.query_params)` gives for a query string with nothing to unquote (no
    `%`, no `+`), at a tenth of the cost: `&`-separated pairs, a bare name an empty value, the
    last of repeated names (as Starlette's, its text decoded as Latin-1)."""
    received: dict[str, str] = {}
    for part in raw.decode("latin-1").split("&"):
        if part:
            name, _, value = part.partition("=")
            received[name] = value
    return received


def _fastapi_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Pydantic's errors as FastAPI reports a query parameter's: located in "query"."""
    errors = []
    for error in exc.errors(include_url=False):
        item = dict(error)
        item["loc"] = ("query", *error["loc"])
        if error["type"] == "missing":
            item["input"] = None
        errors.append(item)
    return errors


def _request_only(dependant: Dependant) -> bool:
    """A dependency that needs nothing but the request, and is a coroutine function."""
    return (
        inspect.iscoroutinefunction(dependant.call)
        and dependant.request_param_name is not None
        and not (
            dependant.path_params
            or dependant.query_params
            or dependant.header_params
            or dependant.cookie_params
            or dependant.body_params
            or dependant.dependencies
            or _takes_special_parameters(dependant)
        )
    )


def _takes_special_parameters(dependant: Dependant) -> bool:
    """A websocket, connection, response, background tasks or security scopes parameter."""
    return bool(
        dependant.websocket_param_name
        or dependant.http_connection_param_name
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
    )


def _is_model(annotation: Any) -> TypeGuard[type[BaseModel]]:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _is_list(annotation: Any) -> bool:
    """`list[X]`, or an optional one."""
    origin = typing.get_origin(annotation)
    if origin in (list, tuple, set, frozenset):
        return True
    if origin is typing.Union or origin is UnionType:
        return any(_is_list(arg) for arg in typing.get_args(annotation))
    return False
