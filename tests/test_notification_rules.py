"""Per-person notification rules in the paging loop: a text at once, a call minutes later
only while nobody has acknowledged, and the low urgency rules for low urgency incidents."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from pager.app import build_pager
from pager.config import IntegrationSettings
from pager.domain.rotation_schema import parse_schedule
from pager.flows import incidents
from pager.flows.context import Pager
from pager.store import outbox
from pager.store.models import Notification
from tests.conftest import make_settings
from tests.helpers import ALICE, BOB, CAROL, payload, phone, receive, run_due

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # midday in London: low urgency pages at once
MINUTE = timedelta(minutes=1)
TEAM = """\
people:
  alice:
    name: Alice Example
    phone: "+447700900101"
    timezone: Europe/London
    notify:
      high: [sms, voice after 2m]
      low: [sms]
  bob:   {name: Bob Example,   phone: "+447700900102", timezone: Europe/London}
  carol: {name: Carol Example, phone: "+447700900103", timezone: Europe/Berlin,
          notify: [voice]}
rotations:
  sre-primary: {timezone: Europe/London, start: 2026-01-05T09:00, shift: 1w, members: [alice]}
policies:
  sre:
    steps:
      - {targets: [rotation:sre-primary, person:bob], wait: 10m}
      - {targets: [person:carol], channels: [sms], wait: 10m}
services:
  payments: {policy: sre}
"""


@pytest.fixture
def team(database_url: str) -> Iterator[Pager]:
    integration = IntegrationSettings(
        "payments-am",
        "payments",
        "alertmanager",
        "am-token",
        urgency={"critical": "high", "warning": "low"},
    )
    settings = replace(make_settings(database_url), integrations={"payments-am": integration})
    pager = build_pager(settings)
    schedule, problems = parse_schedule([("team.yaml", TEAM)])
    assert problems == [] and schedule is not None
    pager.rotations.schedule = schedule
    yield pager
    pager.db.dispose()


def open_incident(pager: Pager, severity: str = "critical") -> int:
    body = payload("alertmanager_firing.json")
    body["alerts"] = [body["alerts"][0]]
    body["alerts"][0]["labels"]["severity"] = severity
    with freeze_time(T0):
        [incident_id] = receive(pager, "payments-am", body, T0).opened
        run_due(pager, T0)
    return incident_id


def run_at(pager: Pager, at: datetime) -> None:
    with freeze_time(at):
        run_due(pager, at)


def channels(pager: Pager, number: str) -> list[str]:
    return [message.channel for message in phone(pager, number)]


def timeline(pager: Pager, incident_id: int) -> list[str]:
    return [entry.message for entry in incidents.view(pager, incident_id).timeline]


def test_it_texts_at_once_and_calls_two_minutes_later_while_unacknowledged(team) -> None:
    incident_id = open_incident(team)

    assert channels(team, ALICE) == ["sms"]
    assert channels(team, BOB) == ["sms"]  # no rules, a step without channels: a text
    assert "step 1: paging Alice Example by sms now, voice at +2m; Bob Example by sms" in (
        timeline(team, incident_id)
    )
    with team.db.transaction() as session:
        assert outbox.next_due(session) == T0 + 2 * MINUTE  # the runner wakes for the call
    run_at(team, T0 + 2 * MINUTE - timedelta(seconds=1))
    assert channels(team, ALICE) == ["sms"]
    run_at(team, T0 + 2 * MINUTE)
    assert channels(team, ALICE) == ["sms", "voice"]
    assert channels(team, BOB) == ["sms"]


def test_it_does_not_call_when_acknowledged_within_two_minutes(team) -> None:
    incident_id = open_incident(team)

    incidents.acknowledge(team, incident_id, "Alice Example", "sms", T0 + MINUTE)
    run_at(team, T0 + 2 * MINUTE)
    run_at(team, T0 + 10 * MINUTE)

    assert channels(team, ALICE) == ["sms"]
    assert timeline(team, incident_id)[-2:] == [
        "not sent: call to Alice Example (due 12:02:00 UTC)",
        "acknowledged by Alice Example (sms)",
    ]
    with team.db.transaction() as session:
        calls = session.query(Notification).filter_by(channel="voice").all()
        assert [(n.person, n.status) for n in calls] == [("alice", "cancelled")]


def test_it_does_not_call_for_a_step_paged_before_an_ack_that_was_then_undone(team) -> None:
    incident_id = open_incident(team)

    incidents.acknowledge(team, incident_id, "Alice Example", "api", T0 + MINUTE / 2)
    incidents.unacknowledge(team, incident_id, "Dana", T0 + MINUTE)
    run_at(team, T0 + MINUTE)  # escalating again from step 1: a new text, a new call at +2m
    run_at(team, T0 + 2 * MINUTE)
    assert channels(team, ALICE) == ["sms", "sms"]
    run_at(team, T0 + 3 * MINUTE)
    assert channels(team, ALICE) == ["sms", "sms", "voice"]


def test_it_uses_the_low_urgency_rules_for_a_low_urgency_incident(team) -> None:
    incident_id = open_incident(team, severity="warning")

    run_at(team, T0 + 2 * MINUTE)
    run_at(team, T0 + 5 * MINUTE)

    assert incidents.view(team, incident_id).urgency == "low"
    assert channels(team, ALICE) == ["sms"]
    assert "step 1: paging Alice Example, Bob Example by sms" in timeline(team, incident_id)


def test_a_step_with_its_own_channels_pages_on_them_whatever_the_persons_rules(team) -> None:
    incident_id = open_incident(team)

    run_at(team, T0 + 10 * MINUTE)

    assert channels(team, CAROL) == ["sms"]  # her rules say voice; step 2 says sms
    assert "step 2: paging Carol Example by sms" in timeline(team, incident_id)
    run_at(team, T0 + 12 * MINUTE)
    assert channels(team, CAROL) == ["sms"]
    # Alice's call from step 1 went out meanwhile: rules run on while nobody acknowledges.
    assert channels(team, ALICE) == ["sms", "voice"]
