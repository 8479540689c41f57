"""`pager people`, `pager verify` and `pager page --test`: the people in the rotations, proving
their numbers, and test pages through their real route."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from pager.app import build_pager
from pager.cli.serve import config_option, settings_from
from pager.flows import people as people_flows
from pager.flows import verify as verify_flows
from pager.flows.context import Pager, utcnow

WAY = "cli"
T = TypeVar("T")


def _with_pager(config_path: Path | None, work: Callable[[Pager], T]) -> T:
    pager = build_pager(settings_from(config_path, None))
    try:
        return work(pager)
    except verify_flows.NoSuchPerson as exc:
        raise click.ClickException(
            f"no person '{exc}' in the rotations (known: {_known(pager)})"
        ) from exc
    finally:
        pager.db.dispose()


def _known(pager: Pager) -> str:
    schedule = pager.rotations.schedule
    return ", ".join(sorted(schedule.people)) if schedule and schedule.people else "nobody"


@click.command()
@config_option
def people(config_path: Path | None) -> None:
    """Everyone in the rotations: number (masked), proven or not, last test page."""
    found = _with_pager(config_path, people_flows.people)
    if not found:
        click.echo("nobody: no rotations are loaded")
        return
    rows = [("HANDLE", "NAME", "NUMBER", "VERIFIED", "CHANNELS", "TIME ZONE", "LAST TEST")]
    rows += [
        (
            p.handle,
            p.name,
            p.number,
            "yes" if p.verified else "NO",
            ",".join(p.channels),
            p.timezone,
            _test(p.last_test),
        )
        for p in found
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def _test(result: people_flows.TestResult | None) -> str:
    if result is None:
        return "never"
    delivered = "delivered" if result.delivered else "not delivered"
    acked = f"acked in {result.seconds} s" if result.acknowledged else "not acked"
    return f"{result.at:%Y-%m-%d %H:%M} UTC #{result.incident_id}: {delivered}, {acked}"


@click.command()
@click.argument("person")
@click.option("--code", help="The code they received, to prove the number from here.")
@click.option("--by", default="cli", show_default=True, help="Who asks, for the audit trail.")
@config_option
def verify(person: str, code: str | None, by: str, config_path: Path | None) -> None:
    """Text PERSON a code proving their number; they reply with it by SMS (or use --code)."""
    now = utcnow()

    def work(pager: Pager) -> None:
        if code is not None:
            found = verify_flows.check_verify_code(pager, person, code.strip(), WAY, now)
            if not found:
                raise click.ClickException("that code is wrong, expired or already used")
            click.echo(f"{person}: number proven")
            return
        why = verify_flows.send_verify_code(pager, person, by, WAY, now)
        if why is not None:
            raise click.ClickException(f"no code sent: {why}")
        click.echo(f"a code is on its way to {person}: they reply with it by SMS (valid 10 min)")

    _with_pager(config_path, work)


@click.command()
@click.argument("person")
@click.option("--test", "test", is_flag=True, help="A test page: only PERSON, marked as a test.")
@click.option("--by", default="cli", show_default=True, help="Who asks, for the timeline.")
@config_option
def page(person: str, test: bool, by: str, config_path: Path | None) -> None:
    """Page PERSON through their own route: `pager page --test alice`."""
    if not test:
        raise click.UsageError("only test pages can be sent from here: add --test")
    number = _with_pager(
        config_path, lambda p: people_flows.send_test_page(p, person, by, WAY, utcnow())
    )
    click.echo(f"test page #{number} sent to {person}: they acknowledge it like any page")
