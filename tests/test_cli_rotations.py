"""`pager check` and `pager oncall` on real directories of rotation files."""

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from freezegun import freeze_time

from pager.cli.rotations import check, oncall

EXAMPLE = Path(__file__).parents[1] / "rotations" / "example.yaml"

BROKEN_PEOPLE = """\
people:
  alice: {name: Alice, phone: "+447700900101", timezone: Europe/Londn}
"""
BROKEN_ROTATION = """\
rotations:
  sre-primary: {timezone: Europe/London, start: 2026-01-05T09:00, shift: 1w, members: [alice, bob]}
"""


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


def test_it_says_ok_with_counts_for_a_clean_directory(workdir):
    result = CliRunner().invoke(check, [])

    assert result.exit_code == 0
    assert result.stdout == "ok: 3 people, 1 rotation, 1 override, 1 policy, 1 service in 1 file\n"


def test_it_lists_every_problem_as_file_line_message(broken):
    result = CliRunner().invoke(check, ["broken"])

    assert result.exit_code == 1
    assert result.stdout == (
        "broken/a-people.yaml:2: timezone: unknown time zone 'Europe/Londn' "
        "(did you mean 'Europe/London'?)\n"
        "broken/b-sre.yml:2: unknown person 'bob' (known: alice)\n"
    )


def test_it_exits_2_when_the_directory_does_not_exist(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(check, ["nope"])

    assert result.exit_code == 2
    assert result.stderr == "Error: no such directory: nope\n"


def test_it_fails_on_a_directory_without_rotation_files(tmp_path, monkeypatch):
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(check, ["empty"])

    assert result.exit_code == 1
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
    assert json.loads(result.stdout) == [
        {
            "rotation": "sre-primary",
            "person": "carol",
            "name": "Carol Example",
            "phone": "+447700900103",
            "start": "2026-12-24T09:00:00Z",
            "end": "2026-12-27T09:00:00Z",
            "override": True,
        }
    ]


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
        "broken/a-people.yaml:2: timezone: unknown time zone 'Europe/Londn' "
        "(did you mean 'Europe/London'?)\n"
        "broken/b-sre.yml:2: unknown person 'bob' (known: alice)\n"
        "Error: the rotation files have problems; see `pager check broken`\n"
    )


def test_it_checks_a_single_file(workdir):
    result = CliRunner().invoke(check, ["rotations/example.yaml"])

    assert result.exit_code == 0
    assert result.stdout == "ok: 3 people, 1 rotation, 1 override, 1 policy, 1 service in 1 file\n"
