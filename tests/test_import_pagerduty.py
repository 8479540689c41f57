"""`pager import pagerduty`: PagerDuty's REST API v2 answers (tests/fixtures/import/pagerduty,
see its README) into rotation files that `pager check` accepts and that put the same person on
call as PagerDuty's own final schedule."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import Result

from pager.domain.rotations import Schedule
from tests.fakes.vendor_api import FakeVendorApi, offset_page
from tests.importing import (
    AT,
    assert_same_on_call,
    import_live,
    import_refused,
    import_saved,
    report_of,
    run,
    written,
)
from tests.importing import FIXTURES as ALL_FIXTURES

FIXTURES = ALL_FIXTURES / "pagerduty"
KEY = "y_NbAkKc66ryYTWUXYEu"
# PagerDuty schedule id -> the rotation it becomes
ROTATIONS = {"PSRE001": "sre-primary", "PUSNITE": "us-nights"}


def imported(tmp_path: Path, source: Path = FIXTURES) -> tuple[Result, Schedule]:
    return import_saved("pagerduty", source, tmp_path, AT)


def final_entries(schedule_id: str) -> list[tuple[str | None, datetime, datetime]]:
    """PagerDuty's rendered final schedule, with the gaps between entries as nobody's."""
    body = json.loads((FIXTURES / "schedules" / f"{schedule_id}.json").read_text())
    entries = [
        (e["user"]["summary"], datetime.fromisoformat(e["start"]), datetime.fromisoformat(e["end"]))
        for e in body["schedule"]["final_schedule"]["rendered_schedule_entries"]
    ]
    found: list[tuple[str | None, datetime, datetime]] = []
    for name, start, end in entries:
        if found and found[-1][2] < start:
            found.append((None, found[-1][2], start))
        found.append((name, start, end))
    return found


def test_it_writes_files_that_pager_check_accepts(tmp_path: Path) -> None:
    imported(tmp_path)
    result = run("check", str(tmp_path / "rotations"), "--at", AT, "--strict")
    assert result.exit_code == 0, result.output
    assert "ok: 5 people, 2 rotations, 1 override, 1 policy, 2 services" in result.output


@pytest.mark.parametrize("schedule_id", sorted(ROTATIONS))
def test_it_puts_the_same_person_on_call_as_pagerdutys_final_schedule(
    tmp_path: Path, schedule_id: str
) -> None:
    _, schedule = imported(tmp_path)
    rotation = ROTATIONS[schedule_id]
    entries = final_entries(schedule_id)
    assert len(entries) >= 14
    assert_same_on_call(schedule, rotation, entries, "PagerDuty", schedule.name_of)


def test_it_carries_people_notification_rules_policies_and_services(tmp_path: Path) -> None:
    _, schedule = imported(tmp_path)
    alice = schedule.people["alice"]
    assert alice.phone == "+447700900101" and alice.timezone == "Europe/London"
    assert [str(r) for r in alice.notify.high] == ["sms", "voice after 2m"]
    assert [str(r) for r in alice.notify.low] == ["sms"]
    assert [str(r) for r in schedule.people["carol"].notify.high] == ["voice"]
    policy = schedule.policies["sre"]
    assert policy.repeat == 1
    assert [[str(t) for t in step.targets] for step in policy.steps] == [
        ["rotation:sre-primary"],
        ["rotation:us-nights", "person:carol"],
        ["person:bob", "person:frank"],
    ]
    assert [step.wait for step in policy.steps] == [
        timedelta(minutes=5),
        timedelta(minutes=10),
        timedelta(minutes=15),
    ]
    assert [step.round_robin for step in policy.steps] == [False, False, True]
    assert {s.id: s.policy for s in schedule.services.values()} == {
        "payments-api": "sre",
        "website": "sre",
    }
    [override] = schedule.overrides  # the one that ended on 1 December is left out
    assert (override.person, override.start.isoformat()) == ("bob", "2026-12-16T00:00:00+00:00")


def test_it_reports_what_it_could_not_carry_over(tmp_path: Path) -> None:
    result, _ = imported(tmp_path)
    expected = (
        "user 'Erin Example' (PERIN05):\n    - no SMS or phone contact method",
        "high urgency: the rule by push notification is not carried over",
        "low urgency: the rule by email is not carried over",
        "voice after 5 min goes to pager's one number for them, +44******0102, not +44******0112",
        "user 'Frank Example' (PFRANK6):\n    - no time zone: UTC instead",
        "layer 'Old weekends':\n    - ended 2026-11-01T00:00:00-04:00: left out",
        "time zone 'Eastern Time (US & Canada)' is not a tz database name: left out",
        "rule 4: the schedule_v3 target PV3SCH1 is left out (pager does not read those)",
        "service 'Postgres' (PSVC003):\n    - its escalation policy is not imported: left out",
        "acknowledgement_timeout is not carried over",
        "service 'Website' (PSVC002):\n    - disabled in PagerDuty",
    )
    report = report_of(result, tmp_path, expected, "PagerDuty")
    assert "7700900102" not in report  # numbers are masked


def test_it_says_where_pager_would_differ_from_pagerdutys_final_schedule(tmp_path: Path) -> None:
    changed = tmp_path / "saved"
    shutil.copytree(FIXTURES, changed)
    path = changed / "schedules" / "PSRE001.json"
    body = json.loads(path.read_text())
    entry = body["schedule"]["final_schedule"]["rendered_schedule_entries"][1]
    entry["user"] |= {"id": "PDAVE04", "summary": "Dave Example"}  # not what the layers give
    path.write_text(json.dumps(body))
    imported(tmp_path, changed)
    report = (tmp_path / "report.txt").read_text()
    assert (
        "rotation 'sre-primary':\n    - differs from PagerDuty's own schedule: at "
        "2026-12-08T09:00:00+00:00 pager has carol on call, PagerDuty dave" in report
    )


def test_it_takes_the_layer_order_that_matches_the_final_schedule(tmp_path: Path) -> None:
    changed = tmp_path / "saved"
    shutil.copytree(FIXTURES, changed)
    path = changed / "schedules" / "PSRE001.json"
    body = json.loads(path.read_text())
    body["schedule"]["schedule_layers"].reverse()  # as a fixed API would list them, say
    path.write_text(json.dumps(body))
    _, schedule = imported(tmp_path, changed)
    for name, start, _ in final_entries("PSRE001"):
        assert schedule.name_of(schedule.shift_at("sre-primary", start).person) == name
    assert (
        "the layers are taken in the order the API listed them"
        in (tmp_path / "report.txt").read_text()
    )


def test_it_reads_the_api_with_the_key_following_every_page(tmp_path: Path) -> None:
    saved, _ = imported(tmp_path / "saved")
    header = ("Authorization", f"Token token={KEY}")
    with FakeVendorApi(FIXTURES, header, offset_page) as fake:
        result = import_live("pagerduty", fake.base_url, tmp_path / "live", KEY)
    assert result.exit_code == 0, result.output
    assert written(tmp_path / "live", "pagerduty") == written(
        tmp_path / "saved" / "rotations", "pagerduty"
    )
    assert result.output == saved.output.replace(
        str(tmp_path / "saved" / "rotations"), str(tmp_path / "live")
    )
    users = [a for a in fake.asked if a.path == "/users"]
    assert [a.query["offset"] for a in users] == [["0"], ["4"]]
    assert users[0].query["include[]"] == ["contact_methods", "notification_rules"]
    assert all(a.headers["Authorization"] == header[1] for a in fake.asked)
    assert all(
        a.headers["Accept"] == "application/vnd.pagerduty+json;version=2" for a in fake.asked
    )
    [schedule] = [a for a in fake.asked if a.path == "/schedules/PSRE001"]
    assert schedule.query["since"] == ["2026-12-07T12:00:00+00:00"]
    assert schedule.query["until"] == ["2027-01-04T12:00:00+00:00"]
    assert {a.path for a in fake.asked} >= {
        "/schedules",
        "/schedules/PUSNITE/overrides",
        "/escalation_policies",
        "/services",
    }


def test_it_stops_when_the_api_refuses_the_key(tmp_path: Path) -> None:
    with FakeVendorApi(FIXTURES, ("Authorization", "Token token=right"), offset_page) as fake:
        result = import_refused("pagerduty", fake.base_url, tmp_path)
    assert result.exit_code == 2
    assert "401: the API refused the key" in result.output
    assert "wrong-key" not in result.output
    assert not (tmp_path / "pagerduty.yaml").exists()


def test_it_does_not_replace_a_file_without_force(tmp_path: Path) -> None:
    (tmp_path / "pagerduty.yaml").write_text("people: {}\n")
    args = ["import", "pagerduty", "--from", str(FIXTURES), "--out", str(tmp_path), "--at", AT]
    refused = run(*args)
    assert refused.exit_code == 2 and "exists (use --force" in refused.output
    assert (tmp_path / "pagerduty.yaml").read_text() == "people: {}\n"
    assert run(*args, "--force").exit_code == 0


def test_it_says_when_the_import_clashes_with_the_other_files(tmp_path: Path) -> None:
    shutil.copy(Path(__file__).parent.parent / "rotations" / "example.yaml", tmp_path)
    result = run("import", "pagerduty", "--from", str(FIXTURES), "--out", str(tmp_path), "--at", AT)
    assert result.exit_code == 1
    assert "do not validate together" in result.output
    assert "person 'alice' is already defined at" in result.output


def test_it_needs_either_saved_answers_or_a_key(tmp_path: Path) -> None:
    result = run("import", "pagerduty", "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "give either --from DIR or an API key ($PAGER_IMPORT_API_KEY)" in result.output


def test_it_takes_numbers_from_phones_for_people_pagerduty_has_none_for(tmp_path: Path) -> None:
    phones = tmp_path / "phones.yaml"
    phones.write_text('erin@example.com: "+447700900105"\nbob@example.com: "+447700900199"\n')
    result, schedule = import_saved("pagerduty", FIXTURES, tmp_path, AT, "--phones", str(phones))
    assert schedule.people["erin"].phone == "+447700900105"
    assert schedule.people["bob"].phone == "+447700900102"  # PagerDuty's own number first
    assert "user 'Erin Example' (PERIN05):\n    - no SMS" not in result.output


def test_it_refuses_a_phones_file_with_a_wrong_number(tmp_path: Path) -> None:
    phones = tmp_path / "phones.yaml"
    phones.write_text("erin@example.com: 12345\n")
    result = run(
        "import",
        "pagerduty",
        "--from",
        str(FIXTURES),
        "--out",
        str(tmp_path / "out"),
        "--phones",
        str(phones),
    )
    assert result.exit_code == 2
    assert "phones.yaml: erin@example.com: '+12345' is not" in result.output
    assert not (tmp_path / "out").exists()
