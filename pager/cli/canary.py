"""`pager canary --now`: prove every route now, and say how each round trip went."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import click

from pager.app import build_pager
from pager.cli.serve import config_option, settings_from
from pager.domain.phones import mask
from pager.flows import canaries
from pager.flows.context import Pager, utcnow

POLL = 0.5  # seconds between looks at the runs


@click.command()
@config_option
@click.option("--now", "now_", is_flag=True, help="Start a run of every canary at once.")
@click.option("--wait/--no-wait", default=True, help="Wait for each to come back or time out.")
def canary(config_path: Path | None, now_: bool, wait: bool) -> None:
    """Round-trip canaries: with --now, send one through every route now. The running daemon
    sends them and takes them back; this waits for each, and exits 1 if any failed."""
    pager = build_pager(settings_from(config_path, None))
    try:
        if not pager.settings.canaries:
            raise click.ClickException("no canaries: add a `canaries:` list to pager.yaml")
        if not now_:
            _show(pager)
            return
        started_at = utcnow()
        started = canaries.start_due(pager, started_at, forced=True)
        click.echo(f"started {len(started)} canary run(s); the daemon sends them")
        if wait:
            longest = max(c.timeout for c in pager.settings.canaries).total_seconds()
            deadline = time.monotonic() + longest + 15  # the daemon ends them at their timeout
            while time.monotonic() < deadline and _in_flight(pager, started_at):
                time.sleep(POLL)
        if not _show(pager, since=started_at):
            raise SystemExit(1)
    finally:
        pager.db.dispose()


def _in_flight(pager: Pager, since: datetime) -> bool:
    results = canaries.latest_runs_since(pager, since)
    return any(run is None or run.status == "sent" for _, run in results)


def _show(pager: Pager, since: datetime | None = None) -> bool:
    """One line a canary; whether none failed."""
    results = (
        canaries.latest_runs_since(pager, since)
        if since is not None
        else canaries.latest_results(pager)
    )
    good = True
    for settings, run in results:
        where = f"{settings.route} -> {mask(settings.to)}"
        if run is None:
            click.echo(f"{where}: no run yet")
        elif run.status == "ok":
            click.echo(f"{where}: ok, back in {run.seconds:.1f} s")
        elif run.status == "sent":
            click.echo(f"{where}: still on its way (is the daemon running?)")
            good = False
        else:
            click.echo(f"{where}: FAILED: {run.error}")
            good = False
    return good
