"""Heartbeats (dead man's switches): something must check in every `interval`; when it goes
quiet an incident opens, and the next beat resolves it. The incident is an ordinary alert of a
`heartbeat:<name>` integration, so dedup, paging and the timeline work as for any alert."""

from __future__ import annotations

from datetime import datetime

from pager.config import HeartbeatSettings, IntegrationSettings
from pager.domain.alerts import AlertEvent, AlertStatus
from pager.flows.context import Pager
from pager.flows.intake import receive_alerts
from pager.store import heartbeats


def register_heartbeats(pager: Pager, now: datetime) -> None:
    with pager.db.transaction() as session:
        for beat in pager.settings.heartbeats.values():
            heartbeats.ensure(session, beat.name, now + beat.interval)


def heard(pager: Pager, beat: HeartbeatSettings, now: datetime) -> datetime:
    """Record a beat; resolve the missed-heartbeat incident if one is open. Returns next due."""
    with pager.db.transaction() as session:
        row = heartbeats.get(session, beat.name)
        if row is None:
            heartbeats.ensure(session, beat.name, now)
            row = heartbeats.get(session, beat.name)
            assert row is not None
        was_missed = row.due_at is None
        row.last_beat_at = now
        row.due_at = now + beat.interval
    if was_missed:
        _report(pager, beat, "resolved", now)
    return now + beat.interval


def check_heartbeats(pager: Pager, now: datetime) -> list[str]:
    """Open an incident for every heartbeat that went quiet; returns their names."""
    if not pager.settings.heartbeats:
        return []
    with pager.db.read() as session:  # most wake-ups find none: then take no write lock
        if not heartbeats.overdue(session, now):
            return []
    with pager.db.transaction() as session:
        missed = [
            name for name in heartbeats.overdue(session, now) if name in pager.settings.heartbeats
        ]
        for name in missed:
            row = heartbeats.get(session, name)
            assert row is not None
            row.due_at = None
    for name in missed:
        _report(pager, pager.settings.heartbeats[name], "firing", now)
    return missed


def _report(pager: Pager, beat: HeartbeatSettings, status: AlertStatus, now: datetime) -> None:
    integration = IntegrationSettings(f"heartbeat:{beat.name}", beat.service, "heartbeat", None)
    minutes = int(beat.interval.total_seconds() // 60)
    summary = f"no heartbeat from '{beat.name}' for over {minutes} min" if minutes else None
    event = AlertEvent(
        fingerprint=f"heartbeat:{beat.name}",
        status=status,
        name=f"Heartbeat {beat.name} missed",
        group_key=f"heartbeat:{beat.name}",
        summary=summary,
        labels={"heartbeat": beat.name},
    )
    receive_alerts(pager, integration, [event], now)
