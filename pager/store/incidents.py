"""Queries about incidents, their alerts and their timelines."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from pager.store.models import Alert, Incident, Notification, TimelineEntry

OPEN = ("triggered", "acknowledged")
_IN_CHUNK = 500  # values per IN (...): well under every driver's parameter limit


def get(session: Session, incident_id: int, *, skip_locked: bool = False) -> Incident | None:
    """The incident; with `skip_locked`, None while another runner holds it (PostgreSQL)."""
    query = select(Incident).where(Incident.id == incident_id)
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    return session.scalars(query).first()


def open_alerts(session: Session, integration: str, fingerprints: set[str]) -> dict[str, Alert]:
    """The alerts with these fingerprints on open incidents (the newest of each), in a few
    queries whatever their number."""
    found: dict[str, Alert] = {}
    keys = sorted(fingerprints)
    for start in range(0, len(keys), _IN_CHUNK):
        query = (
            select(Alert)
            .join(Incident)
            .where(
                Alert.integration == integration,
                Alert.fingerprint.in_(keys[start : start + _IN_CHUNK]),
                Incident.status.in_(OPEN),
            )
            .order_by(Alert.id)
        )
        found.update((alert.fingerprint, alert) for alert in session.scalars(query))
    return found


def open_incident_for_group(session: Session, integration: str, group_key: str) -> Incident | None:
    query = (
        select(Incident)
        .where(
            Incident.integration == integration,
            Incident.group_key == group_key,
            Incident.status.in_(OPEN),
        )
        .order_by(Incident.id.desc())
    )
    return session.scalars(query).first()


def open_count(session: Session) -> int:
    return session.scalar(select(func.count()).where(Incident.status.in_(OPEN))) or 0


def code_in_use(session: Session, code: str) -> bool:
    """Whether an open incident has this ack code (one indexed lookup, not a list of codes)."""
    query = select(Incident.id).where(Incident.status.in_(OPEN), Incident.ack_code == code)
    return session.scalar(query.limit(1)) is not None


def firing_count(session: Session, incident_id: int) -> int:
    query = select(func.count()).where(Alert.incident_id == incident_id, Alert.status == "firing")
    return session.scalar(query) or 0


def alert_count(session: Session, incident_id: int) -> int:
    return session.scalar(select(func.count()).where(Alert.incident_id == incident_id)) or 0


def listing(session: Session, status: str | None, limit: int) -> Sequence[Incident]:
    query = select(Incident).order_by(Incident.id.desc()).limit(limit)
    if status:
        query = query.where(Incident.status == status)
    return session.scalars(query).all()


def timeline(session: Session, incident_id: int) -> Sequence[TimelineEntry]:
    query = (
        select(TimelineEntry)
        .where(TimelineEntry.incident_id == incident_id)
        .order_by(TimelineEntry.at, TimelineEntry.id)
    )
    return session.scalars(query).all()


def add_timeline(session: Session, incident_id: int, at: datetime, kind: str, message: str) -> None:
    session.add(TimelineEntry(incident_id=incident_id, at=at, kind=kind, message=message))


def due_for_escalation(session: Session, now: datetime, limit: int = 100) -> list[int]:
    query = (
        select(Incident.id)
        .where(Incident.status == "triggered", Incident.escalation_due_at <= now)
        .order_by(Incident.escalation_due_at)
        .limit(limit)
    )
    return list(session.scalars(query))


def claim_step(
    session: Session, incident_id: int, step: int, next_step: int, next_due: datetime | None
) -> bool:
    """Move the incident from `step` to `next_step`; False when another runner got there first.

    The conditional UPDATE is the claim: on PostgreSQL a second runner blocks on the row lock,
    then sees the step already moved and updates nothing (DESIGN invariant 4).
    """
    result = session.execute(
        update(Incident)
        .where(
            Incident.id == incident_id,
            Incident.status == "triggered",
            Incident.escalation_step == step,
        )
        .values(escalation_step=next_step, escalation_due_at=next_due)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def next_escalation_due(session: Session) -> datetime | None:
    query = select(func.min(Incident.escalation_due_at)).where(Incident.status == "triggered")
    return session.scalar(query)


def open_incidents_paged_to(session: Session, phone: str) -> Sequence[Incident]:
    """Open incidents that paged `phone` (the only ones that number may acknowledge)."""
    paged = select(Notification.incident_id).where(Notification.phone == phone)
    query = (
        select(Incident)
        .where(Incident.id.in_(paged), Incident.status.in_(OPEN))
        .order_by(Incident.id)
    )
    return session.scalars(query).all()


def ever_paged(session: Session, phone: str) -> bool:
    query = select(Notification.id).where(Notification.phone == phone).limit(1)
    return session.scalars(query).first() is not None


def person_paged(session: Session, incident_id: int, phone: str) -> str | None:
    """The name of the person we paged at `phone` for this incident."""
    query = select(Notification.person_name).where(
        Notification.incident_id == incident_id, Notification.phone == phone
    )
    return session.scalars(query.limit(1)).first()


def recently_resolved(
    session: Session, integration: str, fingerprint: str, group_key: str | None, since: datetime
) -> Incident | None:
    """The latest incident of `integration` resolved since `since` that held this alert (or
    this group)."""
    holds_alert = select(Alert.incident_id).where(
        Alert.integration == integration, Alert.fingerprint == fingerprint
    )
    same: ColumnElement[bool] = Incident.id.in_(holds_alert)
    if group_key:
        same = or_(same, Incident.group_key == group_key)
    query = (
        select(Incident)
        .where(
            Incident.integration == integration,
            Incident.status == "resolved",
            Incident.resolved_at >= since,
            same,
        )
        .order_by(Incident.resolved_at.desc())
    )
    return session.scalars(query).first()


def postpone_step(session: Session, incident_id: int, step: int, until: datetime) -> bool:
    """Make the incident's current step due later; False when another runner moved it."""
    result = session.execute(
        update(Incident)
        .where(
            Incident.id == incident_id,
            Incident.status == "triggered",
            Incident.escalation_step == step,
        )
        .values(escalation_due_at=until)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def acks_expired(session: Session, now: datetime) -> Sequence[Incident]:
    """Acknowledged incidents whose ack timeout (held in `escalation_due_at`) has passed."""
    query = (
        select(Incident)
        .where(Incident.status == "acknowledged", Incident.escalation_due_at <= now)
        .with_for_update(skip_locked=True)
    )
    return session.scalars(query).all()
