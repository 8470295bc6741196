"""Driving `wrk` against a loopback server and reading back what it measured.

Every run is bounded (duration, connections, a subprocess timeout) and targets 127.0.0.1 only.
Each case becomes a small Lua script: it rotates through a list of request paths (and, for
appends, builds a distinct JSON body per request from a counter), and on exit prints one JSON line
with the request count, duration, latency percentiles and error counts, so nothing depends on
parsing wrk's human-readable report.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

WRK = "/usr/bin/wrk"
MARK = "BENCH_JSON "

_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%s{"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\\n',
    MARK, summary.requests, summary.duration, summary.bytes, latency:percentile(50),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
"""

_ROTATE = """
local n = 0
request = function()
  n = n + 1
  local path = paths[(n - 1) % #paths + 1]
  if body_head == nil then
    return wrk.format(method, path)
  end
  return wrk.format(method, path, nil, body_head .. n .. body_tail)
end
"""


@dataclass(frozen=True)
class Requests:
    """What a case sends: a method, paths to rotate through, and for POSTs a body around a counter.

    The body is `body_head + <request number> + body_tail`, so every request differs.
    """

    method: str
    paths: tuple[str, ...]
    body_head: str | None = None
    body_tail: str = ""
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class LoadResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    non_2xx: int


def wrk_available() -> bool:
    return Path(WRK).exists() or shutil.which("wrk") is not None


def _lua_string(text: str) -> str:
    """A Lua string literal; for ASCII text a JSON string literal is one."""
    if not text.isascii():
        raise ValueError("request paths and bodies must be ASCII (percent-encode the rest)")
    return json.dumps(text)


def lua_script(requests: Requests) -> str:
    paths = ",\n".join(f"  {_lua_string(p)}" for p in requests.paths)
    lines = [
        f"MARK = {_lua_string(MARK)}",
        f"method = {_lua_string(requests.method)}",
        f"paths = {{\n{paths}\n}}",
        f"body_head = {_lua_string(requests.body_head) if requests.body_head else 'nil'}",
        f"body_tail = {_lua_string(requests.body_tail)}",
    ]
    if requests.body_head is not None:
        lines.append('wrk.headers["Content-Type"] = "application/json"')
    lines += [f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in requests.headers]
    return "\n".join(lines) + _ROTATE + _DONE


def run_wrk(
    base_url: str,
    requests: Requests,
    *,
    connections: int,
    duration_s: float,
    script_path: Path,
    timeout_s: float = 10.0,
) -> LoadResult:
    """One bounded wrk run with a single wrk thread (the server gets the other core)."""
    if not base_url.startswith("http://127.0.0.1:"):
        raise ValueError("load is only ever sent to a loopback server")
    script_path.write_text(lua_script(requests))
    command = [
        WRK,
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(duration_s))}s",
        f"--timeout={round(timeout_s)}s",
        "-s",
        str(script_path),
        base_url,
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=duration_s + timeout_s + 30, check=False
    )
    return parse_wrk(done.stdout, done.stderr)


def parse_wrk(stdout: str, stderr: str = "") -> LoadResult:
    """The JSON line our `done` callback printed, plus wrk's count of non-2xx/3xx answers."""
    line = next((ln for ln in stdout.splitlines() if ln.startswith(MARK)), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{stdout}\n{stderr}")
    data = json.loads(line[len(MARK) :])
    seconds = data["duration_us"] / 1e6
    errors = sum(data[k] for k in ("connect", "read", "write", "timeout"))
    return LoadResult(
        requests=data["requests"],
        seconds=seconds,
        rps=data["requests"] / seconds if seconds else 0.0,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        errors=errors,
        non_2xx=data["status"],
    )
