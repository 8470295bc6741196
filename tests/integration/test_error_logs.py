"""Logs never hold conversation content, even when the database fails while storing it.

The database is made to refuse a message holding a marker (a CHECK constraint on PostgreSQL,
whose error DETAIL quotes the whole failing row; a trigger on SQLite), and an append carrying
that marker is sent. The answer is a plain 500 in the surface's shape, handled rather than
raised on to the ASGI server (whose own log would print the exception), and neither the server's
loggers, nor the access log, nor anything written to stdout or stderr holds the content, the
Idempotency-Key, or the statement's parameters.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from convostore.config import Settings
from convostore.server import create_app
from convostore.server.middleware.access_log import ACCESS_LOGGER, flush_access_log
from convostore.storage import SqlStore, open_store
from tests.conftest import LOCAL_URL

MARKER = "REFUSED"


def _refuse_marked_messages(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(
                sa.text(
                    "ALTER TABLE messages ADD CONSTRAINT refuse_marked"
                    f" CHECK (position('{MARKER}' in content) = 0)"
                )
            )
        else:
            conn.execute(
                sa.text(
                    "CREATE TRIGGER refuse_marked BEFORE INSERT ON messages"
                    f" WHEN instr(NEW.content, '{MARKER}') > 0"
                    " BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )


@pytest.fixture
def refusing_store(blank_database_url: str) -> Iterator[SqlStore]:
    opened = open_store(blank_database_url)
    _refuse_marked_messages(opened.engine)
    yield opened
    opened.close()


@pytest.fixture
def every_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every record of every logger, the access log (which does not propagate) included."""
    caplog.set_level(logging.DEBUG)
    access = logging.getLogger(ACCESS_LOGGER)
    access.addHandler(caplog.handler)
    try:
        yield caplog
    finally:
        access.removeHandler(caplog.handler)


def test_a_failed_append_logs_no_content(
    refusing_store: SqlStore,
    blank_database_url: str,
    every_log: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    content = f"{MARKER} the patient's diagnosis {secrets.token_hex(8)}"
    key = f"key-{secrets.token_hex(8)}"
    app = create_app(Settings(database_url=blank_database_url), store=refusing_store)
    # an exception raised on to the server fails the test
    with TestClient(app, base_url=LOCAL_URL) as client:
        answer = client.post(
            "/v1/sessions/s1/messages",
            json={"messages": [{"role": "user", "content": content}], "create_if_missing": True},
            headers={"Idempotency-Key": key},
        )
        assert client.get("/v1/sessions/s1").status_code == 404  # nothing was written
        flush_access_log()
    assert answer.status_code == 500
    assert answer.json() == {
        "error": {"type": "internal_error", "message": "internal server error (IntegrityError)"}
    }
    logged = every_log.text
    assert "unhandled database error on POST /v1/sessions/s1/messages: IntegrityError" in logged
    assert '"status":500' in logged  # the access line
    printed = capfd.readouterr()
    for text in (logged, printed.out, printed.err, answer.text):
        assert content not in text and "diagnosis" not in text
        assert key not in text
        assert "[parameters:" not in text and "Failing row" not in text
