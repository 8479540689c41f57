"""`pager override`: add a one-off override to a rotation file, ready for a pull request.

The entry is added as a line of text, so the file's comments and layout stay as they are (a
YAML round trip would lose them). The whole set is checked with the edit before the file is
written: a set that would not validate leaves the file byte for byte as it was.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
import yaml

from pager.cli.rotations import DEFAULT_DIRECTORY, UnusableInput, report, rotation_files
from pager.domain.layers import local_to_utc
from pager.domain.rotation_schema import parse_schedule

DEFAULT_FILE = f"{DEFAULT_DIRECTORY}overrides.yaml"
_PLAIN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_LOCAL = "%Y-%m-%dT%H:%M"


class CannotPlace(ValueError):
    """The file is written in a way we cannot add a line to without rewriting it."""


class LocalOrInstant(click.ParamType):
    """An ISO 8601 time; without an offset it stays naive: local to the rotation."""

    name = "ISO-TIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            self.fail(f"expected a time like 2026-12-24T09:00, got {value!r}", param, ctx)
        if parsed.second or parsed.microsecond:
            self.fail(f"give whole minutes, like 2026-12-24T09:00, got {value!r}", param, ctx)
        return parsed


@click.command()
@click.option("--rotation", "rotation_id", required=True, metavar="ID", help="The rotation.")
@click.option("--person", "person_id", required=True, metavar="ID", help="Who covers it.")
@click.option(
    "--from",
    "start",
    required=True,
    type=LocalOrInstant(),
    help="From (ISO 8601; without an offset, local to the rotation's time zone).",
)
@click.option("--to", "end", required=True, type=LocalOrInstant(), help="To (not included).")
@click.option(
    "--file",
    "path",
    metavar="FILE",
    default=DEFAULT_FILE,
    show_default=True,
    help="The rotation file to add it to; the other files in its directory are checked too.",
)
def override(rotation_id: str, person_id: str, start: datetime, end: datetime, path: str) -> None:
    """Add an override to a rotation file (someone covers a rotation for a while), after
    checking that the whole set still validates with it."""
    target = Path(path)
    if target.suffix not in (".yaml", ".yml"):
        raise click.UsageError(f"--file must name a .yaml or .yml file, got {path}")
    files = rotation_files(str(target.parent))
    before, problems = parse_schedule(files)
    if before is None:
        report(problems, err=True)
        raise click.ClickException(
            f"fix the rotation files first: see `pager check {target.parent}`"
        )
    rotation = before.rotations.get(rotation_id)
    zone = rotation.timezone if rotation else "UTC"
    entry = override_entry(rotation_id, person_id, _local(start, zone), _local(end, zone))
    name = str(target.parent / target.name)
    text = dict(files).get(name, "")
    try:
        edited, line = with_override(text, entry)
    except CannotPlace as why:
        raise UnusableInput(f"cannot add to {name}: {why}") from None
    after, problems = parse_schedule(sorted([*(f for f in files if f[0] != name), (name, edited)]))
    if after is None:
        report(problems, err=True)
        raise click.ClickException(
            f"not added: the override would not validate; nothing was written to {name}"
        )
    if len(after.overrides) != len(before.overrides) + 1:
        raise UnusableInput(f"cannot add to {name}: the entry did not land in its overrides list")
    _write(Path(name), edited)
    click.echo(f"added to {name}:{line}: {entry}")


def _local(at: datetime, zone_name: str) -> datetime:
    """`at` as the rotation's wall clock reads it (an `at` without an offset already is)."""
    if at.tzinfo is None:
        return at
    zone = ZoneInfo(zone_name)
    local = at.astimezone(zone).replace(tzinfo=None)
    if local_to_utc(local, zone) != at:
        raise click.UsageError(
            f"{at.isoformat()} is in the hour {zone_name} repeats when its clocks go back, "
            "which the file's local times cannot name; pick a time outside it"
        )
    return local


def override_entry(rotation: str, person: str, start: datetime, end: datetime) -> str:
    """The override as one flow mapping, as the example file writes them."""
    return (
        f"{{rotation: {_scalar(rotation)}, person: {_scalar(person)}, "
        f"from: {start.strftime(_LOCAL)}, to: {end.strftime(_LOCAL)}}}"
    )


def _scalar(name: str) -> str:
    """`name` as YAML reads it back as that text: plain if it can be, else double-quoted."""
    if _PLAIN_ID.fullmatch(name) and yaml.safe_load(name) == name:
        return name
    return json.dumps(name)  # a JSON string is a YAML double-quoted scalar


def with_override(text: str, entry: str) -> tuple[str, int]:
    """`text` with `- entry` added after the last item of its top-level `overrides:` list, or
    with an `overrides:` list holding it added at the end; and the entry's line (from 1)."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    key, value = _overrides(text)
    if key is None or value is None:
        lines += ["\n"] if any(line.strip() for line in lines) else []
        lines += ["overrides:\n", f"  - {entry}\n"]
        return "".join(lines), len(lines)
    if isinstance(value, yaml.ScalarNode) and value.tag.endswith(":null"):
        after, indent = key.start_mark.line, key.start_mark.column + 2
    elif isinstance(value, yaml.SequenceNode) and value.flow_style is not True and value.value:
        after, indent = _last_line_of(value, lines), value.start_mark.column
    else:
        raise CannotPlace("write `overrides:` as a list with one `- ` item per line")
    lines.insert(after + 1, f"{' ' * indent}- {entry}\n")
    return "".join(lines), after + 2


def _overrides(text: str) -> tuple[yaml.Node | None, yaml.Node | None]:
    """The top-level `overrides` key and its value, as nodes that know where they are."""
    try:
        document = yaml.compose(text)
    except yaml.YAMLError as error:
        raise CannotPlace(f"it is not valid YAML ({error})") from None
    if document is None:
        return None, None
    if not isinstance(document, yaml.MappingNode):
        raise CannotPlace("it is not a mapping of sections")
    for key, value in document.value:
        if key.value == "overrides":
            return key, value
    return None, None


def _last_line_of(sequence: yaml.SequenceNode, lines: list[str]) -> int:
    """The last line of a block list that holds something: not blank, not only a comment."""
    end = sequence.end_mark
    line = end.line if end.column else end.line - 1
    first = sequence.value[-1].start_mark.line
    while line > first and (not lines[line].strip() or lines[line].lstrip().startswith("#")):
        line -= 1
    return line


def _write(path: Path, text: str) -> None:
    """Replace the file in one step, so a reader never sees half of it."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
