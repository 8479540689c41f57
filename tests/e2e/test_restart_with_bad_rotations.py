"""A restart with rotation files that do not validate (here a YAML alias bomb) still pages,
from the last good set kept in the database, and says so loudly."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.e2e.daemon import start_daemon
from tests.fakes.twilio import FakeTwilio
from tests.helpers import ALICE, payload, write_team_rotations
from tests.test_alias_bomb import alias_bomb

pytestmark = pytest.mark.e2e


def test_it_pages_from_the_stored_set_when_restarted_with_an_alias_bomb(tmp_path: Path) -> None:
    rotations = write_team_rotations(tmp_path / "rotations")
    with FakeTwilio(auto_status="delivered") as twilio:
        first = start_daemon(tmp_path, twilio, rotations=rotations)
        first.stop()  # it stored the set that validated
        (rotations / "bomb.yaml").write_text(alias_bomb())
        daemon = start_daemon(tmp_path, twilio, rotations=rotations)
        try:
            ready = requests.get(f"{daemon.url}/readyz", timeout=5)
            assert ready.json()["status"] == "degraded"
            assert daemon.post_alerts(payload("alertmanager_firing.json")).status_code == 200
            [sms] = twilio.wait_for_messages(1, timeout=20)
            assert sms["To"] == ALICE
            log = daemon.log.read_text()
            assert "event=rotations_from_database" in log
            assert "bomb.yaml:" in log and "aliases expand to more than" in log
        finally:
            daemon.stop()
