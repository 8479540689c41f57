"""`pager oncall`, and what every command reading the rotation files shares (see `check`).

Exit codes fit CI: 0 clean (warnings allowed), 1 problems in the files, 2 usage or I/O errors.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click

from pager.config import default_rotations
from pager.domain.rotation_fields import unknown_name
from pager.domain.rotation_schema import parse_schedule
from pager.domain.rotations import BEGINNING_OF_TIME, END_OF_TIME, Schedule, Shift
from pager.domain.yamldoc import Problem
from pager.flows.rotations import read_files

DEFAULT_DIRECTORY = "rotations/"


def default_directory() -> str:
    """`rotations/` here, else the example shipped with pager (as `pager serve` does), said on
    stderr so that nobody mistakes the example for their own files."""
    chosen = default_rotations()
    if chosen.resolve() != Path(DEFAULT_DIRECTORY).resolve():
        click.echo(
            f"note: no rotations/ here: reading the example shipped with pager ({chosen})", err=True
        )
    return str(chosen)


class UnusableInput(click.ClickException):
    """The files cannot be read at all (as opposed to having problems): exit 2."""

    exit_code = 2


def rotation_files(directory: str) -> list[tuple[str, str]]:
    """(name, text) of the rotation files in `directory`, or of that one file."""
    path = Path(directory)
    if not path.exists():
        raise UnusableInput(f"no such directory: {directory}")
    try:
        files = read_files(path)
    except UnicodeDecodeError as error:
        raise UnusableInput(f"a file in {directory} is not UTF-8 text: {error}") from None
    except OSError as error:
        raise UnusableInput(f"cannot read {directory}: {error.strerror}") from None
    if not files:
        raise UnusableInput(f"no rotation files (*.yaml, *.yml) in {directory}")
    return files


class Instant(click.ParamType):
    """An ISO 8601 time with an offset or Z; a time without one is UTC."""

    name = "ISO-TIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, datetime):
            return value
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            self.fail(f"expected a time like 2026-03-29T12:00Z, got {value!r}", param, ctx)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def report(
    problems: Sequence[Problem], severity: str = "error", output: str = "text", err: bool = False
) -> None:
    """Print each problem on a line: `file:line:column: message` (with `warning: ` or `note: `
    before a warning's or a notice's message), or as a GitHub Actions annotation (error, warning
    or notice) when `output` is github."""
    for problem in problems:
        line = _annotation(problem, severity) if output == "github" else _line(problem, severity)
        click.echo(line, err=err)


_PREFIXES = {"warning": "warning: ", "notice": "note: "}


def _line(problem: Problem, severity: str) -> str:
    where = problem.where
    prefix = _PREFIXES.get(severity, "")
    return f"{where.file}:{where.line}:{where.column}: {prefix}{problem.message}"


def _annotation(problem: Problem, severity: str) -> str:
    """A workflow command GitHub shows on the pull request's diff."""
    where = problem.where
    file = _escape(where.file).replace(":", "%3A").replace(",", "%2C")
    return (
        f"::{severity} file={file},line={where.line},col={where.column}::{_escape(problem.message)}"
    )


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def valid_schedule(directory: str) -> Schedule:
    """The schedule in `directory`; its problems on stderr and exit 1 if there are any."""
    schedule, problems = parse_schedule(rotation_files(directory))
    if schedule is None:
        report(problems, err=True)
        raise click.ClickException(
            f"the rotation files have problems; see `pager check {directory}`"
        )
    return schedule


@click.command()
@click.option(
    "--rotations",
    "directory",
    metavar="DIR",
    help="Where the rotation files are (default: rotations/, else the example shipped with pager).",
)
@click.option("--at", type=Instant(), help="When to ask about (ISO 8601; default: now).")
@click.option("--from", "start", type=Instant(), help="List the shifts from this time...")
@click.option("--to", "end", type=Instant(), help="...to this one (ISO 8601).")
@click.option("--rotation", "rotation_id", metavar="ID", help="Only this rotation.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def oncall(
    directory: str | None,
    at: datetime | None,
    start: datetime | None,
    end: datetime | None,
    rotation_id: str | None,
    as_json: bool,
) -> None:
    """Show who is on call for every rotation, now or --at a time; or every shift --from a
    time --to another."""
    _check_span(at, start, end)
    schedule = valid_schedule(directory or default_directory())
    rotations = _chosen(schedule, rotation_id)
    if start is not None and end is not None:
        shifts = [shift for r in rotations for shift in schedule.shifts(r, start, end)]
    else:
        when = at or datetime.now(UTC)
        shifts = [schedule.shift_at(rotation, when) for rotation in rotations]
    if as_json:
        click.echo(json.dumps([_shift_json(schedule, shift) for shift in shifts], indent=2))
    elif start is not None:
        click.echo(_shifts_table(schedule, shifts))
    else:
        click.echo(_now_table(schedule, shifts))


def _check_span(at: datetime | None, start: datetime | None, end: datetime | None) -> None:
    if at is not None and (start is not None or end is not None):
        raise click.UsageError("give --at, or --from and --to, not both")
    if (start is None) != (end is None):
        raise click.UsageError("give --from and --to together")
    if start is not None and end is not None and end <= start:
        raise click.UsageError("--to must be after --from")


def _chosen(schedule: Schedule, rotation_id: str | None) -> list[str]:
    if rotation_id is None:
        return sorted(schedule.rotations)
    if rotation_id not in schedule.rotations:
        raise click.UsageError(unknown_name("rotation", rotation_id, schedule.rotations))
    return [rotation_id]


def _shift_json(schedule: Schedule, shift: Shift) -> dict[str, Any]:
    person = schedule.people[shift.person] if shift.person else None
    return {
        "rotation": shift.rotation,
        "person": shift.person,
        "name": person.name if person else None,
        "phone": person.phone if person else None,
        "start": None if shift.start == BEGINNING_OF_TIME else _utc_text(shift.start),
        "end": None if shift.end == END_OF_TIME else _utc_text(shift.end),
        "override": shift.override,
    }


def _utc_text(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _local_text(schedule: Schedule, shift: Shift, at: datetime) -> str:
    """`at` in the shift's rotation's zone, with the zone's abbreviation; `-` for no end."""
    if at in (BEGINNING_OF_TIME, END_OF_TIME):
        return "-"
    zone = ZoneInfo(schedule.rotations[shift.rotation].timezone)
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def _now_table(schedule: Schedule, shifts: list[Shift]) -> str:
    rows = [("rotation", "person", "name", "until")]
    for shift in shifts:
        person = schedule.people[shift.person] if shift.person else None
        rows.append(
            (
                shift.rotation,
                person.id if person else "-",
                person.name if person else "-",
                _local_text(schedule, shift, shift.end),
            )
        )
    return columns(rows)


def _shifts_table(schedule: Schedule, shifts: list[Shift]) -> str:
    rows = [("rotation", "person", "start", "end")]
    for shift in shifts:
        person = shift.person or "-"
        rows.append(
            (
                shift.rotation,
                f"{person} (override)" if shift.override else person,
                _local_text(schedule, shift, shift.start),
                _local_text(schedule, shift, shift.end),
            )
        )
    return columns(rows)


def columns(rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
