"""The outbox: notifications waiting to go out, and each attempt through a provider."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from pager.store.models import Attempt, Notification

ACTIVE = ("pending", "sending")


def due(session: Session, now: datetime, limit: int) -> list[int]:
    """Notifications to send now: pending and due, or sending with an expired lease (a crash)."""
    query = (
        select(Notification.id)
        .where(
            or_(
                and_(Notification.status == "pending", Notification.next_attempt_at <= now),
                and_(Notification.status == "sending", Notification.lease_until < now),
            )
        )
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def claim(session: Session, notification_id: int, now: datetime, lease_until: datetime) -> bool:
    """Take a due notification for sending; False when another worker has it."""
    result = session.execute(
        update(Notification)
        .where(
            Notification.id == notification_id,
            or_(
                and_(Notification.status == "pending", Notification.next_attempt_at <= now),
                and_(Notification.status == "sending", Notification.lease_until < now),
            ),
        )
        .values(status="sending", lease_until=lease_until, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def get(session: Session, notification_id: int) -> Notification | None:
    return session.get(Notification, notification_id)


def attempt_by_token(session: Session, token: str) -> Attempt | None:
    return session.scalars(select(Attempt).where(Attempt.token == token)).first()


def attempt_by_provider_id(session: Session, provider: str, message_id: str) -> Attempt | None:
    query = select(Attempt).where(
        Attempt.provider == provider, Attempt.provider_message_id == message_id
    )
    return session.scalars(query).first()


def latest_attempt(session: Session, notification_id: int) -> Attempt | None:
    query = (
        select(Attempt)
        .where(Attempt.notification_id == notification_id)
        .order_by(Attempt.id.desc())
    )
    return session.scalars(query).first()


def active_for_incident(session: Session, incident_id: int) -> Sequence[Notification]:
    query = select(Notification).where(
        Notification.incident_id == incident_id, Notification.status.in_(ACTIVE)
    )
    return session.scalars(query).all()


def next_due(session: Session) -> datetime | None:
    pending = select(func.min(Notification.next_attempt_at)).where(Notification.status == "pending")
    leased = select(func.min(Notification.lease_until)).where(Notification.status == "sending")
    times = [t for t in (session.scalar(pending), session.scalar(leased)) if t is not None]
    return min(times) if times else None
