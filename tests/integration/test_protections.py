"""Rate limits, CORS, security headers, request ids with access logs, and `/metrics`, through HTTP.

Every surface is checked in its own convention: native and Agno answer 429 with `Retry-After`,
memories.ai answers its `0429` envelope (HTTP 200, as all its answers are).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from convostore.auth import KeyService
from convostore.config import Settings
from convostore.server import create_app
from convostore.server.middleware import access_log
from convostore.storage import SqlStore
from tests.conftest import LOCAL_URL, bearer

NATIVE = "/v1/sessions"
AGNO = "/sessions"
MEMORIES = "/serve/api/v1/list_sessions"
ORIGIN = "https://app.example"


def make_app(database_url: str, store: SqlStore, **options: Any) -> FastAPI:
    return create_app(Settings(database_url=database_url, **options), store=store)


@pytest.fixture
def tenant_keys(keys: KeyService) -> dict[str, str]:
    return {
        "a": keys.create("acme", "write").key,
        "b": keys.create("acme", "write").key,
        "other": keys.create("globex", "admin").key,
    }


@pytest.fixture
def limited(
    database_url: str, store: SqlStore, tenant_keys: dict[str, str]
) -> Iterator[TestClient]:
    """An app allowing 3 requests per minute per key."""
    with TestClient(
        make_app(database_url, store, rate_limit_per_minute=3), base_url=LOCAL_URL
    ) as client:
        yield client


def retry_after(response: Any) -> int:
    value = int(response.headers["retry-after"])
    assert 1 <= value <= 60
    return value


# --- rate limits ------------------------------------------------------------------------------


def test_rate_limit_is_off_by_default(
    database_url: str, store: SqlStore, tenant_keys: dict[str, str]
) -> None:
    assert Settings().rate_limit_per_minute == 0
    with TestClient(make_app(database_url, store), base_url=LOCAL_URL) as client:
        for _ in range(25):
            for path in (NATIVE, AGNO, MEMORIES):
                response = client.get(path, headers=bearer(tenant_keys["a"]))
                assert response.status_code == 200, response.text
                assert "retry-after" not in response.headers
                if path == MEMORIES:
                    assert response.json()["code"] == "0000"


def test_native_rate_limit_answers_429_with_retry_after(
    limited: TestClient, tenant_keys: dict[str, str]
) -> None:
    for _ in range(3):
        assert limited.get(NATIVE, headers=bearer(tenant_keys["a"])).status_code == 200
    refused = limited.get(NATIVE, headers=bearer(tenant_keys["a"]))
    assert refused.status_code == 429
    assert refused.json()["error"]["type"] == "rate_limited"
    assert "3 requests per minute" in refused.json()["error"]["message"]
    assert retry_after(refused) == 20  # one token every 20 s at 3 per minute
    # a write is refused too, and nothing is stored
    write = limited.post(NATIVE, json={"id": "late"}, headers=bearer(tenant_keys["a"]))
    assert write.status_code == 429
    # another key of the same tenant, and a key of another tenant, are unaffected
    assert limited.get(NATIVE, headers=bearer(tenant_keys["b"])).status_code == 200
    assert limited.get(NATIVE, headers=bearer(tenant_keys["other"])).status_code == 200
    listed = limited.get(NATIVE, headers=bearer(tenant_keys["b"])).json()
    assert [s["id"] for s in listed["data"]] == []


def test_agno_rate_limit_answers_429_detail_with_retry_after(
    limited: TestClient, tenant_keys: dict[str, str]
) -> None:
    for _ in range(3):
        assert limited.get(AGNO, headers=bearer(tenant_keys["a"])).status_code == 200
    refused = limited.get(AGNO, headers=bearer(tenant_keys["a"]))
    assert refused.status_code == 429
    assert set(refused.json()) == {"detail"}
    assert isinstance(refused.json()["detail"], str)
    retry_after(refused)
    assert limited.get(AGNO, headers=bearer(tenant_keys["b"])).status_code == 200


def test_memories_ai_rate_limit_answers_0429_envelope(
    limited: TestClient, tenant_keys: dict[str, str]
) -> None:
    for _ in range(3):
        assert limited.get(MEMORIES, headers={"Authorization": tenant_keys["a"]}).json()["success"]
    refused = limited.get(MEMORIES, headers={"Authorization": tenant_keys["a"]})
    assert refused.status_code == 200
    assert refused.json() == {
        "code": "0429",
        "msg": "Request has exceeded the limit.",
        "data": None,
        "success": False,
        "failed": True,
    }
    retry_after(refused)
    other = limited.get(MEMORIES, headers={"Authorization": tenant_keys["b"]})
    assert other.json()["code"] == "0000"


def test_one_budget_per_key_across_surfaces(
    limited: TestClient, tenant_keys: dict[str, str]
) -> None:
    key = tenant_keys["a"]
    assert limited.get(NATIVE, headers=bearer(key)).status_code == 200
    assert limited.get(AGNO, headers=bearer(key)).status_code == 200
    assert limited.get(MEMORIES, headers=bearer(key)).json()["code"] == "0000"
    assert limited.get(NATIVE, headers=bearer(key)).status_code == 429
    assert limited.get(AGNO, headers=bearer(key)).status_code == 429
    assert limited.get(MEMORIES, headers=bearer(key)).json()["code"] == "0429"


def test_rejected_keys_do_not_spend_a_real_keys_budget(
    limited: TestClient, tenant_keys: dict[str, str]
) -> None:
    real = tenant_keys["a"]
    forged = real[: real.rindex("_") + 1] + "not-the-secret"  # the real key id, a wrong secret
    for _ in range(3):
        assert limited.get(NATIVE, headers=bearer(forged)).status_code == 401
    # failures are charged to the caller's address: once it has no budget left, a forged key is
    # refused before it is looked up
    for _ in range(5):
        assert limited.get(NATIVE, headers=bearer(forged)).status_code == 429
    for _ in range(3):
        assert limited.get(NATIVE, headers=bearer(real)).status_code == 200
    assert limited.get(NATIVE, headers=bearer(real)).status_code == 429


def test_unauthenticated_routes_are_not_limited(limited: TestClient) -> None:
    for _ in range(10):
        assert limited.get("/v1/health").status_code == 200
        assert limited.get("/metrics").status_code == 200


def test_burst_setting_and_open_mode_limits_by_client_address(
    database_url: str, store: SqlStore
) -> None:
    app = make_app(database_url, store, rate_limit_per_minute=60, rate_limit_burst=2)
    with TestClient(app, client=("10.0.0.1", 4000), base_url=LOCAL_URL) as first:
        assert first.get(NATIVE).status_code == 200  # open mode: no keys exist
        assert first.get(NATIVE).status_code == 200
        refused = first.get(NATIVE)
        assert refused.status_code == 429
        assert retry_after(refused) == 1  # 60 per minute: a token a second
        second = TestClient(
            app, client=("10.0.0.2", 4000), base_url=LOCAL_URL
        )  # same app, another address
        assert second.get(NATIVE).status_code == 200
        assert first.get(AGNO).status_code == 429


# --- CORS -------------------------------------------------------------------------------------


def preflight(client: TestClient, path: str, origin: str = ORIGIN) -> Any:
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )


AGENT_UI = "http://localhost:3000"  # where Agno's Agent UI runs; AgentOS allows it by default


def test_cors_defaults_to_the_origins_agentos_allows(client: TestClient) -> None:
    """Agent UI sends `Content-Type: application/json` on every GET, so each call is preceded by
    a preflight; unconfigured, its origin (and agno.com's) is allowed, no other."""
    answer = preflight(client, "/health", AGENT_UI)
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == AGENT_UI
    assert "content-type" in answer.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in answer.headers
    for origin in ("https://os.agno.com", "https://app.agno.com"):
        assert preflight(client, "/sessions", origin).status_code == 200
    simple = client.get(AGNO, headers={"Origin": AGENT_UI})
    assert simple.headers["access-control-allow-origin"] == AGENT_UI
    # any other origin: refused, and told so in the surface's own convention
    native = preflight(client, NATIVE + "/abc")
    assert native.status_code == 400
    assert native.json()["error"]["type"] == "invalid_request"
    assert "access-control-allow-origin" not in native.headers
    assert "origin" in native.headers["vary"].lower()
    simple = client.get(NATIVE, headers={"Origin": ORIGIN})
    assert simple.status_code == 200
    assert "access-control-allow-origin" not in simple.headers
    # without an Origin (not a browser), nothing CORS at all
    plain = client.get(NATIVE)
    assert not any(name.startswith("access-control-") for name in plain.headers)


def test_a_refused_preflight_answers_in_each_surface_convention(client: TestClient) -> None:
    """Starlette answers a refused preflight with plain text; each surface answers its own way."""
    agno = preflight(client, "/health", "https://evil.example")
    assert agno.status_code == 400
    assert agno.headers["content-type"] == "application/json"
    detail = agno.json()["detail"]
    assert detail.startswith("Disallowed CORS origin") and "https://evil.example" in detail
    memories = preflight(client, MEMORIES, "https://evil.example")
    body = memories.json()
    assert set(body) == {"code", "msg", "data", "success", "failed"} and body["failed"]
    assert "access-control-allow-origin" not in memories.headers
    # an allowed origin asking for a header nobody may send is refused the same way
    odd = client.options(
        "/sessions",
        headers={
            "Origin": AGENT_UI,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "x-not-allowed",
        },
    )
    assert odd.status_code == 400 and odd.json()["detail"].startswith("Disallowed CORS headers")


def test_cors_is_off_when_no_origin_is_allowed(database_url: str, store: SqlStore) -> None:
    with TestClient(make_app(database_url, store, cors_origins=[]), base_url=LOCAL_URL) as client:
        answer = preflight(client, NATIVE + "/abc", AGENT_UI)
        assert "access-control-allow-origin" not in answer.headers
        assert answer.status_code == 405
        assert answer.json()["error"]["type"] == "method_not_allowed"
        simple = client.get(NATIVE, headers={"Origin": AGENT_UI})
        assert simple.status_code == 200
        assert not any(name.startswith("access-control-") for name in simple.headers)


def test_cors_when_configured(database_url: str, store: SqlStore) -> None:
    app = make_app(database_url, store, cors_origins=[ORIGIN + "/"])  # the trailing / is dropped
    with TestClient(app, base_url=LOCAL_URL) as client:
        answer = preflight(client, NATIVE + "/abc")
        assert answer.status_code == 200
        assert answer.headers["access-control-allow-origin"] == ORIGIN
        assert "PATCH" in answer.headers["access-control-allow-methods"]
        allowed = answer.headers["access-control-allow-headers"].lower()
        assert "authorization" in allowed and "idempotency-key" in allowed
        assert "access-control-allow-credentials" not in answer.headers
        simple = client.get(NATIVE, headers={"Origin": ORIGIN})
        assert simple.headers["access-control-allow-origin"] == ORIGIN
        assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()
        # errors are readable by the allowed origin too, in their own convention
        missing = client.get(AGNO + "/nope", headers={"Origin": ORIGIN})
        assert missing.status_code == 404
        assert missing.headers["access-control-allow-origin"] == ORIGIN
        # another origin gets nothing
        foreign = client.get(NATIVE, headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in foreign.headers
        assert preflight(client, NATIVE, "https://evil.example").status_code == 400
        # a configured list replaces the default one
        assert preflight(client, NATIVE, AGENT_UI).status_code == 400


def test_cors_origins_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVOSTORE_CORS_ORIGINS", "https://a.example, https://b.example/")
    assert Settings().cors_origins == ["https://a.example", "https://b.example"]
    monkeypatch.setenv("CONVOSTORE_CORS_ORIGINS", '["*"]')
    assert Settings().cors_origins == ["*"]
    monkeypatch.setenv("CONVOSTORE_CORS_ORIGINS", "")
    assert Settings().cors_origins == []
    monkeypatch.delenv("CONVOSTORE_CORS_ORIGINS")
    assert AGENT_UI in Settings().cors_origins


# --- security headers -------------------------------------------------------------------------


def assert_hardened(response: Any) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_security_headers_on_every_surface(database_url: str, store: SqlStore) -> None:
    app = make_app(database_url, store, max_body_bytes=1000)
    with TestClient(app, base_url=LOCAL_URL) as client:
        api_answers = [
            client.get("/v1/health"),
            client.get(NATIVE),
            client.get(NATIVE + "/missing"),
            client.post(NATIVE, content=b"x" * 2000, headers={"Content-Type": "application/json"}),
            client.get(AGNO),
            client.get("/health"),
            client.get(MEMORIES),
            client.get("/serve/api/v1/get_session_detail"),
            client.get("/no/such/route"),
            client.get("/metrics"),
            client.get("/openapi.json"),
            client.get("/docs"),
        ]
        assert [a.status_code for a in api_answers] == [
            *(200, 200, 404, 413, 200, 200, 200, 200, 404, 200, 200, 200)
        ]
        for answer in api_answers:
            assert_hardened(answer)
            assert "content-security-policy" not in answer.headers, answer.url
        ui_answers = [
            client.get("/ui/"),
            client.get("/ui/sessions/abc"),
            client.get("/ui/static/js/app.js"),
            client.get("/ui/static/missing.js"),
        ]
        assert [a.status_code for a in ui_answers] == [200, 200, 200, 404]
        for answer in ui_answers:
            assert_hardened(answer)
            policy = answer.headers["content-security-policy"]
            assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
            assert answer.headers.get_list("x-content-type-options") == ["nosniff"]  # not doubled


# --- request ids and the access log -----------------------------------------------------------


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def access_lines() -> Iterator[list[str]]:
    logger = logging.getLogger("convostore.access")
    handler, level = Lines(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler.lines
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_request_ids_are_echoed_or_generated(client: TestClient) -> None:
    sent = client.get("/v1/health", headers={"X-Request-ID": "trace-42.a:b"})
    assert sent.headers["x-request-id"] == "trace-42.a:b"
    first, second = client.get("/v1/health"), client.get(NATIVE + "/missing")
    assert re.fullmatch(r"[0-9a-f]{24}", first.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    for insane in ("x" * 129, "two words", "<script>", ""):
        answer = client.get("/v1/health", headers={"X-Request-ID": insane})
        assert re.fullmatch(r"[0-9a-f]{24}", answer.headers["x-request-id"]), insane
    assert re.fullmatch(r"[0-9a-f]{24}", client.get(MEMORIES).headers["x-request-id"])


def test_access_log_is_one_json_line_per_request_without_secrets(
    database_url: str, store: SqlStore, keys: KeyService, access_lines: list[str]
) -> None:
    key = keys.create("acme", "write").key
    key_id = key.split("_")[1]
    with TestClient(make_app(database_url, store), base_url=LOCAL_URL) as client:
        created = client.post(
            NATIVE + "?note=query-secret",
            json={"id": "s1", "title": "body-secret"},
            headers={**bearer(key), "X-Request-ID": "req-1"},
        )
        assert created.status_code == 201
        denied = client.get(NATIVE, headers=bearer("csk_nope_nope"))
        assert denied.status_code == 401
    assert len(access_lines) == 2
    entries = [orjson.loads(line) for line in access_lines]
    first, second = entries
    assert first["request_id"] == "req-1"
    assert first["method"] == "POST" and first["path"] == NATIVE and first["route"] == NATIVE
    assert first["status"] == 201
    assert isinstance(first["duration_ms"], float) and first["duration_ms"] >= 0
    assert first["tenant"] == "acme" and first["key_id"] == key_id
    assert second["status"] == 401 and second["tenant"] is None
    assert second["request_id"] == denied.headers["x-request-id"]
    for line in access_lines:
        for secret in (key, key[-20:], "body-secret", "query-secret", "csk_nope_nope"):
            assert secret not in line


def test_access_log_text_format_and_off_switch(
    database_url: str, store: SqlStore, access_lines: list[str]
) -> None:
    with TestClient(make_app(database_url, store, log_format="text"), base_url=LOCAL_URL) as client:
        answer = client.get("/v1/health")
    assert len(access_lines) == 1
    assert access_lines[0].startswith("testclient GET '/v1/health' 200 ")
    assert f"request_id={answer.headers['x-request-id']}" in access_lines[0]
    with TestClient(make_app(database_url, store, access_log=False), base_url=LOCAL_URL) as client:
        assert "x-request-id" in client.get("/v1/health").headers  # ids stay on
    assert len(access_lines) == 1


def stderr_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in capsys.readouterr().err.splitlines()]


def test_default_access_log_writes_lines_in_batches_and_never_loses_them(
    database_url: str, store: SqlStore, capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_app(database_url, store)

    async def boom() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/boom", boom)
    with TestClient(app, raise_server_exceptions=False, base_url=LOCAL_URL) as client:
        capsys.readouterr()
        ids = [client.get("/v1/health").headers["x-request-id"] for _ in range(3)]
        time.sleep(access_log.FLUSH_AFTER_S * 3)  # a batch waits at most FLUSH_AFTER_S
        assert [line["request_id"] for line in stderr_lines(capsys)] == ids
        waiting = client.get("/v1/health").headers["x-request-id"]
        failed = client.get("/boom")
        assert failed.status_code == 500
        # an error answer is written at once, with the lines that waited before it
        lines = stderr_lines(capsys)
        assert [line["request_id"] for line in lines] == [waiting, failed.headers["x-request-id"]]
        assert lines[1]["status"] == 500
        last = client.get("/v1/health").headers["x-request-id"]
    # the app stopping writes what still waits
    assert [line["request_id"] for line in stderr_lines(capsys)] == [last]


# --- /metrics ---------------------------------------------------------------------------------


def metric_lines(client: TestClient, **headers: str) -> list[str]:
    answer = client.get("/metrics", headers=headers)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return answer.text.splitlines()


def value(lines: list[str], series: str) -> float:
    found = [line for line in lines if line.startswith(series + " ")]
    assert len(found) == 1, series
    return float(found[0].rsplit(" ", 1)[1])


def test_metrics_count_per_route_template(client: TestClient) -> None:
    for session_id in ("first-id", "second-id"):
        assert client.post(NATIVE, json={"id": session_id}).status_code == 201
        assert client.get(f"{NATIVE}/{session_id}").status_code == 200
    assert client.get(f"{NATIVE}/missing-id").status_code == 404
    assert client.get("/no/such/thing-id").status_code == 404
    assert client.request("BREW", NATIVE).status_code == 405
    lines = metric_lines(client)
    text = "\n".join(lines)
    for raw in ("first-id", "second-id", "missing-id", "thing-id", "BREW"):
        assert raw not in text
    route = 'route="/v1/sessions/{session_id}"'
    assert value(lines, f'convostore_http_requests_total{{method="GET",{route},status="200"}}') == 2
    assert value(lines, f'convostore_http_requests_total{{method="GET",{route},status="404"}}') == 1
    assert (
        value(
            lines, 'convostore_http_requests_total{method="POST",route="/v1/sessions",status="201"}'
        )
        == 2
    )
    assert (
        value(lines, 'convostore_http_requests_total{method="GET",route="unmatched",status="404"}')
        == 1
    )
    assert (
        value(
            lines,
            'convostore_http_requests_total{method="other",route="/v1/sessions",status="405"}',
        )
        == 1
    )
    histogram = "convostore_http_request_duration_seconds"
    labels = f'method="GET",{route}'
    buckets = [
        float(line.rsplit(" ", 1)[1])
        for line in lines
        if line.startswith(f"{histogram}_bucket{{{labels},")
    ]
    assert buckets == sorted(buckets) and buckets[-1] == 3
    assert value(lines, f"{histogram}_count{{{labels}}}") == 3
    assert value(lines, f"{histogram}_sum{{{labels}}}") > 0
    assert "# TYPE convostore_http_request_duration_seconds histogram" in lines
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]


def test_metrics_count_database_errors(database_url: str) -> None:
    app = create_app(Settings(database_url=database_url))  # the app opens its own store
    with TestClient(app, raise_server_exceptions=False, base_url=LOCAL_URL) as client:
        before = [line for line in metric_lines(client) if "database_errors_total{" in line]
        assert before == []
        engine = app.state.ctx.store.engine
        with engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE sessions RENAME TO sessions_away"))
        try:
            assert client.get(NATIVE).status_code >= 500
            assert client.get(NATIVE).status_code >= 500
        finally:
            with engine.begin() as conn:
                conn.execute(sa.text("ALTER TABLE sessions_away RENAME TO sessions"))
        lines = metric_lines(client)
        errors = [line for line in lines if line.startswith("convostore_database_errors_total{")]
        assert len(errors) == 1
        assert errors[0].startswith('convostore_database_errors_total{database="default",error="')
        assert float(errors[0].rsplit(" ", 1)[1]) == 2
        assert client.get(NATIVE).status_code == 200


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_reads_recover_when_the_database_drops_every_connection(database_url: str) -> None:
    """Reads skip the pool's liveness ping on PostgreSQL: a dropped connection must still cost
    nothing but a retry (the statement runs once more on a fresh one), never a failed request."""
    app = create_app(Settings(database_url=database_url))
    with TestClient(app, raise_server_exceptions=False, base_url=LOCAL_URL) as client:
        created = client.post(NATIVE, json={"id": "kept", "title": "still here"})
        assert created.status_code == 201
        for _ in range(3):  # warm every pool up
            assert client.get(NATIVE + "/kept?include_messages=5").status_code == 200
        killer = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
        with killer.connect() as conn:
            dropped = conn.execute(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar_one()
        killer.dispose()
        assert dropped >= 1
        for _ in range(3):
            answer = client.get(NATIVE + "/kept?include_messages=5")
            assert answer.status_code == 200, answer.text
            assert answer.json()["title"] == "still here"
        assert client.get(NATIVE).json()["data"][0]["id"] == "kept"


def test_metrics_token_and_off_switch(database_url: str, store: SqlStore) -> None:
    with TestClient(
        make_app(database_url, store, metrics_token="scrape-me"), base_url=LOCAL_URL
    ) as client:
        for headers in ({}, bearer("wrong"), bearer("scrape-me-not")):
            refused = client.get("/metrics", headers=headers)
            assert refused.status_code == 401
            assert refused.json()["error"]["type"] == "unauthenticated"
        lines = metric_lines(client, Authorization="Bearer scrape-me")
        assert any(line.startswith("convostore_build_info{") for line in lines)
    with TestClient(
        make_app(database_url, store, metrics_enabled=False), base_url=LOCAL_URL
    ) as client:
        assert client.get("/metrics").status_code == 404
        assert client.get("/v1/health").status_code == 200
