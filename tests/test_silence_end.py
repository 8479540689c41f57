"""When a maintenance window ends (by hand, on its own, planned in the rotation files), every
incident it silenced that is still triggered starts its policy at step 1 at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from freezegun import freeze_time

from pager.app import build_pager
from pager.cli import main
from pager.domain.rotation_schema import parse_schedule
from pager.flows import escalate
from pager.flows.context import Pager
from pager.flows.rotations import load_rotations
from pager.store import incidents, outbox
from pager.web import create_app
from tests.conftest import ROTATIONS, make_settings
from tests.helpers import ALICE, payload, phone, run_due

API = {"Authorization": "Bearer api-token"}
AM = {"Authorization": "Bearer am-token"}
T0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # Alice's week in tests/fixtures/rotations
ENDED = "maintenance window ended: paging"
PLANNED = (
    "maintenance:\n"
    "  - {service: payments, from: 2026-11-25T02:00, to: 2026-11-25T04:00,\n"
    "     timezone: Europe/London, reason: planned db upgrade}\n"
)


@pytest.fixture
def web(database_url: str) -> Iterator[tuple[Pager, FlaskClient]]:
    pager = build_pager(make_settings(database_url))
    yield pager, create_app(pager).test_client()
    pager.db.dispose()


def silence(client: FlaskClient, **body: Any) -> int:
    created = client.post("/api/v1/silences", json={"service": "payments", **body}, headers=API)
    assert created.status_code == 201, created.json
    silence_id: int = created.json["id"]
    return silence_id


def alert(client: FlaskClient, key: str) -> int:
    body = payload("alertmanager_firing.json")
    body["groupKey"] = key
    body["alerts"] = [dict(a, fingerprint=f"{key}-{i}") for i, a in enumerate(body["alerts"])]
    response = client.post("/integrations/payments-am", json=body, headers=AM)
    [incident_id] = response.json["opened"]
    return incident_id


def timeline(client: FlaskClient, incident_id: int) -> list[str]:
    detail = client.get(f"/api/v1/incidents/{incident_id}", headers=API).json
    return [entry["message"] for entry in detail["timeline"]]


def run_at(pager: Pager, at: datetime) -> None:
    with freeze_time(at):
        run_due(pager, at)


def next_alarm(pager: Pager) -> datetime | None:
    """The deadline the runner sets its alarm at (Runner._alarm_at_next_deadline)."""
    with pager.db.read() as session:
        return incidents.next_escalation_due(session)


def assert_paged_from_step_1(client: FlaskClient, incident_id: int) -> None:
    lines = timeline(client, incident_id)
    assert lines.count(ENDED) == 1
    assert lines[lines.index(ENDED) + 1].startswith("step 1: paging Alice Example")


def test_it_pages_from_step_1_when_a_window_runs_out(web) -> None:
    pager, client = web
    with freeze_time(T0):
        silence(client, duration_minutes=60)
        incident_id = alert(client, "during")
        alert_again = client.post(  # Alertmanager's re-send joins the silent incident
            "/integrations/payments-am",
            json=dict(payload("alertmanager_firing.json"), groupKey="during"),
            headers=AM,
        )
        assert alert_again.json["opened"] == []
    run_at(pager, T0 + timedelta(minutes=59, seconds=59))
    assert phone(pager, ALICE) == []
    end = T0 + timedelta(hours=1)
    assert next_alarm(pager) == end  # the runner wakes at the window's end, also after a restart
    run_at(pager, end)
    assert len(phone(pager, ALICE)) == 1
    assert_paged_from_step_1(client, incident_id)
    assert next_alarm(pager) == end + timedelta(minutes=5)  # step 2 after step 1's wait


def test_it_pages_at_once_when_a_window_is_ended_through_the_api(web) -> None:
    pager, client = web
    with freeze_time(T0):
        silence_id = silence(client, duration_minutes=60)
        incident_id = alert(client, "during")
        run_due(pager, T0)
    ended_at = T0 + timedelta(minutes=10)
    with freeze_time(ended_at):
        assert client.delete(f"/api/v1/silences/{silence_id}", headers=API).status_code == 200
    assert next_alarm(pager) == ended_at
    run_at(pager, ended_at)
    assert len(phone(pager, ALICE)) == 1
    assert_paged_from_step_1(client, incident_id)


def test_it_pages_at_once_when_a_window_is_ended_with_the_cli(web, database_url, tmp_path) -> None:
    pager, client = web
    config = tmp_path / "pager.yaml"
    config.write_text(f'database_url: "{database_url}"\nrotations: {ROTATIONS}\n')
    runner = CliRunner()
    with freeze_time(T0):
        added = runner.invoke(
            main, ["silence", "add", "payments", "--for", "1h", "--config", str(config)]
        )
        assert added.exit_code == 0, added.output
        incident_id = alert(client, "during")
        run_due(pager, T0)
    ended_at = T0 + timedelta(minutes=10)
    with freeze_time(ended_at):
        ended = runner.invoke(main, ["silence", "end", "1", "--config", str(config)])
        assert ended.exit_code == 0, ended.output
    run_at(pager, ended_at)
    assert len(phone(pager, ALICE)) == 1
    assert_paged_from_step_1(client, incident_id)


def test_it_pages_when_a_window_planned_in_the_rotation_files_ends(web) -> None:
    pager, client = web
    text = (ROTATIONS / "team.yaml").read_text() + PLANNED
    pager.rotations.schedule, problems = parse_schedule([("team.yaml", text)])
    assert problems == []
    with freeze_time(T0):
        incident_id = alert(client, "planned")
        run_due(pager, T0)
    assert phone(pager, ALICE) == []
    end = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
    assert next_alarm(pager) == end
    run_at(pager, end)
    assert len(phone(pager, ALICE)) == 1
    assert_paged_from_step_1(client, incident_id)


def test_it_pages_at_once_when_new_rotation_files_end_a_planned_window(
    database_url: str, tmp_path: Path
) -> None:
    team = (ROTATIONS / "team.yaml").read_text()
    (tmp_path / "team.yaml").write_text(team + PLANNED)
    with freeze_time(T0):
        pager = build_pager(make_settings(database_url, rotations=tmp_path))
    try:
        client = create_app(pager).test_client()
        with freeze_time(T0):
            incident_id = alert(client, "planned")
        edited = T0 + timedelta(minutes=20)
        (tmp_path / "team.yaml").write_text(team)  # the upgrade was called off
        with freeze_time(edited):
            load_rotations(pager, edited, force=False)
        assert next_alarm(pager) == edited
        run_at(pager, edited)
        assert len(phone(pager, ALICE)) == 1
        assert_paged_from_step_1(client, incident_id)
    finally:
        pager.db.dispose()


def test_it_pages_only_when_the_last_of_two_overlapping_windows_ends(web) -> None:
    pager, client = web
    with freeze_time(T0):
        silence(client, duration_minutes=60)
        second = silence(client, starts_at="2026-11-25T03:30:00Z", ends_at="2026-11-25T05:00:00Z")
        incident_id = alert(client, "during")
    first_end = T0 + timedelta(hours=1)
    run_at(pager, first_end)
    assert phone(pager, ALICE) == []
    assert next_alarm(pager) == T0 + timedelta(hours=2)  # held for the second window's end
    ended_at = T0 + timedelta(hours=1, minutes=30)
    with freeze_time(ended_at):
        client.delete(f"/api/v1/silences/{second}", headers=API)
    run_at(pager, ended_at)
    assert len(phone(pager, ALICE)) == 1
    assert_paged_from_step_1(client, incident_id)


def test_it_pages_only_for_incidents_still_triggered_when_the_window_ends(web) -> None:
    pager, client = web
    with freeze_time(T0):
        silence(client, duration_minutes=60)
        acknowledged, resolved = alert(client, "acked"), alert(client, "resolved")
        triggered = alert(client, "triggered")
        client.post(f"/api/v1/incidents/{acknowledged}/ack", headers=API)
        client.post(f"/api/v1/incidents/{resolved}/resolve", headers=API)
    for minutes in (60, 61):
        run_at(pager, T0 + timedelta(minutes=minutes))
    [sms] = phone(pager, ALICE)
    assert sms.body.startswith(f"[pager] #{triggered} ")
    assert ENDED not in timeline(client, acknowledged) + timeline(client, resolved)
    assert_paged_from_step_1(client, triggered)


def test_it_starts_paging_once_when_two_runners_see_the_window_end(web) -> None:
    pager, client = web
    with freeze_time(T0):
        silence(client, duration_minutes=60)
        incident_ids = [alert(client, f"g{i}") for i in range(10)]
    end = T0 + timedelta(hours=1)
    start = threading.Barrier(2)
    ran: list[int] = []

    def runner() -> None:
        start.wait()
        ran.append(escalate.escalate_due(pager, end))

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(ran) == 10
    with pager.db.transaction() as session:
        assert len(outbox.due(session, end, 100)) == 10  # one SMS per incident, not two
    for incident_id in incident_ids:
        assert timeline(client, incident_id).count(ENDED) == 1
