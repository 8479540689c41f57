"""`pager incidents`, `show`, `ack`, `resolve`, `escalate`, `note`: incidents through a running
daemon's API (`PAGER_URL`, `PAGER_TOKEN`)."""

from __future__ import annotations

import json
from typing import Any

import click

from pager.cli.api_client import Api, json_option, token_option, url_option
from pager.domain.states import IncidentState

STATUSES = tuple(state.value for state in IncidentState)


def _when(value: str | None) -> str:
    """An API time as the CLI shows times: `2026-12-08 09:00:00 UTC` (to the second)."""
    return f"{value[:19].replace('T', ' ')} UTC" if value else "-"


def _line(incident: dict[str, Any]) -> str:
    return (
        f"#{incident['id']}  {incident['status']:<12}  {incident['service']}  "
        f"{_when(incident['created_at'])}  {incident['title']}"
    )


def _answered(incident: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(incident))
    else:
        _show(incident)


@click.command()
@url_option(required=True)
@token_option
@click.option("--status", type=click.Choice(STATUSES), help="Only incidents in this state.")
@click.option("--service", help="Only this service's incidents.")
@click.option("--since", help="Only those opened at or after (ISO 8601 with an offset, or Z).")
@click.option("--until", help="Only those opened before (ISO 8601 with an offset, or Z).")
@click.option(
    "--limit", type=click.IntRange(min=1), default=50, show_default=True, help="At most this many."
)
@json_option
def incidents(
    api_url: str,
    api_token: str | None,
    status: str | None,
    service: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Incidents, newest first, page after page (one JSON object a line with --json)."""
    api = Api.of(api_url, api_token, as_json)
    filters = {"status": status, "service": service, "since": since, "until": until}
    found = list(api.walk("/incidents", "incidents", limit + 1, **filters))
    for incident in found[:limit]:
        click.echo(json.dumps(incident) if as_json else _line(incident))
    if not found and not as_json:
        click.echo("no incidents")
    if len(found) > limit:
        click.echo(f"(more than {limit}: --limit to see more)", err=True)


def _show(incident: dict[str, Any]) -> None:
    click.echo(_line(incident))
    facts = [("urgency", incident.get("urgency")), ("summary", incident.get("summary"))]
    facts += [("alerts", f"{incident['firing_count']} firing of {incident['alert_count']}")]
    if incident.get("acknowledged_by"):
        when = _when(incident["acknowledged_at"])
        facts.append(("acknowledged", f"{when} by {incident['acknowledged_by']}"))
    if incident.get("resolved_by"):
        facts.append(("resolved", f"{_when(incident['resolved_at'])} by {incident['resolved_by']}"))
    facts.append(("next step", incident.get("next_step")))
    for name, value in facts:
        if value:
            click.echo(f"  {name + ':':<14}{value}")
    for entry in incident.get("timeline", []):
        click.echo(f"  {_when(entry['at'])}  {entry['kind']}: {entry['message']}")


def _incident_command(name: str, help_text: str) -> click.Command:
    """`pager <name> ID`: POST /api/v1/incidents/ID/<name>, then show the incident."""

    @click.command(name=name, help=help_text)
    @click.argument("incident_id", type=click.IntRange(min=1))
    @click.option("--by", help="Who, for the timeline, beside the token's name.")
    @url_option(required=True)
    @token_option
    @json_option
    def command(
        incident_id: int, by: str | None, api_url: str, api_token: str | None, as_json: bool
    ) -> None:
        api = Api.of(api_url, api_token, as_json)
        answer = api.call("POST", f"/incidents/{incident_id}/{name}", {"by": by} if by else None)
        _answered(answer, as_json)

    return command


ack = _incident_command("ack", "Acknowledge an incident: its escalation stops.")
resolve = _incident_command("resolve", "Resolve an incident.")
escalate = _incident_command("escalate", "Run an incident's next escalation step now.")


@click.command()
@click.argument("incident_id", type=click.IntRange(min=1))
@url_option(required=True)
@token_option
@json_option
def show(incident_id: int, api_url: str, api_token: str | None, as_json: bool) -> None:
    """An incident with its timeline."""
    answer = Api.of(api_url, api_token, as_json).call("GET", f"/incidents/{incident_id}")
    _answered(answer, as_json)


@click.command()
@click.argument("incident_id", type=click.IntRange(min=1))
@click.argument("text")
@click.option("--by", help="Who, for the timeline, beside the token's name.")
@url_option(required=True)
@token_option
@json_option
def note(
    incident_id: int,
    text: str,
    by: str | None,
    api_url: str,
    api_token: str | None,
    as_json: bool,
) -> None:
    """Add a note to an incident's timeline: `pager note 12 "restarted the primary"`."""
    body = {"text": text, **({"by": by} if by else {})}
    api = Api.of(api_url, api_token, as_json)
    answer = api.call("POST", f"/incidents/{incident_id}/notes", body)
    _answered(answer, as_json)
