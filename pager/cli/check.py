"""`pager check`: the rotation files, and with a pager.yaml how their pages are delivered.

Exit codes fit CI: 0 clean (warnings allowed), 1 problems in the files, 2 usage or I/O errors.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from pager.cli.rotations import (
    Instant,
    UnusableInput,
    columns,
    default_directory,
    report,
    rotation_files,
)
from pager.config import ConfigError, Settings, load_settings
from pager.config.delivery import delivery_places
from pager.domain import yamldoc
from pager.domain.coverage import service_gaps
from pager.domain.phones import mask
from pager.domain.rotation_schema import read_schedule
from pager.domain.rotations import Schedule
from pager.domain.template_check import template_findings
from pager.domain.yamldoc import Problem, Where
from pager.flows.delivery_check import Findings, delivery_findings
from pager.flows.number_check import PersonNumber, configured_lookups, number_findings
from pager.providers.base import ProviderError

COVERAGE = timedelta(weeks=4)
FORMATS = ("text", "github")


@click.command()
@click.argument("directory", required=False, metavar="[DIR]")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="PAGER_CONFIG",
    help="pager.yaml, to check delivery too; its rotations are the default DIR.",
)
@click.option("--strict", is_flag=True, help="Warnings are errors (exit 1).")
@click.option(
    "--format",
    "output",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="text: file:line:column: message; github: GitHub Actions annotations.",
)
@click.option("--at", type=Instant(), help="Start of the 4-week coverage report (default: now).")
@click.option(
    "--online",
    is_flag=True,
    help="Look up every number with Twilio Lookup or Vonage Number Insight (a paid request each).",
)
def check(
    directory: str | None,
    config_path: Path | None,
    strict: bool,
    output: str,
    at: datetime | None,
    online: bool,
) -> None:
    """Check the rotation files in DIR (default: rotations/, else the example shipped with
    pager, as `pager serve` reads), or one file: every problem, then
    when each service's first escalation step pages nobody in the next 4 weeks, and what each
    message template sends for a sample alert. With a
    pager.yaml (--config or PAGER_CONFIG), also whether pages can reach everyone and their
    replies and delivery reports can come back; --online asks the providers about each number."""
    settings, config_places = _settings(config_path, output)
    if online and (settings is None or not configured_lookups(settings)):
        raise click.UsageError("--online needs a pager.yaml with a twilio or vonage provider")
    if directory is None:
        directory = str(settings.rotations) if settings else default_directory()
    files = rotation_files(directory)
    parsed = read_schedule(files)
    if parsed.schedule is None:
        report(parsed.problems, "error", output)
        raise SystemExit(1)
    schedule = parsed.schedule
    start = at or datetime.now(UTC)
    findings = Findings()
    findings.warnings += [
        Problem(parsed.places[f"service:{gap.service}"], gap.describe())
        for gap in service_gaps(schedule, start, start + COVERAGE)
    ]
    templates = template_findings(schedule, parsed.places)
    findings.warnings += templates.warnings
    findings.notices += templates.notices
    if settings is not None:
        places = {**parsed.places, **config_places}
        findings.extend(delivery_findings(settings, schedule, places))
        if online:
            findings.extend(_look_up(settings, schedule, places))
    report(findings.errors, "error", output)
    report(findings.warnings, "error" if strict else "warning", output)
    report(findings.notices, "notice", output)
    if findings.errors or (strict and findings.warnings):
        raise SystemExit(1)
    click.echo(f"ok: {_counts(schedule)} in {_count(len(files), 'file', 'files')}")


def _settings(path: Path | None, output: str) -> tuple[Settings | None, dict[str, Where]]:
    """The settings in `path` and where its delivery settings are written; (None, {}) without
    one. A file with problems: they are printed, exit 1."""
    if path is None:
        return None, {}
    if not path.is_file():
        raise UnusableInput(f"no such file: {path}")
    try:
        settings = load_settings(path)
    except ConfigError as error:
        report(error.problems, "error", output)
        raise SystemExit(1) from None
    doc = yamldoc.load(path.read_text(encoding="utf-8"), str(path))
    return settings, delivery_places(doc) if isinstance(doc, yamldoc.Map) else {}


def _look_up(settings: Settings, schedule: Schedule, places: dict[str, Where]) -> Findings:
    """Each person's number as the providers see it: a table, then what is wrong."""
    try:
        findings, numbers = number_findings(
            settings, schedule, places, configured_lookups(settings)
        )
    except ProviderError as error:
        raise UnusableInput(f"cannot look up the numbers: {error}") from None
    click.echo(_numbers_table(numbers))
    return findings


def _numbers_table(numbers: list[PersonNumber]) -> str:
    rows = [("person", "number", "line", "carrier", "looked up by")]
    for entry in numbers:
        facts = entry.facts
        line = facts.line_type if facts.valid else "invalid"
        rows.append((entry.person, mask(facts.number), line, facts.carrier or "-", facts.source))
    return columns(rows)


def _counts(schedule: Schedule) -> str:
    return ", ".join(
        [
            _count(len(schedule.people), "person", "people"),
            _count(len(schedule.rotations), "rotation", "rotations"),
            _count(len(schedule.overrides), "override", "overrides"),
            _count(len(schedule.policies), "policy", "policies"),
            _count(len(schedule.services), "service", "services"),
        ]
    )


def _count(number: int, singular: str, plural: str) -> str:
    return f"{number} {singular if number == 1 else plural}"
