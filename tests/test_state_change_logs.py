"""One structured log line per state change: ack, unack, resolve, escalation step, silence
added and ended, rotations loaded, valid again, and a reload that changed nothing."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from pathlib import Path

import pytest

from pager.flows import incidents, silences
from pager.flows.context import Pager
from pager.flows.rotations import load_rotations
from tests.test_paging import T0, open_and_page


def events(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [m.split()[0] for m in caplog.messages if m.startswith("event=")]


def test_it_logs_each_incident_state_change_once(pager: Pager, caplog) -> None:
    caplog.set_level(logging.INFO, logger="pager")
    incident_id = open_and_page(pager)
    incidents.acknowledge(pager, incident_id, "Alice", "api", T0)
    incidents.unacknowledge(pager, incident_id, "Bob", T0 + timedelta(minutes=1))
    incidents.resolve(pager, incident_id, "Carol", "dashboard", T0 + timedelta(minutes=2))
    changes = [e for e in events(caplog) if e.startswith("event=incident_")]
    assert changes == [
        "event=incident_acknowledged",
        "event=incident_unacknowledged",
        "event=incident_resolved",
    ]
    assert "event=escalation_step" in events(caplog)
    resolved = next(m for m in caplog.messages if m.startswith("event=incident_resolved"))
    assert resolved == (
        f"event=incident_resolved incident={incident_id} service=payments by='Carol' "
        "via='dashboard'"
    )


def test_it_logs_a_silence_added_and_ended(pager: Pager, caplog) -> None:
    caplog.set_level(logging.INFO, logger="pager")
    view = silences.add_silence(pager, "payments", T0, T0 + timedelta(hours=1), "db", "ops", T0)
    silences.end_silence(pager, view.id, T0 + timedelta(minutes=5))
    assert [e for e in events(caplog) if e.startswith("event=silence_")] == [
        "event=silence_added",
        "event=silence_ended",
    ]


def test_it_logs_rotations_valid_again_and_a_reload_that_changed_nothing(
    pager: Pager, caplog, tmp_path: Path
) -> None:
    from dataclasses import replace

    from tests.helpers import write_team_rotations

    rotations = write_team_rotations(tmp_path / "rotations")
    pager.settings = replace(pager.settings, rotations=rotations)
    caplog.set_level(logging.INFO, logger="pager")
    load_rotations(pager, T0)
    load_rotations(pager, T0)
    good = (rotations / "team.yaml").read_text()
    (rotations / "team.yaml").write_text(good.replace("members: [alice, bob]", "members: [al]"))
    load_rotations(pager, T0)
    (rotations / "team.yaml").write_text(good)
    load_rotations(pager, T0)
    told = [e for e in events(caplog) if re.match(r"event=rotations_", e)]
    assert told == [
        "event=rotations_loaded",
        "event=rotations_unchanged",
        "event=rotations_invalid",
        "event=rotations_valid_again",
    ]
