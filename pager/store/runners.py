"""Live runners: each beats every second; one silent for `DEAD_AFTER` is taken as dead."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.orm import Session

from pager.store.models import Notification, Runner

DEAD_AFTER = timedelta(seconds=3)


def register(session: Session, runner_id: str, host: str, pid: int, now: datetime) -> None:
    session.add(Runner(id=runner_id, host=host, pid=pid, started_at=now, seen_at=now))
    # Forget runners long gone, so the table stays small.
    session.execute(delete(Runner).where(Runner.seen_at < now - timedelta(days=1)))


def forget_gone(session: Session, host: str, is_running: Callable[[int], bool]) -> list[str]:
    """Drop this host's runners whose process is gone (a crash before this restart), so their
    sends are taken over now rather than when their heartbeat goes stale."""
    gone = [
        runner.id
        for runner in session.scalars(select(Runner).where(Runner.host == host))
        if not is_running(runner.pid)
    ]
    if gone:
        session.execute(delete(Runner).where(Runner.id.in_(gone)))
    return gone


def beat(session: Session, runner_id: str, now: datetime) -> None:
    session.execute(update(Runner).where(Runner.id == runner_id).values(seen_at=now))


def unregister(session: Session, runner_id: str) -> None:
    session.execute(delete(Runner).where(Runner.id == runner_id))


def lease_is_dead(now: datetime) -> ColumnElement[bool]:
    """True for a notification whose sender's lease ran out or whose runner stopped beating."""
    alive = select(Runner.id).where(Runner.seen_at >= now - DEAD_AFTER)
    return or_(
        Notification.lease_until < now,
        Notification.lease_owner.is_not(None) & Notification.lease_owner.not_in(alive),
    )
