"""The real daemon pages a silenced incident when its maintenance window runs out: the
window's end is a deadline the runner wakes for."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from tests.e2e.daemon import API_TOKEN, Daemon, running_daemon
from tests.helpers import ALICE, payload

pytestmark = pytest.mark.e2e

WINDOW = timedelta(seconds=3)
# One member: right at any instant, whatever today's date (no freezegun in a subprocess).
ONE_PERSON = """\
people:
  alice:
    {name: Alice Example, phone: "+447700900101", timezone: Europe/London, handoff_notices: false}
rotations:
  sre-primary: {timezone: Europe/London, start: 2026-01-05T09:00, shift: 1w, members: [alice]}
policies:
  sre:
    repeat: 0
    steps:
      - {targets: [rotation:sre-primary], channels: [sms], wait: 5m}
services:
  payments: {policy: sre}
"""


@pytest.fixture
def daemon(tmp_path: Path, database_url: str) -> Iterator[Daemon]:
    rotations = tmp_path / "rotations"
    rotations.mkdir()
    (rotations / "team.yaml").write_text(ONE_PERSON)
    with running_daemon(tmp_path, database_url=database_url, rotations=rotations) as running:
        yield running


def test_it_pages_a_silenced_incident_when_its_window_runs_out(daemon: Daemon) -> None:
    ends_at = datetime.now(UTC) + WINDOW
    created = requests.post(
        f"{daemon.url}/api/v1/silences",
        json={"service": "payments", "ends_at": ends_at.isoformat(), "reason": "e2e"},
        headers={"Authorization": f"Bearer {API_TOKEN}"},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    response = daemon.post_alerts(payload("alertmanager_firing.json"))
    [incident_id] = response.json()["opened"]
    assert daemon.twilio.messages == []

    [sms] = daemon.twilio.wait_for_messages(1, timeout=WINDOW.total_seconds() + 5)
    paged_at = datetime.now(UTC)
    assert sms["To"] == ALICE
    assert paged_at >= ends_at  # not during the window
    timeline = [e["message"] for e in daemon.api(f"/incidents/{incident_id}")["timeline"]]
    assert "maintenance window ended: paging" in timeline
    assert "event=maintenance_window_ended" in daemon.log.read_text()
