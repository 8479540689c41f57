"""Change events as stored: added once per retry window, read per service and time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pager.store.models import ChangeEvent


def seen_since(session: Session, digest: str, since: datetime) -> bool:
    query = select(ChangeEvent.id).where(
        ChangeEvent.digest == digest, ChangeEvent.received_at > since
    )
    return session.scalars(query.limit(1)).first() is not None


def add(session: Session, change: ChangeEvent) -> None:
    session.add(change)


def of_service(
    session: Session, service: str, since: datetime, until: datetime, limit: int
) -> Sequence[ChangeEvent]:
    """The service's changes that happened in [since, until], newest first."""
    query = (
        select(ChangeEvent)
        .where(
            ChangeEvent.service == service,
            ChangeEvent.happened_at >= since,
            ChangeEvent.happened_at <= until,
        )
        .order_by(ChangeEvent.happened_at.desc(), ChangeEvent.id.desc())
        .limit(limit)
    )
    return session.scalars(query).all()
