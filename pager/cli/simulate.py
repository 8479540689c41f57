"""`pager simulate`: the load a rotation change puts on people, replayed from past incidents.

Exit codes fit CI: 0 the report, 1 problems in a rotation set or the history file (each with
file:line), 2 usage errors or what cannot be read (no such commit, folder or database).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from pager.cli.rotations import Instant, UnusableInput, report
from pager.cli.serve import config_option, settings_from
from pager.cli.simulate_report import FORMATS, Comparison, Side, render
from pager.config import Settings
from pager.domain.durations import parse_duration
from pager.domain.simulate import HistoricIncident
from pager.domain.simulate import simulate as replay_all
from pager.flows.simulate import (
    CannotRead,
    RotationSet,
    history_from_database,
    history_from_file,
    rotation_set,
)

DEFAULT_FOLDER = "rotations"


class Duration(click.ParamType):
    """A duration as the rotation files write them: 30s, 5m, 1h30m."""

    name = "DURATION"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, timedelta):
            return value
        try:
            return parse_duration(value)
        except ValueError as error:
            self.fail(str(error), param, ctx)


@click.command()
@click.option("--base", required=True, metavar="REV|DIR", help="The rotation set as it is now.")
@click.option(
    "--head",
    metavar="REV|DIR",
    help="The rotation set as the change makes it (default: the rotations folder as it is).",
)
@click.option("--days", type=click.IntRange(1, 366), default=28, show_default=True)
@click.option("--until", type=Instant(), help="End of the window (ISO 8601; default: now).")
@click.option(
    "--history",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Incidents from this JSON Lines (or JSON array) file, not from the database.",
)
@config_option
@click.option(
    "--rotations",
    "directory",
    metavar="DIR",
    help="The rotations folder, whose repository a REV is read from "
    "(default: the settings' rotations, else rotations/).",
)
@click.option(
    "--ack-after",
    type=Duration(),
    default="5m",
    show_default=True,
    help="An incident the history gives no acknowledgement time is acknowledged this long "
    "after its first page.",
)
@click.option("--format", "output", type=click.Choice(FORMATS), default="text", show_default=True)
def simulate(
    base: str,
    head: str | None,
    days: int,
    until: datetime | None,
    history: Path | None,
    config_path: Path | None,
    directory: str | None,
    ack_after: timedelta,
    output: str,
) -> None:
    """Replay the incidents of the last --days against two rotation sets and show, per person,
    pages, pages at night (22:00-08:00 their time), hours on call, weekend hours and the
    longest stretch, and the coverage gaps: base beside head, the differences marked.

    A REV (origin/main, HEAD~1, a commit) is read from the git repository the rotations folder
    is in; a DIR is read as it is. Incidents come from --history, else from the database of
    the settings (--config), only read."""
    settings = settings_from(config_path, None)
    folder = Path(directory) if directory else _folder(settings, config_path)
    end = until or datetime.now(UTC)
    start = end - timedelta(days=days)
    try:
        sets = [rotation_set(spec, folder) for spec in (base, head or str(folder))]
        incidents, source = _incidents(history, settings, start, end)
    except CannotRead as error:
        raise UnusableInput(str(error)) from None
    for which, found in zip(("base", "head"), sets, strict=True):
        if found.schedule is None:
            report(found.problems, err=True)
            raise click.ClickException(f"the {which} rotation set ({found.label}) has problems")
    base_side, head_side = (_side(found, incidents, start, end, ack_after) for found in sets)
    click.echo(render(Comparison(base_side, head_side, source, ack_after), output))


def _folder(settings: Settings, config_path: Path | None) -> Path:
    if config_path is None:
        return Path(DEFAULT_FOLDER)
    git = settings.rotations_git
    # Rotations the daemon fetches from git: the same folder, in the checkout CI runs in.
    return Path(git.path or ".") if git is not None else settings.rotations


def _incidents(
    history: Path | None, settings: Settings, start: datetime, end: datetime
) -> tuple[list[HistoricIncident], str]:
    """The incidents, and the history file they came from ("" for the database)."""
    if history is None:
        return history_from_database(settings.database_url, start, end), ""
    incidents, problems = history_from_file(history)
    if problems:
        report(problems, err=True)
        raise click.ClickException(f"the history file {history} has problems")
    return incidents, history.name


def _side(
    found: RotationSet,
    incidents: list[HistoricIncident],
    start: datetime,
    end: datetime,
    ack_after: timedelta,
) -> Side:
    assert found.schedule is not None
    load = replay_all(found.schedule, incidents, start, end, ack_after)
    return Side(found.label, found.commit, found.schedule, load)
