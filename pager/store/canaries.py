"""Canary runs: started once per canary and period, found again by the nonce that comes back,
ended by that or by their deadline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pager.store.models import CanaryRun


def add_once(session: Session, run: CanaryRun) -> bool:
    """Insert `run` unless a run with its dedup key exists (another runner started it)."""
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError:
        return False
    return True


def latest(session: Session, canary: str, limit: int = 2) -> Sequence[CanaryRun]:
    """The canary's newest runs, newest first."""
    query = (
        select(CanaryRun)
        .where(CanaryRun.canary == canary)
        .order_by(CanaryRun.started_at.desc(), CanaryRun.id.desc())
        .limit(limit)
    )
    return session.scalars(query).all()


def last_started(session: Session, canary: str) -> datetime | None:
    query = select(func.max(CanaryRun.started_at)).where(CanaryRun.canary == canary)
    return session.scalar(query)


def in_flight(session: Session, nonce: str) -> CanaryRun | None:
    query = select(CanaryRun).where(CanaryRun.nonce == nonce, CanaryRun.status == "sent")
    return session.scalars(query).first()


def by_notification(session: Session, notification_id: int) -> CanaryRun | None:
    query = select(CanaryRun).where(CanaryRun.notification_id == notification_id)
    return session.scalars(query).first()


def overdue(session: Session, now: datetime) -> Sequence[CanaryRun]:
    query = select(CanaryRun).where(CanaryRun.status == "sent", CanaryRun.deadline <= now)
    return session.scalars(query.with_for_update(skip_locked=True)).all()


def latest_finished(session: Session) -> dict[str, CanaryRun]:
    """Each canary's newest finished run."""
    newest = (
        select(CanaryRun.canary, func.max(CanaryRun.id).label("id"))
        .where(CanaryRun.status != "sent")
        .group_by(CanaryRun.canary)
        .subquery()
    )
    query = select(CanaryRun).join(newest, CanaryRun.id == newest.c.id)
    return {run.canary: run for run in session.scalars(query)}
