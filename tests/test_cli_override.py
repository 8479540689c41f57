"""`pager override`: adds one line to a rotation file, or leaves the file exactly as it was."""

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from pager.cli.override import override
from pager.domain.rotation_schema import parse_schedule
from pager.flows.rotations import read_files

EXAMPLE = Path(__file__).parents[1] / "rotations" / "example.yaml"
CHRISTMAS = (
    "  - {rotation: sre-primary, person: carol, from: 2026-12-24T09:00, to: 2026-12-27T09:00}\n"
)
HOLIDAYS = """\
# Holidays and swaps, newest last.
overrides:
  - {rotation: sre-primary, person: bob, from: 2027-03-01T09:00, to: 2027-03-02T09:00}  # swap

  # (add more below)

# Nothing else lives here.
"""


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    (tmp_path / "rotations").mkdir()
    shutil.copy(EXAMPLE, tmp_path / "rotations" / "example.yaml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def add(*args: str):
    return CliRunner().invoke(override, list(args))


def cover(person: str, start: str, end: str, *more: str):
    return add("--rotation", "sre-primary", "--person", person, "--from", start, "--to", end, *more)


def test_it_creates_the_overrides_file_with_a_list(workdir):
    result = cover("bob", "2027-01-01T09:00", "2027-01-02T09:00")

    assert result.exit_code == 0
    assert result.stdout == (
        "added to rotations/overrides.yaml:2: {rotation: sre-primary, person: bob, "
        "from: 2027-01-01T09:00, to: 2027-01-02T09:00}\n"
    )
    assert (workdir / "rotations" / "overrides.yaml").read_text() == (
        "overrides:\n"
        "  - {rotation: sre-primary, person: bob, from: 2027-01-01T09:00, to: 2027-01-02T09:00}\n"
    )
    schedule, problems = parse_schedule(read_files(workdir / "rotations"))
    assert problems == []
    assert len(schedule.overrides) == 2


def test_it_adds_after_the_last_override_keeping_everything_else(workdir):
    example = workdir / "rotations" / "example.yaml"
    before = example.read_text()

    result = cover(
        "bob", "2027-01-01T09:00", "2027-01-02T09:00", "--file", "rotations/example.yaml"
    )

    entry = (
        "  - {rotation: sre-primary, person: bob, from: 2027-01-01T09:00, to: 2027-01-02T09:00}\n"
    )
    assert result.exit_code == 0
    assert example.read_text() == before.replace(CHRISTMAS, CHRISTMAS + entry)


def test_it_keeps_comments_and_blank_lines_after_the_list(workdir):
    holidays = workdir / "rotations" / "holidays.yaml"
    holidays.write_text(HOLIDAYS)

    result = cover(
        "alice", "2027-07-01T08:00Z", "2027-07-02T08:00Z", "--file", "rotations/holidays.yaml"
    )

    assert result.exit_code == 0
    assert result.stdout.startswith("added to rotations/holidays.yaml:4: ")
    assert holidays.read_text() == HOLIDAYS.replace(
        "# swap\n",
        "# swap\n"
        # Given in UTC, written in the rotation's zone: 08:00 UTC is 09:00 BST.
        "  - {rotation: sre-primary, person: alice, "
        "from: 2027-07-01T09:00, to: 2027-07-02T09:00}\n",
    )


def test_it_adds_a_list_to_a_file_without_one(workdir):
    notes = workdir / "rotations" / "notes.yaml"
    notes.write_text("# Just a comment so far")

    result = cover(
        "alice", "2027-01-01T09:00", "2027-01-02T09:00", "--file", "rotations/notes.yaml"
    )

    assert result.exit_code == 0
    assert notes.read_text() == (
        "# Just a comment so far\n"
        "\n"
        "overrides:\n"
        "  - {rotation: sre-primary, person: alice, from: 2027-01-01T09:00, to: 2027-01-02T09:00}\n"
    )


def test_it_fills_an_empty_overrides_key(workdir):
    empty = workdir / "rotations" / "empty.yml"
    empty.write_text("overrides:   # none yet\n")

    result = cover("alice", "2027-01-01T09:00", "2027-01-02T09:00", "--file", "rotations/empty.yml")

    assert result.exit_code == 0
    assert empty.read_text() == (
        "overrides:   # none yet\n"
        "  - {rotation: sre-primary, person: alice, from: 2027-01-01T09:00, to: 2027-01-02T09:00}\n"
    )


def test_it_refuses_an_overlapping_override_leaving_the_file_as_it_was(workdir):
    example = workdir / "rotations" / "example.yaml"
    before = example.read_bytes()

    result = cover(
        "bob", "2026-12-26T09:00", "2026-12-28T09:00", "--file", "rotations/example.yaml"
    )

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "rotations/example.yaml:57:5: override overlaps the override at rotations/example.yaml:56 "
        "on rotation 'sre-primary'\n"
        "Error: not added: the override would not validate; "
        "nothing was written to rotations/example.yaml\n"
    )
    assert example.read_bytes() == before


def test_it_refuses_an_unknown_person_leaving_the_file_as_it_was(workdir):
    holidays = workdir / "rotations" / "holidays.yaml"
    holidays.write_text(HOLIDAYS)

    result = cover(
        "dave", "2027-01-01T09:00", "2027-01-02T09:00", "--file", "rotations/holidays.yaml"
    )

    assert result.exit_code == 1
    assert result.stderr == (
        "rotations/holidays.yaml:4:29: unknown person 'dave' (known: alice, bob, carol)\n"
        "Error: not added: the override would not validate; "
        "nothing was written to rotations/holidays.yaml\n"
    )
    assert holidays.read_text() == HOLIDAYS


def test_it_refuses_an_unknown_rotation_with_a_suggestion_creating_nothing(workdir):
    result = add(
        "--rotation", "sre-primry", "--person", "bob",
        "--from", "2027-01-01T09:00", "--to", "2027-01-02T09:00",
    )  # fmt: skip

    assert result.exit_code == 1
    assert result.stderr == (
        "rotations/overrides.yaml:2:6: unknown rotation 'sre-primry' "
        "(did you mean 'sre-primary'?)\n"
        "Error: not added: the override would not validate; "
        "nothing was written to rotations/overrides.yaml\n"
    )
    assert not (workdir / "rotations" / "overrides.yaml").exists()


def test_it_refuses_to_edit_a_set_that_is_already_broken(workdir):
    (workdir / "rotations" / "broken.yaml").write_text("services:\n  web: {policy: nope}\n")

    result = cover("bob", "2027-01-01T09:00", "2027-01-02T09:00")

    assert result.exit_code == 1
    assert result.stderr == (
        "rotations/broken.yaml:2:9: unknown policy 'nope' (known: sre)\n"
        "Error: fix the rotation files first: see `pager check rotations`\n"
    )
    assert not (workdir / "rotations" / "overrides.yaml").exists()


def test_it_will_not_rewrite_a_list_written_in_brackets(workdir):
    inline = workdir / "rotations" / "inline.yaml"
    inline.write_text("overrides: []\n")

    result = cover("bob", "2027-01-01T09:00", "2027-01-02T09:00", "--file", "rotations/inline.yaml")

    assert result.exit_code == 2
    assert result.stderr == (
        "Error: cannot add to rotations/inline.yaml: "
        "write `overrides:` as a list with one `- ` item per line\n"
    )
    assert inline.read_text() == "overrides: []\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--file", "rotations/overrides.txt"], "--file must name a .yaml or .yml file"),
        (["--from", "2027-01-01T09:00:30"], "give whole minutes, like 2026-12-24T09:00"),
        (["--from", "soon"], "expected a time like 2026-12-24T09:00, got 'soon'"),
        # 01:30 UTC on 31 October 2027 is the second 01:30 in London that night.
        (["--from", "2027-10-31T01:30Z"], "is in the hour Europe/London repeats"),
    ],
)
def test_it_refuses_what_it_cannot_write(workdir, args, message):
    base = ["--rotation", "sre-primary", "--person", "bob", "--from", "2027-01-01T09:00"]

    result = add(*base, "--to", "2027-11-02T09:00", *args)

    assert result.exit_code == 2
    assert message in result.stderr
    assert not (workdir / "rotations" / "overrides.yaml").exists()
