"""`pager audit`: the audit trail from the command line (the API's `/api/v1/audit` the same)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from pager.app import build_pager
from pager.cli.serve import config_option, settings_from
from pager.flows import audit as audit_flows


@click.command()
@config_option
@click.option("--action", help="Only this action (signed_in, incident_acknowledged...).")
@click.option("--actor", help="Only this actor (a person's handle or name, a token's name).")
@click.option(
    "--limit", type=click.IntRange(1, audit_flows.MAX_PAGE), default=50, show_default=True
)
@click.option("--before", type=click.IntRange(min=1), help="Entries older than this id.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def audit(
    config_path: Path | None,
    action: str | None,
    actor: str | None,
    limit: int,
    before: int | None,
    as_json: bool,
) -> None:
    """Who did what, newest first: sign-ins, codes sent, acks, resolves, silences, reloads."""
    pager = build_pager(settings_from(config_path, None))
    try:
        found = audit_flows.listing(
            pager, before_id=before, action=action, actor=actor, limit=limit
        )
    finally:
        pager.db.dispose()
    for entry in found:
        if as_json:
            click.echo(json.dumps({**asdict(entry), "at": entry.at.isoformat()}))
            continue
        where = f" from {entry.remote_addr}" if entry.remote_addr else ""
        detail = f": {entry.detail}" if entry.detail else ""
        click.echo(
            f"#{entry.id}  {entry.at:%Y-%m-%d %H:%M:%S} UTC  {entry.actor} ({entry.way})  "
            f"{entry.action} {entry.target}{detail}{where}"
        )
    if not found:
        click.echo("no audit entries")
