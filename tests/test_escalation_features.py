"""Escalation beyond "page the on-call": page every member, round robin, ack timeouts, un-ack."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from freezegun import freeze_time

from pager.app import build_pager
from pager.domain.rotation_schema import parse_schedule
from pager.flows import incidents
from pager.flows.context import Pager
from pager.web import create_app
from tests.conftest import make_settings
from tests.helpers import ALICE, BOB, CAROL, payload, phone, receive, run_due

T0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
TEAM = """\
people:
  alice: {name: Alice Example, phone: "+447700900101", timezone: Europe/London}
  bob:   {name: Bob Example,   phone: "+447700900102", timezone: America/New_York}
  carol: {name: Carol Example, phone: "+447700900103", timezone: Europe/Berlin}
rotations:
  sre-primary: {timezone: Europe/London, start: 2026-01-05T09:00, shift: 1w, members: [alice, bob]}
  dba: {timezone: Europe/London, start: 2026-01-05T09:00, shift: 1w, members: [carol]}
policies:
  sre:
    ack_timeout: 30m
    steps:
      - targets: [rotation:sre-primary, rotation:dba]
        channels: [sms]
        wait: 5m
        round_robin: true
      - {targets: [members:sre-primary], channels: [sms], wait: 5m}
services:
  payments: {policy: sre}
"""


@pytest.fixture
def team(database_url: str) -> Iterator[tuple[Pager, FlaskClient]]:
    pager = build_pager(make_settings(database_url))
    schedule, problems = parse_schedule([("team.yaml", TEAM)])
    assert problems == [] and schedule is not None
    pager.rotations.schedule = schedule
    yield pager, create_app(pager).test_client()
    pager.db.dispose()


def open_incident(pager: Pager, key: str, at: datetime = T0) -> int:
    body = payload("alertmanager_firing.json")
    body["groupKey"] = key
    body["alerts"] = [dict(body["alerts"][0], fingerprint=key)]
    with freeze_time(at):
        [incident_id] = receive(pager, "payments-am", body, at).opened
        run_due(pager, at)
    return incident_id


def test_it_takes_turns_between_round_robin_targets_across_incidents(team) -> None:
    pager, _ = team
    first = open_incident(pager, "one")
    second = open_incident(pager, "two")
    # One target per incident, alternating: one incident to sre-primary (alice), one to dba.
    [to_alice] = [m.body for m in phone(pager, ALICE)]
    [to_carol] = [m.body for m in phone(pager, CAROL)]
    assert {to_alice.split(" ")[1], to_carol.split(" ")[1]} == {f"#{first}", f"#{second}"}


def test_it_pages_every_member_of_a_rotation(team) -> None:
    pager, _ = team
    open_incident(pager, "one")
    with freeze_time(T0 + timedelta(minutes=5)):
        run_due(pager, T0 + timedelta(minutes=5))
    assert len(phone(pager, BOB)) == 1  # bob is off this week, but step 2 pages every member


def test_it_escalates_again_when_an_ack_is_not_followed_by_a_resolve(team) -> None:
    pager, _ = team
    incident_id = open_incident(pager, "one")
    incidents.acknowledge(pager, incident_id, "Alice Example", "sms", T0 + timedelta(minutes=1))
    with freeze_time(T0 + timedelta(minutes=30)):
        run_due(pager, T0 + timedelta(minutes=30))
    assert incidents.view(pager, incident_id).status == "acknowledged"
    later = T0 + timedelta(minutes=31)
    with freeze_time(later):
        run_due(pager, later)
    view = incidents.view(pager, incident_id)
    assert view.status == "triggered"
    assert "acknowledged 30 min ago and not resolved: escalating again" in [
        e.message for e in view.timeline
    ]
    assert len(phone(pager, ALICE)) + len(phone(pager, CAROL)) == 2  # step 1 paged again


def test_it_unacknowledges_through_the_api(team) -> None:
    pager, client = team
    incident_id = open_incident(pager, "one")
    api = {"Authorization": "Bearer api-token"}
    with freeze_time(T0 + timedelta(minutes=1)):
        client.post(f"/api/v1/incidents/{incident_id}/ack", headers=api)
    with freeze_time(T0 + timedelta(minutes=2)):
        answer = client.post(
            f"/api/v1/incidents/{incident_id}/unack", headers=api, json={"by": "Dana"}
        )
        run_due(pager, T0 + timedelta(minutes=2))
    assert answer.json["status"] == "triggered"
    said = answer.json["timeline"][-1]["message"]
    assert said == "unacknowledged by api (for Dana): escalating again"
    assert len(phone(pager, ALICE)) + len(phone(pager, CAROL)) == 2
