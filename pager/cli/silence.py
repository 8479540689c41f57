"""`pager silence`: maintenance windows from the command line (the API does the same)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from pager.app import build_pager
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


def _show(view: silences.SilenceView) -> str:
    return (
        f"#{view.id}  {view.service}  {view.starts_at:%Y-%m-%d %H:%M} -> "
        f"{view.ends_at:%Y-%m-%d %H:%M} UTC  by {view.created_by}: {view.reason or '-'}"
    )


@click.group()
def silence() -> None:
    """Maintenance windows: alerts are kept and shown, nobody is paged."""


# Which part of the command line a refused field came from.
_WHERE_GIVEN = {"service": "SERVICE", "starts_at": "--from", "ends_at": "--for/--until"}


@silence.command("add")
@click.argument("service")
@click.option("--for", "length", help="How long, like 30m or 2h.")
@click.option("--until", "until", help="When it ends (ISO 8601; naive means UTC).")
@click.option("--from", "start", help="When it starts (default: now).")
@click.option("--reason", default="", help="Why, for the timeline.")
@click.option("--by", default="cli", show_default=True, help="Who, for the timeline.")
@config_option
def add(
    service: str,
    length: str | None,
    until: str | None,
    start: str | None,
    reason: str,
    by: str,
    config_path: Path | None,
) -> None:
    """Silence SERVICE for a while: `pager silence add payments --for 1h --reason upgrade`."""
    if (length is None) == (until is None):
        raise click.UsageError("give exactly one of --for and --until")
    now = utcnow()
    starts_at = _instant(start) or now
    try:
        ends_at = _instant(until) or starts_at + parse_duration(length)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--for") from exc
    pager = build_pager(settings_from(config_path, None))
    try:
        view = silences.add_silence(pager, service, starts_at, ends_at, reason, by, now, way="cli")
    except silences.SilenceRefused as exc:
        raise click.ClickException(f"{_WHERE_GIVEN[exc.field]}: {exc}") from exc
    finally:
        pager.db.dispose()
    click.echo(f"silenced {_show(view)}")


@silence.command("list")
@config_option
def list_(config_path: Path | None) -> None:
    """Current and future maintenance windows."""
    pager = build_pager(settings_from(config_path, None))
    try:
        found = silences.list_silences(pager, utcnow())
    finally:
        pager.db.dispose()
    for view in found:
        click.echo(_show(view))
    if not found:
        click.echo("no maintenance windows")


@silence.command("end")
@click.argument("silence_id", type=int)
@config_option
def end(silence_id: int, config_path: Path | None) -> None:
    """End a maintenance window now."""
    pager = build_pager(settings_from(config_path, None))
    try:
        view = silences.end_silence(pager, silence_id, utcnow(), by="cli", way="cli")
    finally:
        pager.db.dispose()
    if view is None:
        raise click.ClickException(f"no maintenance window #{silence_id}")
    click.echo(f"ended {_show(view)}")
