"""Load generators: wrk (Debian's, with a Lua script that makes every request a new group of
new alerts) for throughput, and bench.client (asyncio, in a subprocess) when each request's
timing matters."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from bench.payloads import KEY, template

WRK_THREADS = 2
WRK_CONNECTIONS = 16

_LUA = """\
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(token)s"
local body = [==[%(template)s]==]
local prefix = "%(prefix)s"
local made = 0
local count = 0
id = 0

function setup(thread)
  thread:set("id", made)
  made = made + 1
end

function request()
  count = count + 1
  local key = prefix .. "-" .. id .. "-" .. count
  return wrk.format(nil, nil, nil, (body:gsub("%(placeholder)s", key)))
end
"""

# Every script's last part: one RESULT line of JSON that `_run_wrk` reads.
_DONE = """
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\nRESULT {"requests":%d,"duration_us":%d,"status":%d,"connect":%d,"read":%d,' ..
    '"write":%d,"timeout":%d,"p50_us":%d,"p99_us":%d}\\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""

# POST one form to a fake Twilio's Messages.json, as the SDK does (its own ceiling).
_TWILIO_LUA = """\
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic %(credentials)s"
wrk.body = "%(form)s"
"""


@dataclass(frozen=True)
class Throughput:
    requests: int
    seconds: float
    failed: int  # non-2xx answers and socket errors
    p50_ms: float
    p99_ms: float

    @property
    def ok_per_second(self) -> float:
        """Requests answered 2xx per second (failures don't count as throughput)."""
        return (self.requests - self.failed) / self.seconds if self.seconds else 0.0


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def wrk(url: str, token: str, alerts: int, seconds: float, prefix: str) -> Throughput:
    """POST new Alertmanager groups to `url` for `seconds` with wrk; each request is new."""
    script = _LUA % {
        "token": token,
        "template": template(alerts),
        "prefix": prefix,
        "placeholder": KEY,
    }
    return _run_wrk(url, script, seconds, WRK_CONNECTIONS)


def wrk_twilio_messages(
    base_url: str, account_sid: str, auth_token: str, seconds: float, connections: int
) -> Throughput:
    """POST SMS to a fake Twilio's Messages.json for `seconds`, `connections` at once."""
    credentials = base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
    form = urlencode({"To": "+447700900999", "From": "+15005550006", "Body": "bench ceiling"})
    script = _TWILIO_LUA % {"credentials": credentials, "form": form}
    url = f"{base_url}/2010-04-01/Accounts/{account_sid}/Messages.json"
    return _run_wrk(url, script, seconds, connections)


def _run_wrk(url: str, script: str, seconds: float, connections: int) -> Throughput:
    """wrk's figures for `script` (its `done` added) against `url`, 2 threads."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script + _DONE)
    try:
        command = [
            "wrk",
            f"-t{WRK_THREADS}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            lua.name,
            url,
        ]
        out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    finally:
        Path(lua.name).unlink()
    line = next((x for x in out.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{out.stdout}\n{out.stderr}")
    r = json.loads(line.removeprefix("RESULT "))
    failed = r["status"] + r["connect"] + r["read"] + r["write"] + r["timeout"]
    return Throughput(
        r["requests"], r["duration_us"] / 1e6, failed, r["p50_us"] / 1000, r["p99_us"] / 1000
    )


@dataclass(frozen=True)
class Sent:
    key: str
    due: float  # time.time() the request was due (open loop) or sent (closed loop)
    answered: float
    status: int | str
    opened: list[int]


Job = tuple[str, str, int]  # integration, group key, alerts in the body


def post_alerts(
    url: str,
    token: str,
    jobs: Iterable[Job],
    *,
    rate: float | None = None,
    concurrency: int = 16,
    within: float | None = None,
) -> list[Sent]:
    """Post each job's webhook through bench.client (see its docstring for the two modes);
    with `within` seconds, closed-loop jobs not started by then are left out."""
    spec = {
        "url": url,
        "token": token,
        "jobs": [list(job) for job in jobs],
        "rate": rate,
        "concurrency": concurrency,
        "stop_at": time.time() + within if within else None,
    }
    out = subprocess.run(
        [sys.executable, "-m", "bench.client"],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    return [Sent(*row) for row in json.loads(out.stdout)]


def throughput_of(sent: list[Sent]) -> float:
    """2xx answers per second over the span of the run."""
    ok = [s for s in sent if s.status == 200]
    if len(ok) < 2:
        return 0.0
    span = max(s.answered for s in ok) - min(s.due for s in sent)
    return len(ok) / span if span > 0 else 0.0
