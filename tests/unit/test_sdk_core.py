"""The SDK's I/O-free core: request building, error mapping, retry rules, configuration."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest

from convostore.client import _core as core
from convostore.client import exceptions as exc
from convostore.models import NewMessage


def answer(status: int, **kwargs: object) -> httpx.Response:
    return httpx.Response(status, request=httpx.Request("GET", "http://x/v1/y"), **kwargs)  # type: ignore[arg-type]


def test_query_parameters_are_encoded_the_way_the_server_reads_them() -> None:
    plus_two = timezone(timedelta(hours=2))
    params = core.query(
        user_id="u",
        q=None,
        include_total=True,
        created_after=datetime(2025, 1, 1, 12, tzinfo=plus_two),
        created_before=datetime(2025, 1, 2),
        limit=5,
        status=["a", "b"],
    )
    assert params == [
        ("user_id", "u"),
        ("include_total", "true"),
        ("created_after", "2025-01-01T10:00:00Z"),
        ("created_before", "2025-01-02T00:00:00Z"),
        ("limit", "5"),
        ("status", "a"),
        ("status", "b"),
    ]


def test_builders_quote_ids_and_repeat_list_parameters() -> None:
    call = core.list_messages("a b", {"run_id": ["r1", "r2"], "order": "desc"})
    assert (call.method, call.path) == ("GET", "/v1/sessions/a%20b/messages")
    assert call.params == [("run_id", "r1"), ("run_id", "r2"), ("order", "desc")]
    assert core.list_memories({"topic": "t"}).params == [("topic", "t")]
    assert core.get_session("s", 0).params == []
    assert core.get_session("s", 3).params == [("include_messages", "3")]


def test_append_body_keeps_only_what_was_given() -> None:
    call = core.append_messages(
        "s",
        [
            NewMessage(role="user", content="hi"),
            {"role": "assistant", "created_at": datetime(2025, 1, 1, tzinfo=UTC)},
        ],
        idempotency_key="k",
        create_if_missing=None,
        session={"user_id": "alice"},
    )
    assert call.json == {
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "created_at": "2025-01-01T00:00:00Z"},
        ],
        "create_if_missing": True,
        "session": {"user_id": "alice"},
    }
    assert call.headers == {"Idempotency-Key": "k"}
    plain = core.append_messages(
        "s", [], idempotency_key=None, create_if_missing=False, session={"user_id": "a"}
    )
    assert plain.json == {"messages": []} and plain.headers == {}
    with pytest.raises(TypeError):
        core.append_messages(
            "s",
            {"role": "user"},  # type: ignore[arg-type]  # one message, not a list of them
            idempotency_key=None,
            create_if_missing=None,
            session=None,
        )


def test_only_reads_and_keyed_writes_are_retryable() -> None:
    assert core.list_sessions({}).retryable
    assert core.append_messages(
        "s", [], idempotency_key="k", create_if_missing=None, session=None
    ).retryable
    assert not core.append_messages(
        "s", [], idempotency_key=None, create_if_missing=None, session=None
    ).retryable
    assert not core.create_session({}).retryable
    assert not core.delete_session("s").retryable
    assert [core.retry_delay(n) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, exc.BadRequestError),
        (401, exc.AuthenticationError),
        (403, exc.PermissionDeniedError),
        (404, exc.NotFoundError),
        (409, exc.ConflictError),
        (413, exc.PayloadTooLargeError),
        (422, exc.UnprocessableEntityError),
        (429, exc.RateLimitError),
        (500, exc.InternalServerError),
        (502, exc.InternalServerError),
        (503, exc.ServiceUnavailableError),
    ],
)
def test_each_status_maps_to_its_exception(status: int, cls: type[exc.ConvostoreAPIError]) -> None:
    body = {"error": {"type": "some_type", "message": "went wrong", "param": "limit"}}
    error = core.api_error(answer(status, json=body))
    assert type(error) is cls
    assert (error.status_code, error.type, error.message, error.param) == (
        status,
        "some_type",
        "went wrong",
        "limit",
    )
    assert str(error) == f"{status} some_type: went wrong (param: limit)"


def test_foreign_error_bodies_and_unknown_statuses() -> None:
    proxy = core.api_error(answer(502, text="<html>Bad Gateway</html>"))
    assert isinstance(proxy, exc.InternalServerError)
    assert (proxy.type, proxy.message, proxy.param) == (
        "http_error",
        "<html>Bad Gateway</html>",
        None,
    )
    odd = core.api_error(
        answer(405, json={"error": {"type": "method_not_allowed", "message": "no"}})
    )
    assert type(odd) is exc.ConvostoreAPIError and odd.param is None
    with pytest.raises(exc.UnexpectedResponseError):
        core.result(core.health(), answer(200, text="not json"))
    with pytest.raises(exc.UnexpectedResponseError):
        core.result(core.get_memory("m"), answer(200, json={"id": "m"}))


def test_retry_after_in_seconds_or_as_a_date() -> None:
    limited = core.api_error(answer(429, headers={"Retry-After": "3"}, json={}))
    assert isinstance(limited, exc.RateLimitError) and limited.retry_after == 3.0
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert core.parse_retry_after("Wed, 01 Jan 2025 00:00:10 GMT", now) == 10.0
    assert core.parse_retry_after("soon") is None and core.parse_retry_after(None) is None


def test_degraded_health_is_an_answer_not_an_error() -> None:
    body = {"status": "degraded", "database": "unreachable", "version": "0"}
    assert core.result(core.health(), answer(503, json=body)).status == "degraded"


def test_configuration_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    config = core.Config.resolve(None, None, None, 0)
    assert config.base_url == core.DEFAULT_BASE_URL and "Authorization" not in config.headers
    own = core.Config.resolve(None, None, None, 0, "http://testserver/")
    assert own.url("/v1/health") == "http://testserver/v1/health"

    monkeypatch.setenv("CONVOSTORE_API_KEY", "csk_env")
    monkeypatch.setenv("CONVOSTORE_BASE_URL", "https://env.example/prefix/")
    from_env = core.Config.resolve(None, None, {"X-Trace": "1"}, 0)
    assert from_env.url("/v1/health") == "https://env.example/prefix/v1/health"
    assert from_env.headers["Authorization"] == "Bearer csk_env"
    assert from_env.headers["X-Trace"] == "1"
    given = core.Config.resolve("http://h", "csk_arg", None, 0)
    assert (given.base_url, given.headers["Authorization"]) == ("http://h", "Bearer csk_arg")
    with pytest.raises(ValueError):
        core.Config.resolve(None, None, None, -1)


def test_importing_the_sdk_loads_no_server_dependency() -> None:
    code = (
        "import sys; import httpx; before = set(sys.modules); import convostore; "
        "loaded = {m.split('.')[0] for m in set(sys.modules) - before}; "
        "server = {'fastapi', 'starlette', 'sqlalchemy', 'orjson', 'click', 'alembic', "
        "'pydantic_settings', 'uvicorn', 'psycopg'}; "
        "inner = {m for m in sys.modules if m.startswith('convostore.')}; "
        "print(sorted(loaded & server), sorted(m for m in inner if not m.startswith("
        "('convostore.client', 'convostore.models', 'convostore.version'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] []"
