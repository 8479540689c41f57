"""`pager silence`: maintenance windows from the command line.

Through a running daemon's API when `PAGER_URL` (or `--url`) is set, as a person at a laptop
does; else on the database of `--config`, as an operator on the daemon's host does."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from pager.app import build_pager
from pager.cli.api_client import Api, ApiRefused, json_option, token_option, url_option
from pager.cli.serve import config_option, settings_from
from pager.domain.durations import parse_duration
from pager.flows import silences
from pager.flows.context import utcnow


def _instant(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise click.BadParameter(f"not an ISO 8601 time: {text!r}") from exc
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def _show(silence: dict[str, Any], as_json: bool) -> str:
    if as_json:
        return json.dumps(silence)
    starts_at, ends_at = _instant(silence["starts_at"]), _instant(silence["ends_at"])
    return (
        f"#{silence['id']}  {silence['service']}  {starts_at:%Y-%m-%d %H:%M} -> "
        f"{ends_at:%Y-%m-%d %H:%M} UTC  by {silence['created_by']}: {silence['reason'] or '-'}"
    )


def _api(api_url: str | None, api_token: str | None, as_json: bool) -> Api | None:
    return Api.of(api_url, api_token, as_json) if api_url else None


@click.group()
def silence() -> None:
    """Maintenance windows: alerts are kept and shown, nobody is paged.

    Through the API of PAGER_URL (or --url) when it is set; else on the database of
    --config (PAGER_CONFIG)."""


# Which part of the command line a refused field came from.
_WHERE_GIVEN = {
    "service": "SERVICE",
    "starts_at": "--from",
    "ends_at": "--for/--until",
    "duration_minutes": "--for",
}


@silence.command("add")
@click.argument("service")
@click.option("--for", "length", help="How long, like 30m or 2h.")
@click.option("--until", "until", help="When it ends (ISO 8601; naive means UTC).")
@click.option("--from", "start", help="When it starts (default: now).")
@click.option("--reason", default="", help="Why, for the timeline.")
@click.option("--by", help="Who, for the timeline (default: cli; through the API, the token's).")
@config_option
@url_option(required=False)
@token_option
@json_option
def add(
    service: str,
    length: str | None,
    until: str | None,
    start: str | None,
    reason: str,
    by: str | None,
    config_path: Path | None,
    api_url: str | None,
    api_token: str | None,
    as_json: bool,
) -> None:
    """Silence SERVICE for a while: `pager silence add payments --for 1h --reason upgrade`."""
    if (length is None) == (until is None):
        raise click.UsageError("give exactly one of --for and --until")
    try:
        duration = parse_duration(length) if length is not None else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--for") from exc
    asked = _Window(service, _instant(start), _instant(until), duration, reason, by)
    api = _api(api_url, api_token, as_json)
    view = _add_through(api, asked) if api is not None else _add_here(config_path, asked)
    click.echo(_show(view, as_json) if as_json else f"silenced {_show(view, as_json)}")


@dataclass(frozen=True)
class _Window:
    """A maintenance window as the command line gave it (start: now when None)."""

    service: str
    starts_at: datetime | None
    ends_at: datetime | None
    duration: timedelta | None
    reason: str
    by: str | None

    def ends_from(self, starts_at: datetime) -> datetime:
        return self.ends_at or starts_at + (self.duration or timedelta())


def _add_through(api: Api, asked: _Window) -> dict[str, Any]:
    body: dict[str, Any] = {"service": asked.service, "reason": asked.reason}
    if asked.starts_at is not None:
        body["starts_at"] = asked.starts_at.isoformat()
    duration = asked.duration
    if duration is not None and duration % timedelta(minutes=1) == timedelta(0):
        body["duration_minutes"] = duration // timedelta(minutes=1)  # the daemon's clock
    else:
        body["ends_at"] = asked.ends_from(asked.starts_at or utcnow()).isoformat()
    if asked.by:
        body["by"] = asked.by
    try:
        return api.call("POST", "/silences", body)
    except ApiRefused as exc:
        field = exc.body.get("field")
        if field not in _WHERE_GIVEN or api.as_json:
            raise
        raise click.ClickException(f"{_WHERE_GIVEN[field]}: {exc.message}") from exc


def _add_here(config_path: Path | None, asked: _Window) -> dict[str, Any]:
    now = utcnow()
    starts_at = asked.starts_at or now
    ends_at = asked.ends_from(starts_at)
    pager = build_pager(settings_from(config_path, None))
    try:
        view = silences.add_silence(
            pager,
            asked.service,
            starts_at,
            ends_at,
            asked.reason,
            asked.by or "cli",
            now,
            way="cli",
        )
    except silences.SilenceRefused as exc:
        raise click.ClickException(f"{_WHERE_GIVEN[exc.field]}: {exc}") from exc
    finally:
        pager.db.dispose()
    return view.to_json()


@silence.command("list")
@config_option
@url_option(required=False)
@token_option
@json_option
def list_(
    config_path: Path | None, api_url: str | None, api_token: str | None, as_json: bool
) -> None:
    """Current and future maintenance windows (one JSON object a line with --json)."""
    api = _api(api_url, api_token, as_json)
    if api is not None:
        found = list(api.walk("/silences", "silences", 2**31))
    else:
        pager = build_pager(settings_from(config_path, None))
        try:
            found = [view.to_json() for view in silences.list_silences(pager, utcnow())]
        finally:
            pager.db.dispose()
    for view in found:
        click.echo(_show(view, as_json))
    if not found and not as_json:
        click.echo("no maintenance windows")


@silence.command("end")
@click.argument("silence_id", type=click.IntRange(min=1))
@config_option
@url_option(required=False)
@token_option
@json_option
def end(
    silence_id: int,
    config_path: Path | None,
    api_url: str | None,
    api_token: str | None,
    as_json: bool,
) -> None:
    """End a maintenance window now."""
    api = _api(api_url, api_token, as_json)
    if api is not None:
        view = api.call("DELETE", f"/silences/{silence_id}")
    else:
        pager = build_pager(settings_from(config_path, None))
        try:
            ended = silences.end_silence(pager, silence_id, utcnow(), by="cli", way="cli")
        finally:
            pager.db.dispose()
        if ended is None:
            raise click.ClickException(f"no maintenance window #{silence_id}")
        view = ended.to_json()
    click.echo(_show(view, as_json) if as_json else f"ended {_show(view, as_json)}")
