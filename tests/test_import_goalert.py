"""`pager import goalert`: GoAlert's GraphQL answers (tests/fixtures/import/goalert, see its
README) into rotation files that `pager check` accepts and that put the same people on call as
GoAlert's own schedule shifts."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path

from click.testing import Result
from graphql import build_schema, parse, validate

from pager.domain.rotations import Schedule
from pager.importers.goalert import QUERIES
from tests.fakes.vendor_api import FakeVendorApi, offset_page
from tests.importing import AT, import_again, import_live, import_saved, report_of, run, written
from tests.importing import FIXTURES as ALL_FIXTURES

FIXTURES = ALL_FIXTURES / "goalert"
KEY = "goalert-admin-api-key"
OPS = ("ops-primary-weekly", "ops-nights", "ops-carol-example")


def imported(tmp_path: Path) -> tuple[Result, Schedule]:
    return import_saved("goalert", FIXTURES, tmp_path, AT)


def ops_shifts() -> list[tuple[str, datetime, datetime]]:
    """GoAlert's shifts of the Ops schedule: (email, start, end), people at once overlapping."""
    users = {
        u["id"]: u["email"]
        for page in ("users.json", "users.2.json")
        for u in json.loads((FIXTURES / page).read_text())["data"]["users"]["nodes"]
    }
    [ops] = [
        s
        for s in json.loads((FIXTURES / "schedules.json").read_text())["data"]["schedules"]["nodes"]
        if s["name"] == "Ops"
    ]
    return [
        (users[s["userID"]], datetime.fromisoformat(s["start"]), datetime.fromisoformat(s["end"]))
        for s in ops["shifts"]
    ]


def on_call(schedule: Schedule, at: datetime) -> set[str]:
    people = (schedule.shift_at(rotation, at).person for rotation in OPS)
    return {f"{person}@example.com" for person in people if person}


def test_it_writes_files_that_pager_check_accepts(tmp_path: Path) -> None:
    imported(tmp_path)
    result = run("check", str(tmp_path / "rotations"), "--at", AT)
    assert result.exit_code == 0, result.output
    assert "ok: 4 people, 4 rotations, 1 override, 1 policy, 1 service" in result.output


def test_it_puts_the_same_people_on_call_as_goalerts_shifts(tmp_path: Path) -> None:
    _, schedule = imported(tmp_path)
    shifts = ops_shifts()
    assert len(shifts) >= 25
    instants = sorted({t for _, start, end in shifts for t in (start, end - timedelta(minutes=1))})
    for at in instants:
        expected = {email for email, start, end in shifts if start <= at < end}
        assert on_call(schedule, at) == expected, at.isoformat()


def test_it_carries_rotations_targets_policies_and_services(tmp_path: Path) -> None:
    _, schedule = imported(tmp_path)
    # GoAlert keeps whose turn it is (activeUserIndex 1: bob), not only the start.
    assert schedule.shift_at("ops-primary-weekly", datetime.fromisoformat(AT)).person == "bob"
    assert [str(r) for r in schedule.people["bob"].notify.high] == ["sms", "voice after 10m"]
    policy = schedule.policies["ops-policy"]
    assert policy.repeat == 2
    assert [[str(t) for t in step.targets] for step in policy.steps] == [
        [f"rotation:{r}" for r in OPS],
        ["person:carol", "rotation:escalation-backup"],
    ]
    assert [step.wait for step in policy.steps] == [timedelta(minutes=5), timedelta(minutes=10)]
    assert {s.id: s.policy for s in schedule.services.values()} == {"checkout": "ops-policy"}
    [override] = schedule.overrides  # alice for bob on 9 December, where bob is on call
    assert (override.rotation, override.person) == ("ops-primary-weekly", "alice")


def test_it_reports_what_it_could_not_carry_over(tmp_path: Path) -> None:
    result, _ = imported(tmp_path)
    expected = (
        "user 'Dave Example' (dave@example.com):\n    - no enabled SMS or voice contact method",
        "SLACK_DM contact methods are not carried over",
        "GoAlert users have no time zone",
        "the temporary schedule from 2026-12-24T00:00:00+00:00",
        "rotation 'Monthly DBA':\n    - a monthly rotation",
        "user 'Dave Example':\n    - no rules, so never on call: left out",
        "adds Carol Example, and pager's rotations have one person at a time",
        "step 3: the slackChannel '#ops' is left out",
        "service 'Database':\n    - its escalation policy is not imported",
    )
    report_of(result, tmp_path, expected, "GoAlert")


def test_it_asks_the_graphql_api_with_the_key_following_every_page(tmp_path: Path) -> None:
    imported(tmp_path / "saved")
    header = ("Authorization", f"Bearer {KEY}")
    with FakeVendorApi(FIXTURES, header, offset_page, graphql="/api/graphql") as fake:
        result = import_live("goalert", fake.base_url, tmp_path / "live", KEY)
    assert result.exit_code == 0, result.output
    assert written(tmp_path / "live", "goalert") == written(
        tmp_path / "saved" / "rotations", "goalert"
    )
    users = [b for b in fake.bodies if b["operationName"] == "users"]
    assert [b["variables"]["after"] for b in users] == ["", "eyJsYXN0IjoiY2Fyb2wifQ=="]
    assert all(b["query"] == QUERIES[b["operationName"]] for b in fake.bodies)
    [schedules] = [b for b in fake.bodies if b["operationName"] == "schedules"]
    assert schedules["variables"] == {
        "start": "2026-12-07T12:00:00+00:00",
        "end": "2026-12-21T12:00:00+00:00",
        "after": "",
    }
    assert all(a.headers["Authorization"] == header[1] for a in fake.asked)


def test_it_asks_queries_that_goalerts_own_schema_accepts() -> None:
    sdl = "\n".join(f.read_text() for f in sorted((FIXTURES / "schema").iterdir()))
    schema = build_schema(sdl)
    for name, query in QUERIES.items():
        assert validate(schema, parse(query)) == [], name
    misspelt = QUERIES["rotations"].replace("activeUserIndex", "activeUser")
    assert validate(schema, parse(misspelt)) != []


def test_it_saves_the_answers_it_can_import_again(tmp_path: Path) -> None:
    header = ("Authorization", f"Bearer {KEY}")
    with FakeVendorApi(FIXTURES, header, offset_page, graphql="/api/graphql") as fake:
        live = import_live(
            "goalert", fake.base_url, tmp_path / "live", KEY, "--save", str(tmp_path / "answers")
        )
    assert live.exit_code == 0, live.output
    saved = sorted(p.name for p in (tmp_path / "answers").iterdir())
    assert saved == sorted([*(f"{name}.json" for name in QUERIES), "users.2.json"])
    again = import_again("goalert", tmp_path / "answers", tmp_path / "again")
    assert again.exit_code == 0, again.output
    assert written(tmp_path / "again", "goalert") == written(tmp_path / "live", "goalert")


def test_it_says_where_a_replace_override_covers_more_than_goalerts(tmp_path: Path) -> None:
    changed = tmp_path / "answers"
    shutil.copytree(FIXTURES, changed)
    path = changed / "userOverrides.json"
    body = json.loads(path.read_text())
    body["data"]["userOverrides"]["nodes"][0]["end"] = "2026-12-10T09:00:00Z"  # past bob's day
    path.write_text(json.dumps(body))
    result, schedule = import_saved("goalert", changed, tmp_path, AT)
    assert sorted(o.rotation for o in schedule.overrides) == ["ops-nights", "ops-primary-weekly"]
    for rotation in ("ops-primary-weekly", "ops-nights"):
        assert (
            f"replaces bob by alice while bob is on call; in pager alice covers '{rotation}' "
            "for all of it" in result.output
        )
