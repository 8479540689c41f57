"""The outgoing webhooks' outbox: deliveries waiting to go out, claimed by one runner at a time
(a lease by the database's clock), in order per receiver and incident."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from pager.store.models import WebhookDelivery

WAITING = ("pending", "sending")


def add(session: Session, delivery: WebhookDelivery) -> None:
    session.add(delivery)


def _claimable(now: datetime, clock: datetime) -> ColumnElement[bool]:
    """Pending and due, or being sent by a runner whose lease ran out (it died mid-send)."""
    return or_(
        and_(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now),
        and_(WebhookDelivery.status == "sending", WebhookDelivery.lease_until < clock),
    )


def due(session: Session, now: datetime, clock: datetime, limit: int) -> list[int]:
    """Deliveries to send now, oldest first: each the first still waiting of its receiver and
    incident (a later event of an incident waits for the earlier to be delivered or given up).
    On PostgreSQL, rows another runner is claiming are skipped."""
    earlier = aliased(WebhookDelivery)
    waits_behind = (
        select(earlier.id)
        .where(
            earlier.webhook == WebhookDelivery.webhook,
            earlier.incident_id == WebhookDelivery.incident_id,
            earlier.id < WebhookDelivery.id,
            earlier.status.in_(WAITING),
        )
        .exists()
    )
    query = (
        select(WebhookDelivery.id)
        .where(_claimable(now, clock), ~waits_behind)
        .order_by(WebhookDelivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=WebhookDelivery)
    )
    return list(session.scalars(query))


def claim(
    session: Session, delivery_id: int, now: datetime, clock: datetime, lease: timedelta
) -> bool:
    """Take a due delivery for sending, leased until `clock + lease`; False when another runner
    took it first."""
    result = session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, _claimable(now, clock))
        .values(status="sending", lease_until=clock + lease)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def get(session: Session, delivery_id: int) -> WebhookDelivery | None:
    return session.get(WebhookDelivery, delivery_id)


def next_due(session: Session) -> datetime | None:
    query = select(func.min(WebhookDelivery.next_attempt_at)).where(
        WebhookDelivery.status == "pending"
    )
    return session.scalar(query)


def waiting_count(session: Session) -> int:
    query = select(func.count()).where(WebhookDelivery.status.in_(WAITING))
    return session.scalar(query) or 0


def recent(session: Session, limit: int = 100) -> Sequence[WebhookDelivery]:
    """The delivery log, newest first."""
    query = select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(limit)
    return session.scalars(query).all()
