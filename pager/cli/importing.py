"""`pager import`: rotation files from PagerDuty, Opsgenie, Grafana OnCall or GoAlert.

Exit codes as `pager check`: 0 written and valid, 1 the written set has problems (a name
clashing with another file in DIR, say), 2 usage, I/O or API errors.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
import requests
import yaml

from pager.cli.rotations import Instant, UnusableInput, report, rotation_files
from pager.domain.phones import parse_e164
from pager.domain.rotation_schema import parse_schedule
from pager.importers.api import (
    Answers,
    ImportFailed,
    LiveAnswers,
    SavedAnswers,
    SavingAnswers,
)
from pager.importers.plan import Options
from pager.importers.vendors import VENDORS, Vendor
from pager.importers.writing import report as import_report
from pager.importers.writing import write

KEY_VARIABLE = "PAGER_IMPORT_API_KEY"


@click.command("import")
@click.argument("vendor", type=click.Choice(sorted(VENDORS)))
@click.option(
    "--from",
    "saved",
    type=click.Path(file_okay=False, path_type=Path),
    help="A directory of saved API answers (users.json, schedules.json...), instead of the API.",
)
@click.option(
    "--api-key",
    envvar=KEY_VARIABLE,
    help=f"The product's API key; better given in ${KEY_VARIABLE} (the command line shows in ps).",
)
@click.option("--api-url", help="The product's API (default: its public one).")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("rotations"),
    show_default=True,
    help="Where to write <vendor>.yaml.",
)
@click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the report of what was not carried over to this file.",
)
@click.option(
    "--phones",
    "phones_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help='YAML of e-mail address (or username) to number, "+447700900123", for people the '
    "product has no number for (Grafana OnCall's API gives none).",
)
@click.option(
    "--save",
    "save_to",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also save every API answer in this directory, as --from reads them.",
)
@click.option("--force", is_flag=True, help="Replace <vendor>.yaml if it exists.")
@click.option("--at", type=Instant(), help="Import as of this instant (default: now).")
def importing(
    vendor: str,
    saved: Path | None,
    api_key: str | None,
    api_url: str | None,
    out: Path,
    report_file: Path | None,
    phones_file: Path | None,
    save_to: Path | None,
    force: bool,
    at: datetime | None,
) -> None:
    """Write the schedules, escalation policies, people and services of VENDOR as a rotation
    file in --out, from saved API answers (--from) or the API itself (--api-key), and report
    what could not be carried over and why."""
    chosen = VENDORS[vendor]
    target = out / f"{vendor}.yaml"
    if target.exists() and not force:
        raise UnusableInput(f"{target} exists (use --force to replace it)")
    now = at or datetime.now(UTC)
    options = Options(now, _phones(phones_file) if phones_file else {})
    try:
        answers = _answers(chosen, saved, api_key, api_url)
        if save_to is not None:
            if saved is not None:
                raise click.UsageError("--save keeps what the API answers: use it without --from")
            answers = SavingAnswers(answers, save_to)
        plan = chosen.build(answers, options)
    except ImportFailed as error:
        raise UnusableInput(str(error)) from None
    written = write(plan, str(target), now.isoformat(timespec="seconds"))
    if written.schedule is None:  # ours to fix: say so plainly
        report(written.problems)
        raise UnusableInput("the imported file does not validate; please report this")
    text = import_report(plan, written, str(target))
    try:
        out.mkdir(parents=True, exist_ok=True)
        target.write_text(written.text, encoding="utf-8")
        if report_file is not None:
            report_file.write_text(text, encoding="utf-8")
    except OSError as error:
        raise UnusableInput(f"cannot write {error.filename}: {error.strerror}") from None
    click.echo(text, nl=False)
    _check_with_neighbours(out)


def _answers(
    vendor: Vendor, saved: Path | None, api_key: str | None, api_url: str | None
) -> Answers:
    if (saved is None) == (api_key is None):
        raise click.UsageError(f"give either --from DIR or an API key (${KEY_VARIABLE})")
    if saved is not None:
        if not saved.is_dir():
            raise UnusableInput(f"no such directory: {saved}")
        return SavedAnswers(saved)
    if not (api_url or vendor.api_url):
        raise click.UsageError(f"{vendor.name} has no public API address: give --api-url")
    return LiveAnswers(api_url or vendor.api_url, vendor.headers(api_key or ""), requests.Session())


def _phones(path: Path) -> dict[str, str]:
    """The `--phones` file: each e-mail address or username and its number, in E.164."""
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise UnusableInput(f"cannot read {path}: {error}") from None
    if not isinstance(loaded, dict):
        raise UnusableInput(f'{path}: expected a mapping like alice@example.com: "+447700900123"')
    found, wrong = {}, []
    for key, number in loaded.items():
        try:
            found[str(key)] = parse_e164(number if isinstance(number, str) else f"+{number}")
        except ValueError as error:
            wrong.append(f"{key}: {error}")
    if wrong:
        raise UnusableInput(f"{path}: " + "; ".join(wrong))
    return found


def _check_with_neighbours(out: Path) -> None:
    """The whole set in `out`, the new file with the others there: exit 1 on a problem."""
    _, problems = parse_schedule(rotation_files(str(out)))
    if problems:
        click.echo(f"the rotation files in {out} do not validate together:", err=True)
        report(problems, err=True)
        raise SystemExit(1)
