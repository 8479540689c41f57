"""`pager import grafana-oncall`: Grafana OnCall's public API answers
(tests/fixtures/import/grafana-oncall, see its README) into rotation files that `pager check`
accepts and that put the same person on call as OnCall's own final shifts."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import Result

from pager.domain.rotations import Schedule
from tests.fakes.vendor_api import FakeVendorApi
from tests.importing import (
    AT,
    assert_same_on_call,
    import_live,
    import_saved,
    report_of,
    run,
    written,
)
from tests.importing import FIXTURES as ALL_FIXTURES

FIXTURES = ALL_FIXTURES / "grafana-oncall"
PHONES = FIXTURES / "phones.yaml"
KEY = "meowmeowmeow"
PUBLIC_HOST = "https://oncall-prod-eu-west-0.grafana.net"
SCHEDULES = {"SBM7DV7BKFUYU": "primary", "S3Z477AHDXTMF": "database"}


def imported(tmp_path: Path) -> tuple[Result, Schedule]:
    return import_saved("grafana-oncall", FIXTURES, tmp_path, AT, "--phones", str(PHONES))


def final_shifts(schedule_id: str) -> list[tuple[str | None, datetime, datetime]]:
    path = FIXTURES / "api" / "v1" / "schedules" / schedule_id / "final_shifts.json"
    found: list[tuple[str | None, datetime, datetime]] = []
    for entry in json.loads(path.read_text())["results"]:
        start = datetime.fromisoformat(entry["shift_start"])
        if found and found[-1][2] < start:
            found.append((None, found[-1][2], start))
        found.append((entry["user_username"], start, datetime.fromisoformat(entry["shift_end"])))
    return found


def test_it_writes_files_that_pager_check_accepts(tmp_path: Path) -> None:
    imported(tmp_path)
    result = run("check", str(tmp_path / "rotations"), "--at", AT)
    assert result.exit_code == 0, result.output
    assert "ok: 4 people, 2 rotations, 1 override, 1 policy, 1 service" in result.output


@pytest.mark.parametrize("schedule_id", sorted(SCHEDULES))
def test_it_puts_the_same_person_on_call_as_oncalls_final_shifts(
    tmp_path: Path, schedule_id: str
) -> None:
    _, schedule = imported(tmp_path)
    rotation = SCHEDULES[schedule_id]
    entries = final_shifts(schedule_id)
    assert len(entries) >= 20
    assert_same_on_call(schedule, rotation, entries, "OnCall")


def test_it_carries_rules_chains_and_integrations(tmp_path: Path) -> None:
    _, schedule = imported(tmp_path)
    assert schedule.people["alice"].phone == "+447700900101"  # from --phones
    assert [str(r) for r in schedule.people["alice"].notify.high] == ["sms", "voice after 5m"]
    assert [str(r) for r in schedule.people["carol"].notify.low] == ["voice after 1m"]
    assert "dave" not in schedule.people
    policy = schedule.policies["primary-chain"]
    assert [[str(t) for t in step.targets] for step in policy.steps] == [
        ["rotation:primary"],
        ["person:carol"],
        ["person:alice", "person:bob"],
        ["rotation:database"],
    ]
    assert [step.wait for step in policy.steps] == [
        timedelta(minutes=5),
        timedelta(minutes=10),
        timedelta(minutes=15),
        timedelta(0),
    ]
    assert [step.round_robin for step in policy.steps] == [False, False, True, False]
    assert policy.repeat == 5
    assert {s.id: s.policy for s in schedule.services.values()} == {"alertmanager": "primary-chain"}


def test_it_reports_what_it_could_not_carry_over(tmp_path: Path) -> None:
    result, _ = imported(tmp_path)
    expected = (
        "user 'dave@example.com' (UDAVE3RS7YB6C):\n    - Grafana OnCall's API gives no phone "
        "numbers, and --phones has none for them",
        "the rule notify_by_slack is not carried over",
        "the important notification rules are not carried over",
        "shift 'Old weekly':\n    - ended 2026-11-30T09:00:00+00:00: left out",
        "shift 'Month end':\n    - repeats on days of months",
        "schedule 'External':\n    - an iCal schedule",
        "its overrides calendar (ical_url_overrides) is not read",
        "step 8 (notify_user_group) is not carried over: pager has no user groups",
        "escalation chain 'Team chain':\n    - step 1 (notify_team_members) is not carried over",
        "1 route(s) on templates or regular expressions are not carried over",
    )
    report = report_of(result, tmp_path, expected, "Grafana OnCall")
    assert "same level" not in report


def test_it_leaves_out_everyone_without_phones(tmp_path: Path) -> None:
    result = run(
        "import", "grafana-oncall", "--from", str(FIXTURES), "--out", str(tmp_path), "--at", AT
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("gives no phone numbers") == 5
    assert "0 people, 0 rotations" in result.output


def _oncall_page(query: dict[str, str], first: object) -> int:
    return int(query.get("page", 1))


def test_it_reads_the_api_with_the_key_following_every_page(tmp_path: Path) -> None:
    imported(tmp_path / "saved")
    with FakeVendorApi(
        FIXTURES, ("Authorization", KEY), _oncall_page, prefix="/oncall", public_url=PUBLIC_HOST
    ) as fake:
        result = import_live(
            "grafana-oncall",
            f"{fake.base_url}/oncall",
            tmp_path / "live",
            KEY,
            "--phones",
            str(PHONES),
        )
    assert result.exit_code == 0, result.output
    assert written(tmp_path / "live", "grafana-oncall") == written(
        tmp_path / "saved" / "rotations", "grafana-oncall"
    )
    users = [a for a in fake.asked if a.path == "/oncall/api/v1/users/"]
    assert [a.query.get("page") for a in users] == [None, ["2"]]
    assert all(a.headers["Authorization"] == KEY for a in fake.asked)
    [final] = [a for a in fake.asked if a.path.endswith("/SBM7DV7BKFUYU/final_shifts")]
    assert final.query == {"start_date": ["2026-12-07"], "end_date": ["2026-12-21"]}


def test_it_needs_the_api_address(tmp_path: Path) -> None:
    result = run(
        "import", "grafana-oncall", "--out", str(tmp_path), env={"PAGER_IMPORT_API_KEY": KEY}
    )
    assert result.exit_code == 2
    assert "Grafana OnCall has no public API address: give --api-url" in result.output
