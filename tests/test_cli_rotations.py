"""`pager check` and `pager oncall` on real directories of rotation files."""

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from freezegun import freeze_time

from pager.cli.check import check
from pager.cli.rotations import oncall

EXAMPLE = Path(__file__).parents[1] / "rotations" / "example.yaml"

BROKEN_PEOPLE = """\
people:
  alice: {name: Alice, phone: "+447700900101", timezone: Europe/Londn}
"""
BROKEN_ROTATION = """\
rotations:
  sre-primary: {timezone: Europe/London, start: 2026-01-05T09:00, shift: 1w, members: [alice, bob]}
"""
CAROL_AT_CHRISTMAS = {
    "rotation": "sre-primary",
    "person": "carol",
    "name": "Carol Example",
    "phone": "+447700900103",
    "start": "2026-12-24T09:00:00Z",
    "end": "2026-12-27T09:00:00Z",
    "override": True,
}


@pytest.fixture(autouse=True)
def no_config(monkeypatch):
    """`pager check` reads PAGER_CONFIG as `pager serve` does: these tests check rotations only."""
    monkeypatch.delenv("PAGER_CONFIG", raising=False)


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A working directory with rotations/example.yaml, as a new user has it."""
    (tmp_path / "rotations").mkdir()
    shutil.copy(EXAMPLE, tmp_path / "rotations" / "example.yaml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def broken(tmp_path, monkeypatch):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "a-people.yaml").write_text(BROKEN_PEOPLE)
    (tmp_path / "broken" / "b-sre.yml").write_text(BROKEN_ROTATION)
    (tmp_path / "broken" / "notes.txt").write_text("not a rotation file")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@freeze_time("2026-11-25T12:00:00Z")
def test_it_says_ok_with_counts_for_a_clean_directory(workdir):
    result = CliRunner().invoke(check, [])

    assert result.exit_code == 0
    assert result.stdout == "ok: 3 people, 1 rotation, 1 override, 1 policy, 1 service in 1 file\n"


def test_it_lists_every_problem_as_file_line_column_message(broken):
    result = CliRunner().invoke(check, ["broken"])

    assert result.exit_code == 1
    assert result.stdout == (
        "broken/a-people.yaml:2:48: timezone: unknown time zone 'Europe/Londn' "
        "(did you mean 'Europe/London'?)\n"
        "broken/b-sre.yml:2:95: unknown person 'bob' (known: alice)\n"
    )


def test_it_prints_problems_as_github_annotations(broken):
    result = CliRunner().invoke(check, ["--format", "github", "broken"])

    assert result.exit_code == 1
    assert result.stdout == (
        "::error file=broken/a-people.yaml,line=2,col=48::timezone: unknown time zone "
        "'Europe/Londn' (did you mean 'Europe/London'?)\n"
        "::error file=broken/b-sre.yml,line=2,col=95::unknown person 'bob' (known: alice)\n"
    )


def test_it_exits_2_when_the_directory_does_not_exist(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(check, ["nope"])

    assert result.exit_code == 2
    assert result.stderr == "Error: no such directory: nope\n"


def test_it_exits_2_on_a_directory_without_rotation_files(tmp_path, monkeypatch):
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(check, ["empty"])

    assert result.exit_code == 2
    assert result.stderr == "Error: no rotation files (*.yaml, *.yml) in empty\n"


def test_it_shows_who_is_on_call_at_an_instant(workdir):
    result = CliRunner().invoke(oncall, ["--at", "2026-12-25T12:00:00+01:00"])

    assert result.exit_code == 0
    assert result.stdout == (
        "rotation     person  name           until\n"
        "sre-primary  carol   Carol Example  2026-12-27 09:00 GMT\n"
    )


@freeze_time("2026-03-29T12:00:00Z")
def test_it_shows_who_is_on_call_now(workdir):
    result = CliRunner().invoke(oncall, [])

    assert result.exit_code == 0
    assert result.stdout == (
        "rotation     person  name         until\n"
        "sre-primary  bob     Bob Example  2026-03-30 09:00 BST\n"
    )


def test_it_shows_nobody_before_the_rotation_starts(workdir):
    result = CliRunner().invoke(oncall, ["--at", "2026-01-01T00:00"])

    assert result.stdout == (
        "rotation     person  name  until\nsre-primary  -       -     2026-01-05 09:00 GMT\n"
    )


def test_it_prints_json_with_utc_times(workdir):
    result = CliRunner().invoke(
        oncall, ["--rotations", "rotations", "--at", "2026-12-24T09:00Z", "--json"]
    )

    assert result.exit_code == 0
    assert json.loads(result.stdout) == [CAROL_AT_CHRISTMAS]


def test_it_refuses_a_time_it_cannot_read():
    result = CliRunner().invoke(oncall, ["--at", "christmas"])

    assert result.exit_code == 2
    assert "Invalid value for '--at': expected a time like 2026-03-29T12:00Z, got 'christmas'" in (
        result.stderr
    )


def test_it_will_not_answer_from_broken_files(broken):
    result = CliRunner().invoke(oncall, ["--rotations", "broken"])

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "broken/a-people.yaml:2:48: timezone: unknown time zone 'Europe/Londn' "
        "(did you mean 'Europe/London'?)\n"
        "broken/b-sre.yml:2:95: unknown person 'bob' (known: alice)\n"
        "Error: the rotation files have problems; see `pager check broken`\n"
    )


def test_it_checks_a_single_file(workdir):
    result = CliRunner().invoke(check, ["rotations/example.yaml", "--at", "2026-11-25T12:00Z"])

    assert result.exit_code == 0
    assert result.stdout == "ok: 3 people, 1 rotation, 1 override, 1 policy, 1 service in 1 file\n"


# --- Coverage: when a service's first step pages nobody ------------------------------------

WEEKDAYS_ONLY = """\
people:
  alice: {name: Alice Example, phone: "+447700900101", timezone: Europe/London}
  bob:   {name: Bob Example,   phone: "+447700900102", timezone: Europe/London}
  carol: {name: Carol Example, phone: "+447700900103", timezone: Europe/London}
rotations:
  primary:
    timezone: Europe/London
    start: 2026-01-05
    handoff: mon 09:00
    shift: 1w
    members: [alice, bob]
    restrict: [{days: mon-fri}]    # whole weekdays: nobody at weekends
overrides:
  - {rotation: primary, person: carol, from: 2026-04-04T00:00, to: 2026-04-06T00:00}
policies:
  day:
    steps:
      - {targets: [rotation:primary], channels: [sms], wait: 5m}
  manager:
    steps:
      - {targets: [person:carol], channels: [sms], wait: 5m}
services:
  payments: {policy: day}
  billing: {policy: manager}
"""
# From Monday 23 March for 4 weeks: three uncovered weekends (the second has an override);
# the first spans the change to summer time.
GAPS = [
    "service 'payments' has nobody on call from Sat 2026-03-28 00:00 to Mon 2026-03-30 00:00 "
    "(Europe/London)",
    "service 'payments' has nobody on call from Sat 2026-04-11 00:00 to Mon 2026-04-13 00:00 "
    "(Europe/London)",
    "service 'payments' has nobody on call from Sat 2026-04-18 00:00 to Mon 2026-04-20 00:00 "
    "(Europe/London)",
]


@pytest.fixture
def weekdays_only(tmp_path, monkeypatch):
    (tmp_path / "rotations").mkdir()
    (tmp_path / "rotations" / "team.yaml").write_text(WEEKDAYS_ONLY)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_it_warns_of_gaps_in_the_next_4_weeks_and_exits_0(weekdays_only):
    result = CliRunner().invoke(check, ["--at", "2026-03-23T00:00Z"])

    assert result.exit_code == 0
    assert result.stdout == (
        "".join(f"rotations/team.yaml:23:3: warning: {gap}\n" for gap in GAPS)
        + "ok: 3 people, 1 rotation, 1 override, 2 policies, 2 services in 1 file\n"
    )


def test_it_makes_gaps_errors_when_strict(weekdays_only):
    result = CliRunner().invoke(check, ["--strict", "--at", "2026-03-23T00:00Z"])

    assert result.exit_code == 1
    assert result.stdout == "".join(f"rotations/team.yaml:23:3: {gap}\n" for gap in GAPS)


def test_it_prints_gaps_as_github_warnings_or_errors(weekdays_only):
    warned = CliRunner().invoke(check, ["--format", "github", "--at", "2026-03-23T00:00Z"])
    failed = CliRunner().invoke(
        check, ["--format", "github", "--strict", "--at", "2026-03-23T00:00Z"]
    )

    assert warned.exit_code == 0
    assert warned.stdout == (
        "".join(f"::warning file=rotations/team.yaml,line=23,col=3::{gap}\n" for gap in GAPS)
        + "ok: 3 people, 1 rotation, 1 override, 2 policies, 2 services in 1 file\n"
    )
    assert failed.exit_code == 1
    assert failed.stdout == "".join(
        f"::error file=rotations/team.yaml,line=23,col=3::{gap}\n" for gap in GAPS
    )


def test_it_reports_the_gap_before_a_rotation_starts(workdir):
    result = CliRunner().invoke(check, ["--at", "2025-12-20T00:00Z"])

    assert result.stdout == (
        "rotations/example.yaml:74:3: warning: service 'payments' has nobody on call "
        "from Sat 2025-12-20 00:00 to Mon 2026-01-05 09:00 (Europe/London)\n"
        "ok: 3 people, 1 rotation, 1 override, 1 policy, 1 service in 1 file\n"
    )


def test_it_refuses_an_unknown_format(workdir):
    result = CliRunner().invoke(check, ["--format", "xml"])

    assert result.exit_code == 2
    assert "Invalid value for '--format': 'xml' is not one of 'text', 'github'" in result.stderr


# --- The schedule as a table ---------------------------------------------------------------


def test_it_lists_the_shifts_between_two_times_in_local_time(workdir):
    result = CliRunner().invoke(
        oncall, ["--from", "2026-12-20T00:00Z", "--to", "2026-12-30T00:00Z"]
    )

    assert result.exit_code == 0
    assert result.stdout == (
        "rotation     person            start                 end\n"
        "sre-primary  bob               2026-12-14 09:00 GMT  2026-12-21 09:00 GMT\n"
        "sre-primary  alice             2026-12-21 09:00 GMT  2026-12-24 09:00 GMT\n"
        "sre-primary  carol (override)  2026-12-24 09:00 GMT  2026-12-27 09:00 GMT\n"
        "sre-primary  alice             2026-12-27 09:00 GMT  2026-12-28 09:00 GMT\n"
        "sre-primary  bob               2026-12-28 09:00 GMT  2027-01-04 09:00 GMT\n"
    )


def test_it_lists_nobody_s_shifts_across_a_clock_change_for_one_rotation(weekdays_only):
    result = CliRunner().invoke(
        oncall,
        ["--rotation", "primary", "--from", "2026-03-27T12:00Z", "--to", "2026-03-31T00:00Z"],
    )

    assert result.exit_code == 0
    assert result.stdout == (
        "rotation  person  start                 end\n"
        "primary   bob     2026-03-23 09:00 GMT  2026-03-28 00:00 GMT\n"
        "primary   -       2026-03-28 00:00 GMT  2026-03-30 00:00 BST\n"
        "primary   bob     2026-03-30 00:00 BST  2026-03-30 09:00 BST\n"
        "primary   alice   2026-03-30 09:00 BST  2026-04-04 00:00 BST\n"
    )


def test_it_shows_a_dash_for_a_shift_with_no_start(workdir):
    result = CliRunner().invoke(
        oncall, ["--from", "2026-01-01T00:00Z", "--to", "2026-01-06T00:00Z"]
    )

    assert result.stdout == (
        "rotation     person  start                 end\n"
        "sre-primary  -       -                     2026-01-05 09:00 GMT\n"
        "sre-primary  alice   2026-01-05 09:00 GMT  2026-01-12 09:00 GMT\n"
    )


def test_it_prints_the_shifts_between_two_times_as_json(workdir):
    result = CliRunner().invoke(
        oncall, ["--json", "--from", "2026-12-26T00:00Z", "--to", "2026-12-27T12:00Z"]
    )

    assert json.loads(result.stdout) == [
        CAROL_AT_CHRISTMAS,
        {
            "rotation": "sre-primary",
            "person": "alice",
            "name": "Alice Example",
            "phone": "+447700900101",
            "start": "2026-12-27T09:00:00Z",
            "end": "2026-12-28T09:00:00Z",
            "override": False,
        },
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-12-20T00:00Z"], "give --from and --to together"),
        (["--at", "2026-12-20T00:00Z", "--from", "2026-12-20T00:00Z", "--to", "2026-12-21T00:00Z"],
         "give --at, or --from and --to, not both"),
        (["--from", "2026-12-21T00:00Z", "--to", "2026-12-20T00:00Z"], "--to must be after --from"),
        (["--rotation", "sre-primry"],
         "unknown rotation 'sre-primry' (did you mean 'sre-primary'?)"),
    ],
)  # fmt: skip
def test_it_refuses_a_span_or_rotation_it_cannot_show(workdir, args, message):
    result = CliRunner().invoke(oncall, args)

    assert result.exit_code == 2
    assert result.stderr.endswith(f"Error: {message}\n")


def test_it_reads_the_shipped_example_where_serve_does_when_there_is_no_rotations_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`pager serve` in a directory without rotations/ pages from the example shipped with
    pager; `check` and `oncall` there read the same files, and say so."""
    monkeypatch.chdir(tmp_path)
    checked = CliRunner().invoke(check, [])
    assert checked.exit_code == 0, checked.output
    assert "reading the example shipped with pager" in checked.stderr
    assert checked.stdout.startswith("ok: ")
    with freeze_time("2026-12-08T12:00:00Z"):
        asked = CliRunner().invoke(oncall, ["--json"])
    assert asked.exit_code == 0, asked.output
    assert "reading the example shipped with pager" in asked.stderr
    assert [row["rotation"] for row in json.loads(asked.stdout)] == ["sre-primary"]
    # With a rotations/ of its own, the example is never read.
    (tmp_path / "rotations").mkdir()
    own = CliRunner().invoke(check, [])
    assert own.exit_code != 0 and "no rotation files" in own.output
    assert "example" not in own.output
