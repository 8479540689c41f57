"""Rotation edits in the running daemon: a good edit takes effect, a bad one is refused and
the last good set keeps paging."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.e2e.daemon import API_TOKEN, BEARER, Daemon, running_daemon
from tests.helpers import ALICE, CAROL, payload, write_team_rotations

pytestmark = pytest.mark.e2e
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def rotations(tmp_path: Path) -> Path:
    return write_team_rotations(tmp_path / "rotations")


@pytest.fixture
def daemon(tmp_path: Path, rotations: Path) -> Iterator[Daemon]:
    with running_daemon(tmp_path, rotations=rotations) as running:
        yield running


def page(daemon: Daemon, key: str) -> str:
    body = payload("alertmanager_firing.json")
    body["groupKey"] = key
    body["alerts"] = [dict(body["alerts"][0], fingerprint=key)]
    assert daemon.post_alerts(body).status_code == 200
    count = len(daemon.twilio.messages)
    return str(daemon.twilio.wait_for_messages(count + 1)[-1]["To"])


def carol_covers_now(rotations: Path) -> None:
    now = datetime.now(LONDON).replace(second=0, microsecond=0)
    start = (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    end = (now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    (rotations / "overrides.yaml").write_text(
        f"overrides:\n  - {{rotation: sre-primary, person: carol, from: {start}, to: {end}}}\n"
    )


def reload(daemon: Daemon) -> requests.Response:
    return requests.post(
        f"{daemon.url}/api/v1/rotations/reload",
        headers={"Authorization": f"Bearer {API_TOKEN}"},
        timeout=10,
    )


def test_it_applies_a_good_edit_and_refuses_a_bad_one_while_paging_goes_on(
    daemon: Daemon, rotations: Path
) -> None:
    assert page(daemon, "before") == ALICE
    digest = daemon.api("/rotations")["digest"]

    carol_covers_now(rotations)  # picked up by the file watcher, no reload call
    daemon.wait_for(lambda: daemon.api("/rotations")["digest"] != digest, what="the watcher")
    assert page(daemon, "after-good-edit") == CAROL

    broken = rotations / "team.yaml"
    good_text = broken.read_text()
    broken.write_text(good_text.replace("members: [alice, bob]", "members: [alice, bobby]"))
    refused = reload(daemon)
    assert refused.status_code == 422
    [problem] = refused.json()["problems"]
    assert problem.startswith(f"{broken}:") and "unknown person 'bobby'" in problem
    ready = requests.get(f"{daemon.url}/readyz", headers=BEARER, timeout=5)
    assert ready.status_code == 200 and ready.json()["status"] == "degraded"
    assert ready.json()["checks"]["rotation_problems"] == [problem]
    metrics = requests.get(f"{daemon.url}/metrics", timeout=5).text
    assert "pager_rotations_valid 0.0" in metrics
    assert page(daemon, "while-broken") == CAROL  # the last good set still pages

    broken.write_text(good_text)
    assert reload(daemon).status_code == 200
    assert requests.get(f"{daemon.url}/readyz", timeout=5).json()["status"] == "ok"
