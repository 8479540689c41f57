"""`pager check` and `pager oncall`: the rotation files from the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click

from pager.domain.rotation_schema import parse_schedule
from pager.domain.rotations import BEGINNING_OF_TIME, Schedule, Shift
from pager.flows.rotations import read_files

DEFAULT_DIRECTORY = "rotations/"


class _NoSuchDirectory(click.ClickException):
    exit_code = 2


def _files(directory: str) -> list[tuple[str, str]]:
    path = Path(directory)
    if not path.exists():
        raise _NoSuchDirectory(f"no such directory: {directory}")
    try:
        files = read_files(path)
    except UnicodeDecodeError as error:
        raise click.ClickException(f"a file in {directory} is not UTF-8 text: {error}") from None
    if not files:
        raise click.ClickException(f"no rotation files (*.yaml, *.yml) in {directory}")
    return files


class _Instant(click.ParamType):
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


@click.command()
@click.argument("directory", default=DEFAULT_DIRECTORY, metavar="[DIR]")
def check(directory: str) -> None:
    """Check the rotation files in DIR (default: rotations/), or one file; list every problem."""
    files = _files(directory)
    schedule, problems = parse_schedule(files)
    if schedule is None:
        for problem in problems:
            click.echo(str(problem))
        raise SystemExit(1)
    counts = [
        _count(len(schedule.people), "person", "people"),
        _count(len(schedule.rotations), "rotation", "rotations"),
        _count(len(schedule.overrides), "override", "overrides"),
        _count(len(schedule.policies), "policy", "policies"),
        _count(len(schedule.services), "service", "services"),
    ]
    click.echo(f"ok: {', '.join(counts)} in {_count(len(files), 'file', 'files')}")


def _count(number: int, singular: str, plural: str) -> str:
    return f"{number} {singular if number == 1 else plural}"


@click.command()
@click.option(
    "--rotations",
    "directory",
    default=DEFAULT_DIRECTORY,
    metavar="DIR",
    show_default=True,
    help="Where the rotation files are.",
)
@click.option("--at", type=_Instant(), help="When to ask about (ISO 8601; default: now).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def oncall(directory: str, at: datetime | None, as_json: bool) -> None:
    """Show who is on call for every rotation, now or --at a time."""
    schedule, problems = parse_schedule(_files(directory))
    if schedule is None:
        for problem in problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(
            f"the rotation files have problems; see `pager check {directory}`"
        )
    when = at or datetime.now(UTC)
    shifts = [schedule.shift_at(rotation, when) for rotation in sorted(schedule.rotations)]
    if as_json:
        click.echo(json.dumps([_shift_json(schedule, shift) for shift in shifts], indent=2))
    else:
        click.echo(_table(schedule, shifts))


def _shift_json(schedule: Schedule, shift: Shift) -> dict[str, Any]:
    person = schedule.people[shift.person] if shift.person else None
    return {
        "rotation": shift.rotation,
        "person": shift.person,
        "name": person.name if person else None,
        "phone": person.phone if person else None,
        "start": None if shift.start == BEGINNING_OF_TIME else _utc_text(shift.start),
        "end": _utc_text(shift.end),
        "override": shift.override,
    }


def _utc_text(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _table(schedule: Schedule, shifts: list[Shift]) -> str:
    rows = [("rotation", "person", "name", "until")]
    for shift in shifts:
        person = schedule.people[shift.person] if shift.person else None
        zone = ZoneInfo(schedule.rotations[shift.rotation].timezone)
        rows.append(
            (
                shift.rotation,
                person.id if person else "-",
                person.name if person else "-",
                shift.end.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z"),
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
