"""`pager import opsgenie`: Opsgenie's REST API answers (tests/fixtures/import/opsgenie, see
its README) into rotation files that `pager check` accepts and that put the same person on
call as Opsgenie's own final timeline."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import Result

from pager.domain.rotations import Schedule
from tests.fakes.vendor_api import FakeVendorApi, offset_page
from tests.importing import (
    AT,
    assert_same_on_call,
    import_again,
    import_live,
    import_refused,
    import_saved,
    report_of,
    run,
    written,
)
from tests.importing import FIXTURES as ALL_FIXTURES

FIXTURES = ALL_FIXTURES / "opsgenie"
KEY = "eb243592-faa2-4ba2-a551q-1afdf565c889"
OPS, DATABASE = "d875alp4-a0d8-4d3b-a6b3-8f9c57c71ec8", "2f3ab7c1-3f2e-4b6f-9a21-7c4e0b8d9e10"
# (schedule id, Opsgenie rotation name) -> the pager rotation it becomes
ROTATIONS = {
    (OPS, "Days"): "ops-days",
    (OPS, "Nights and weekends"): "ops-nights-and-weekends",
    (DATABASE, "Primary"): "database-primary",
}


def imported(tmp_path: Path) -> tuple[Result, Schedule]:
    return import_saved("opsgenie", FIXTURES, tmp_path, AT)


def timeline(schedule_id: str, rotation: str) -> list[tuple[str | None, datetime, datetime]]:
    """One rotation's periods in Opsgenie's final timeline, the gaps between as nobody's."""
    path = FIXTURES / "v2" / "schedules" / schedule_id / "timeline.json"
    rotations = json.loads(path.read_text())["data"]["finalTimeline"]["rotations"]
    [periods] = [r["periods"] for r in rotations if r["name"] == rotation]
    found: list[tuple[str | None, datetime, datetime]] = []
    for period in periods:
        start = datetime.fromisoformat(period["startDate"])
        if found and found[-1][2] < start:
            found.append((None, found[-1][2], start))
        username = period["recipient"]["name"]
        found.append((username, start, datetime.fromisoformat(period["endDate"])))
    return found


def test_it_writes_files_that_pager_check_accepts(tmp_path: Path) -> None:
    imported(tmp_path)
    result = run("check", str(tmp_path / "rotations"), "--at", AT)
    assert result.exit_code == 0, result.output
    assert "ok: 4 people, 3 rotations, 1 override, 1 policy, 1 service" in result.output


@pytest.mark.parametrize(
    "source", sorted(ROTATIONS), ids=lambda s: s[1] if isinstance(s, tuple) else s
)
def test_it_puts_the_same_person_on_call_as_opsgenies_final_timeline(
    tmp_path: Path, source: tuple[str, str]
) -> None:
    _, schedule = imported(tmp_path)
    rotation = ROTATIONS[source]
    periods = timeline(*source)
    assert len(periods) >= 11
    usernames = {f"{p}@example.com": p for p in schedule.people}
    expected = [(usernames[name] if name else None, start, end) for name, start, end in periods]
    assert_same_on_call(schedule, rotation, expected, "Opsgenie")


def test_it_carries_contacts_rules_escalations_and_services(tmp_path: Path) -> None:
    _, schedule = imported(tmp_path)
    alice = schedule.people["alice"]
    assert (alice.phone, alice.timezone) == ("+447700900101", "Europe/London")
    assert [str(r) for r in alice.notify.high] == ["sms", "voice after 5m"]
    assert alice.notify.low == alice.notify.high  # Opsgenie has no urgencies
    assert [str(r) for r in schedule.people["carol"].notify.high] == ["voice"]
    assert "dave" not in schedule.people  # email only (his SMS contact is disabled)
    policy = schedule.policies["ops-escalation"]
    assert policy.repeat == 2
    assert [[str(t) for t in step.targets] for step in policy.steps] == [
        ["rotation:ops-days", "rotation:ops-nights-and-weekends"],
        ["person:carol", "person:bob"],
        ["members:database-primary"],
    ]
    # Opsgenie's delays count from the alert (0, 5, 20 min); pager's waits from the step.
    assert [step.wait for step in policy.steps] == [
        timedelta(minutes=5),
        timedelta(minutes=15),
        timedelta(minutes=10),
    ]
    assert {s.id: s.policy for s in schedule.services.values()} == {"checkout": "ops-escalation"}
    [override] = schedule.overrides
    assert (override.rotation, override.person) == ("ops-nights-and-weekends", "bob")


def test_it_reports_what_it_could_not_carry_over(tmp_path: Path) -> None:
    result, _ = imported(tmp_path)
    expected = (
        "email, mobile contacts are not carried over",
        "the notification rule 'Night calls' applies at some times only",
        "the notification rule 'P1 alerts' applies on conditions",
        "user 'Dave Example' (dave@example.com):\n    - no enabled SMS or voice contact",
        "rotation 'Old':\n    - ended 2026-06-01T14:00:00+00:00: left out",
        "the team Database is left out (pager's turns are people's)",
        "a turn for nobody ('none') is left out",
        "schedule 'Legacy':\n    - disabled in Opsgenie: left out",
        "rule 4 runs if-not-closed, and pager stops escalating at the acknowledgement",
        "rule 4 notifies the next on-call of 'Ops', which pager does not have: left out",
        "rule 5: the team Ops is left out (pager has no teams)",
        "routing rule 'P1 to everyone' routes on conditions pager does not have",
        "service 'Billing':\n    - its team's default routing notifies the schedule Database",
        "voice after 10 min goes to pager's one number for them, +44******0102, not +44******0112",
    )
    report_of(result, tmp_path, expected, "Opsgenie")


def test_it_reads_the_api_with_the_key_following_every_page(tmp_path: Path) -> None:
    saved, _ = imported(tmp_path / "saved")
    header = ("Authorization", f"GenieKey {KEY}")
    refused = (401, {"message": "Could not authenticate", "took": 0.0, "requestId": "r"})
    with FakeVendorApi(
        FIXTURES, header, offset_page, refused, public_url="https://api.opsgenie.com"
    ) as fake:
        result = import_live("opsgenie", fake.base_url, tmp_path / "live", KEY)
    assert result.exit_code == 0, result.output
    assert written(tmp_path / "live", "opsgenie") == written(
        tmp_path / "saved" / "rotations", "opsgenie"
    )
    users = [a for a in fake.asked if a.path == "/v2/users"]
    assert [(a.query["limit"], a.query["offset"]) for a in users] == [
        (["100"], ["0"]),
        (["3"], ["3"]),
    ]
    assert all(a.headers["Authorization"] == header[1] for a in fake.asked)
    [asked] = [a for a in fake.asked if a.path == f"/v2/schedules/{OPS}/timeline"]
    assert asked.query == {
        "interval": ["2"],
        "intervalUnit": ["weeks"],
        "date": ["2026-12-07T12:00:00+00:00"],
    }
    assert [a.query for a in fake.asked if a.path == "/v2/schedules"] == [{"expand": ["rotation"]}]
    assert saved.output.count("\n") == result.output.count("\n")


def test_it_stops_when_the_api_refuses_the_key(tmp_path: Path) -> None:
    with FakeVendorApi(FIXTURES, ("Authorization", "GenieKey right"), offset_page) as fake:
        result = import_refused("opsgenie", fake.base_url, tmp_path)
    assert result.exit_code == 2
    assert "401: the API refused the key" in result.output and "wrong-key" not in result.output


def test_it_saves_the_answers_it_can_import_again(tmp_path: Path) -> None:
    header = ("Authorization", f"GenieKey {KEY}")
    with FakeVendorApi(
        FIXTURES, header, offset_page, public_url="https://api.opsgenie.com"
    ) as fake:
        live = import_live(
            "opsgenie", fake.base_url, tmp_path / "live", KEY, "--save", str(tmp_path / "answers")
        )
    assert live.exit_code == 0, live.output
    assert (tmp_path / "answers" / "v2" / "users.2.json").is_file()
    again = import_again("opsgenie", tmp_path / "answers", tmp_path / "again")
    assert again.exit_code == 0, again.output
    assert written(tmp_path / "again", "opsgenie") == written(tmp_path / "live", "opsgenie")
