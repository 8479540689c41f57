"""Heartbeat state: when each was last heard, and when it is due."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pager.store.models import Heartbeat


def ensure(session: Session, name: str, first_due: datetime) -> None:
    """A row for a configured heartbeat; a new one is due one interval after start-up."""
    if session.get(Heartbeat, name) is None:
        session.add(Heartbeat(name=name, last_beat_at=None, due_at=first_due))


def get(session: Session, name: str) -> Heartbeat | None:
    return session.get(Heartbeat, name)


def overdue(session: Session, now: datetime) -> list[str]:
    query = select(Heartbeat.name).where(Heartbeat.due_at <= now)
    return list(session.scalars(query.with_for_update(skip_locked=True)))
