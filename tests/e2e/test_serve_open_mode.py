"""A real `convostore serve` keeps open mode local: no bind on every interface without keys, no
answer to requests addressed to other names, no reopening once a key has existed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_server_process import (
    child_env,
    convostore_command,
    free_port,
    running_server,
)

pytestmark = pytest.mark.slow

REFUSAL_TIMEOUT_S = 20.0


def serve(tmp_path: Path, *args: str) -> list[str]:
    database_url = f"sqlite:///{tmp_path / 'open.db'}"
    return [*convostore_command(), "serve", "--database", database_url, *args]


@pytest.mark.parametrize("how", ["option", "environment"])
def test_an_empty_host_without_keys_is_refused(tmp_path: Path, how: str) -> None:
    """`--host ""` (or `CONVOSTORE_HOST=`) makes uvicorn listen on every interface."""
    env = child_env()
    port = ["--port", str(free_port())]
    if how == "option":
        command = serve(tmp_path, "--host", "", *port)
    else:
        env["CONVOSTORE_HOST"] = ""
        command = serve(tmp_path, *port)
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        output, _ = process.communicate(timeout=REFUSAL_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate(timeout=5)
        pytest.fail(f"serve started on every interface with no key:\n{output.decode()}")
    assert process.returncode != 0
    text = output.decode()
    assert "refusing to listen on" in text and "every interface" in text, text
    assert "Traceback" not in text


def test_serve_refuses_other_host_names_and_stays_closed_after_revocation(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'e2e.db'}"
    with running_server(tmp_path, database_url) as base_url:
        port = base_url.rsplit(":", 1)[1]
        with httpx.Client(base_url=base_url, timeout=10.0) as http:
            assert http.get("/v1/sessions").status_code == 200  # open mode, Host 127.0.0.1
            assert http.get("/v1/sessions", headers={"Host": f"localhost:{port}"}).is_success
            rebound = http.post(
                "/v1/sessions", json={"id": "x"}, headers={"Host": f"evil.example:{port}"}
            )
            assert rebound.status_code == 401, rebound.text
            assert rebound.json()["error"]["type"] == "unauthenticated"
            assert http.get("/v1/sessions/x").status_code == 404

            created = http.post("/v1/keys", json={"role": "admin"}).json()
            headers = {"Authorization": f"Bearer {created['key']}"}
            assert http.delete(f"/v1/keys/{created['id']}", headers=headers).status_code == 200
            assert http.get("/v1/sessions").status_code == 401
            assert http.get("/sessions").json() == {"detail": "Authorization header required"}
    with running_server(tmp_path, database_url) as base_url:  # nor after a restart
        assert httpx.get(f"{base_url}/v1/sessions", timeout=10.0).status_code == 401
