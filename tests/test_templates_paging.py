"""Service message templates through the flows: an alert in, the templated SMS and call at the
sandbox phones, on SQLite and PostgreSQL; a failing template still pages, with a timeline note;
an open incident keeps the templates it opened with."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from freezegun import freeze_time

from pager.app import build_pager
from pager.flows import incidents
from pager.flows.context import Pager
from pager.flows.rotations import load_rotations
from tests.conftest import make_settings
from tests.helpers import ALICE, CAROL, TEAM, payload, phone, receive, run_due

T0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # a Wednesday: alice's week on sre-primary
SMS = "{{ service }}: {{ title }} ({{ firing }} firing) on {{ labels.instance }}"
VOICE = "Payments alert. {{ title }}. {{ annotations.summary }}"


def with_templates(directory: Path, sms: str, voice: str) -> Path:
    """The test team, its payments service worded by these templates."""
    team = TEAM.read_text().replace(
        "  payments: {policy: sre}",
        f"  payments:\n    policy: sre\n    templates:\n      sms: {sms!r}\n      voice: {voice!r}",
    )
    assert "templates:" in team
    directory.mkdir(exist_ok=True)
    (directory / "team.yaml").write_text(team)
    return directory


@pytest.fixture
def rotations(tmp_path: Path) -> Path:
    return with_templates(tmp_path / "rotations", SMS, VOICE)


@pytest.fixture
def templated(database_url: str, rotations: Path) -> Iterator[Pager]:
    built = build_pager(make_settings(database_url, rotations=rotations))
    yield built
    built.db.dispose()


def open_incident(pager: Pager, now: datetime = T0, name: str = "alertmanager_firing.json") -> int:
    with freeze_time(now):
        result = receive(pager, "payments-am", payload(name), now)
        run_due(pager, now)
    [incident_id] = result.opened
    return incident_id


def code_of(text: str) -> str:
    found = re.search(r"ACK (\d+)", text)
    assert found, text
    return found.group(1)


def warnings(pager: Pager, incident_id: int) -> list[str]:
    return [e.message for e in incidents.view(pager, incident_id).timeline if e.kind == "warning"]


def test_it_texts_and_calls_in_the_services_words(templated: Pager) -> None:
    incident_id = open_incident(templated)
    [sms] = phone(templated, ALICE)
    code = code_of(sms.body)
    assert sms.body == (
        "payments: HighErrorRate (2 firing) on checkout-1:8080. "
        f"Reply ACK {code} to acknowledge, RES {code} to resolve."
    )

    at_step_2 = T0 + timedelta(minutes=5)
    with freeze_time(at_step_2):
        run_due(templated, at_step_2)
    call = phone(templated, ALICE)[-1]
    assert (call.channel, call.body) == (
        "voice",
        "Payments alert. HighErrorRate. 5xx rate above 5% on checkout-1. "
        "Press 1 to acknowledge, 2 to resolve, 3 to escalate now.",
    )
    assert warnings(templated, incident_id) == []


def test_it_pages_with_the_default_text_and_notes_why_when_a_template_fails(
    database_url: str, tmp_path: Path
) -> None:
    rotations = with_templates(tmp_path / "rotations", "{{ labels.team }}: {{ title }}", VOICE)
    pager = build_pager(make_settings(database_url, rotations=rotations))
    try:
        incident_id = open_incident(pager)
        for minutes in (5, 10):
            with freeze_time(T0 + timedelta(minutes=minutes)):
                run_due(pager, T0 + timedelta(minutes=minutes))
        [sms] = [m for m in phone(pager, ALICE) if m.channel == "sms"]
        code = code_of(sms.body)
        default = (
            f"[pager] #{incident_id} payments: HighErrorRate (2 firing): 5xx rate above 5% on "
            f"checkout-1. Reply ACK {code} to acknowledge, RES {code} to resolve."
        )
        assert sms.body == default
        assert [m.body for m in phone(pager, CAROL) if m.channel == "sms"] == [default]
        note = (
            "the sms template of service 'payments' failed (undefined: 'dict object' has no "
            "attribute 'team'): paged with the default text"
        )
        assert warnings(pager, incident_id) == [note, note]  # step 1 (alice), step 3 (carol)
        kinds = [e.kind for e in incidents.view(pager, incident_id).timeline]
        assert kinds[:4] == ["opened", "warning", "escalation", "page"]
    finally:
        pager.db.dispose()


def test_it_keeps_an_open_incidents_templates_and_words_new_ones_by_the_edit(
    templated: Pager, rotations: Path
) -> None:
    first = open_incident(templated)
    with_templates(rotations, "EDITED {{ title }}", "Edited. {{ title }}")
    load_rotations(templated, T0 + timedelta(minutes=1))
    assert templated.rotations.schedule is not None
    assert templated.rotations.schedule.services["payments"].templates["sms"] == (
        "EDITED {{ title }}"
    )

    for minutes in (5, 10):
        with freeze_time(T0 + timedelta(minutes=minutes)):
            run_due(templated, T0 + timedelta(minutes=minutes))
    carol_sms = [m.body for m in phone(templated, CAROL) if m.channel == "sms"]
    assert [body.split(". Reply")[0] for body in carol_sms] == [
        "payments: HighErrorRate (2 firing) on checkout-1:8080"
    ]

    resolved = payload("alertmanager_resolved.json")
    later = T0 + timedelta(minutes=20)
    receive(templated, "payments-am", resolved, later)
    second = open_incident(templated, T0 + timedelta(minutes=30))
    assert second != first
    newest = phone(templated, ALICE)[-1]
    code = code_of(newest.body)
    assert newest.body == (
        f"EDITED HighErrorRate. Reply ACK {code} to acknowledge, RES {code} to resolve."
    )
