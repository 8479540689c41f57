"""Start the real daemon (`python -m pager serve`) in a subprocess against local fakes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests.fakes.twilio import FakeTwilio, bind_local_port
from tests.helpers import write_team_rotations
from tests.openapi_check import checked_response

TWILIO_NUMBER = "+15017122661"
INTEGRATION_TOKEN = "am-secret-from-env"
API_TOKEN = "api-secret-from-env"
BEARER = {"Authorization": f"Bearer {API_TOKEN}"}  # for /api/v1 and /readyz's details

CONFIG = """\
database_url: ${{PAGER_TEST_DB}}
rotations: {rotations}
public_url: {url}
api_tokens: ["${{PAGER_API_TOKEN}}"]
providers:
  - name: twilio
    type: twilio
    account_sid: ${{TWILIO_ACCOUNT_SID}}
    auth_token: ${{TWILIO_AUTH_TOKEN}}
    from: "{number}"
    api_base_url: {twilio_url}
    rate: unlimited  # the fake has no carrier behind it; a long code's default is 1/s
  - name: sandbox
    type: sandbox
    allow_with_real_providers: true  # these tests fail Twilio over to it on purpose
integrations:
  payments-am:
    service: payments
    source: alertmanager
    token: ${{PAYMENTS_AM_TOKEN}}
"""


@dataclass
class Daemon:
    url: str
    process: subprocess.Popen[bytes]
    twilio: FakeTwilio
    log: Path

    def post_alerts(self, body: dict[str, Any]) -> requests.Response:
        return self.post_alerts_with(body, None)

    def post_alerts_with(self, body: dict[str, Any], request_id: str | None) -> requests.Response:
        """The webhook, with an `X-Request-Id` when one is given."""
        headers = {"Authorization": f"Bearer {INTEGRATION_TOKEN}"}
        if request_id:
            headers["X-Request-Id"] = request_id
        return requests.post(
            f"{self.url}/integrations/payments-am", json=body, headers=headers, timeout=10
        )

    def api(self, path: str, method: str = "GET") -> Any:
        response = requests.request(
            method,
            f"{self.url}/api/v1{path}",
            headers={"Authorization": f"Bearer {API_TOKEN}"},
            timeout=10,
        )
        checked_response(response).raise_for_status()  # as docs/openapi.yaml says
        return response.json()

    def wait_for(self, predicate: Any, timeout: float = 10, what: str = "condition") -> Any:
        """Poll the daemon's API until `predicate()` is truthy (bounded; no fixed sleeps)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.02)
        raise AssertionError(
            f"timed out waiting for {what}; daemon log:\n{self.log.read_text()[-3000:]}"
        )

    def stop(self) -> None:
        stop_process(self.process)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it has not ended within 15 s."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def free_port() -> int:
    """A port below the ephemeral range that nothing listens on now."""
    with bind_local_port() as sock:
        port: int = sock.getsockname()[1]
    return port


@contextmanager
def running_daemon(workdir: Path, **options: Any) -> Iterator[Daemon]:
    """`pager serve` against a fake Twilio that reports every message delivered."""
    with FakeTwilio(auto_status="delivered") as twilio:
        daemon = start_daemon(workdir, twilio, **options)
        try:
            yield daemon
        finally:
            daemon.stop()


def daemon_env(workdir: Path, twilio: FakeTwilio, database_url: str | None) -> dict[str, str]:
    """The environment the config's ${VARS} come from (secrets never sit in the file)."""
    env = {
        **os.environ,
        "PAGER_TEST_DB": database_url or f"sqlite:///{workdir / 'pager.db'}",
        "PAGER_API_TOKEN": API_TOKEN,
        "TWILIO_ACCOUNT_SID": twilio.account_sid,
        "TWILIO_AUTH_TOKEN": twilio.auth_token,
        "PAYMENTS_AM_TOKEN": INTEGRATION_TOKEN,
    }
    env.pop("TWILIO_EDGE", None)
    env.pop("TWILIO_REGION", None)
    return env


# Every server process a test starts, so that none outlives its test (tests/conftest.py
# stops what a test left running, failed or not, and what is left at the end of the session).
_spawned: list[subprocess.Popen[bytes]] = []


def spawn(
    argv: list[str], log: Path, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start a server process for a test, its output in `log`."""
    with log.open("wb") as output:
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT)
    _spawned.append(process)
    return process


def spawned_count() -> int:
    return len(_spawned)


def stop_spawned_since(count: int) -> list[str]:
    """Stop the processes started after the first `count` that still run; their commands."""
    left = [process for process in _spawned[count:] if process.poll() is None]
    for process in left:
        stop_process(process)
    del _spawned[count:]
    return [" ".join(map(str, process.args)) for process in left]  # type: ignore[union-attr]


def start_process(
    command: str, args: list[str], workdir: Path, env: dict[str, str], log: Path
) -> subprocess.Popen[bytes]:
    return spawn([sys.executable, "-m", "pager", command, *args], log, cwd=workdir, env=env)


def start_daemon(
    workdir: Path,
    twilio: FakeTwilio,
    database_url: str | None = None,
    command: str = "serve",
    rotations: Path | None = None,
    extra_config: str = "",
    config_template: str = CONFIG,
    args: tuple[str, ...] = (),
) -> Daemon:
    """`pager serve` (or `pager web`, with `command="web"`) on a free port, ready to use.

    Without `rotations`, the fixture team with Alice on call now (`write_team_rotations`).
    `config_template` replaces `CONFIG` (the same `{placeholders}`); `args` go on its command
    line."""
    if rotations is None:
        rotations = write_team_rotations(workdir / "rotations")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = workdir / "pager.yaml"
    config.write_text(
        config_template.format(
            rotations=rotations, url=url, number=TWILIO_NUMBER, twilio_url=twilio.base_url
        )
        + extra_config
    )
    env = daemon_env(workdir, twilio, database_url)
    log = workdir / f"{command}.log"
    argv = ["--config", str(config), "--bind", f"127.0.0.1:{port}", *args]
    if command == "web":
        argv += ["--workers", "2"]
    process = start_process(command, argv, workdir, env, log)
    daemon = Daemon(url, process, twilio, log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{command} exited {process.returncode}:\n{log.read_text()}")
        try:
            if requests.get(f"{url}/readyz", timeout=5).status_code == 200:
                return daemon
        except requests.RequestException:  # not listening yet, or slow on a busy machine
            pass
        time.sleep(0.05)
    daemon.stop()
    raise AssertionError(f"{command} did not become ready:\n{log.read_text()}")
