"""The real Alertmanager (Debian's prometheus-alertmanager) posting to the running daemon:
`amtool alert add` -> webhook -> SMS at the fake Twilio; the alert expires -> incident resolved."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from tests.e2e.daemon import (
    INTEGRATION_TOKEN,
    Daemon,
    free_port,
    running_daemon,
    spawn,
    stop_process,
)
from tests.helpers import ALICE

ALERTMANAGER = Path("/usr/bin/prometheus-alertmanager")
AMTOOL = Path("/usr/bin/amtool")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not (ALERTMANAGER.exists() and AMTOOL.exists()),
        reason="needs Debian's prometheus-alertmanager (apt-get install prometheus-alertmanager)",
    ),
]

CONFIG = """\
route:
  receiver: pager
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: pager
    webhook_configs:
      - url: {url}/integrations/payments-am
        send_resolved: true
        http_config:
          authorization:
            credentials: {token}
"""


@dataclass
class Alertmanager:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def amtool(self, *args: str) -> None:
        command = [str(AMTOOL), f"--alertmanager.url={self.url}", "alert", "add", *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
        assert done.returncode == 0, f"amtool failed: {done.stdout}{done.stderr}"

    def stop(self) -> None:
        stop_process(self.process)


def start_alertmanager(workdir: Path, daemon_url: str) -> Alertmanager:
    """Alertmanager on 127.0.0.1 below the ephemeral ports, no gossip, a temp storage path."""
    config = workdir / "alertmanager.yml"
    config.write_text(CONFIG.format(url=daemon_url, token=INTEGRATION_TOKEN))
    port = free_port()
    log = workdir / "alertmanager.log"
    process = spawn(
        [
            str(ALERTMANAGER),
            f"--config.file={config}",
            f"--storage.path={workdir / 'alertmanager-data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        log,
    )
    manager = Alertmanager(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"alertmanager exited {process.returncode}:\n{log.read_text()}")
        try:
            if requests.get(f"{manager.url}/-/ready", timeout=1).status_code == 200:
                return manager
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    manager.stop()
    raise AssertionError(f"alertmanager did not become ready:\n{log.read_text()}")


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    with running_daemon(tmp_path) as running:
        yield running


@pytest.fixture
def alertmanager(tmp_path: Path, daemon: Daemon) -> Iterator[Alertmanager]:
    manager = start_alertmanager(tmp_path, daemon.url)
    try:
        yield manager
    finally:
        manager.stop()


def rfc3339(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_it_pages_for_an_alertmanager_alert_and_resolves_when_it_expires(
    daemon: Daemon, alertmanager: Alertmanager
) -> None:
    alertmanager.amtool(
        "alertname=DiskFull", "severity=critical", "--annotation=summary=Disk / is full on db-1"
    )
    [sms] = daemon.twilio.wait_for_messages(1, timeout=30)
    assert sms["To"] == ALICE
    assert sms["Body"].startswith("[pager] #1 payments: DiskFull"), sms["Body"]
    incident = daemon.api("/incidents/1")
    assert (incident["status"], incident["summary"]) == ("triggered", "Disk / is full on db-1")

    # Expire it: the same labels with an end time in the past; Alertmanager sends "resolved".
    # Past by Alertmanager's clock, which is not ours when the CI moves ours: its own startsAt,
    # seconds ago by now, is the end.
    [firing] = requests.get(f"{alertmanager.url}/api/v2/alerts", timeout=5).json()
    assert firing["startsAt"].endswith("Z"), firing["startsAt"]
    started = datetime.fromisoformat(firing["startsAt"][:19]).replace(tzinfo=UTC)  # "...Z"
    alertmanager.amtool(
        "alertname=DiskFull",
        "severity=critical",
        f"--start={rfc3339(started - timedelta(minutes=1))}",
        f"--end={rfc3339(started)}",
    )
    try:
        daemon.wait_for(
            lambda: daemon.api("/incidents/1")["status"] == "resolved",
            timeout=30,
            what="the incident to resolve",
        )
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nalertmanager log:\n{alertmanager.log.read_text()}") from exc
    timeline = [entry["message"] for entry in daemon.api("/incidents/1")["timeline"]]
    assert timeline[0] == "opened by payments-am (alertmanager): DiskFull"
    assert timeline[-1] == "resolved by payments-am (all its alerts resolved)"
