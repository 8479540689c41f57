"""Live runners: each beats every second; one silent for `DEAD_AFTER` is taken as dead.

Liveness is judged by the database's clock, never a runner's own: heartbeats, send leases and
the judgement of both are times read from the one server (or file) every runner shares, so two
instances whose clocks disagree by minutes still agree on who is alive. Times in tests are given
explicitly (`clock=`) instead.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Select, delete, func, or_, select, text, update
from sqlalchemy.orm import Session

from pager.store.models import Notification, Runner

DEAD_AFTER = timedelta(seconds=3)


def database_now(session: Session) -> datetime:
    """The database's own clock, as an aware UTC datetime."""
    if session.get_bind().dialect.name == "sqlite":
        # SQLite reads the clock of the machine that holds the file all its runners share.
        value = session.execute(text("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')")).scalar_one()
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    now: datetime = session.execute(text("SELECT clock_timestamp()")).scalar_one()
    return now.astimezone(UTC)


def register(
    session: Session, runner_id: str, host: str, pid: int, clock: datetime | None = None
) -> None:
    now = clock or database_now(session)
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


def beat(session: Session, runner_id: str, clock: datetime | None = None) -> None:
    seen = clock or database_now(session)
    session.execute(update(Runner).where(Runner.id == runner_id).values(seen_at=seen))


def unregister(session: Session, runner_id: str) -> None:
    session.execute(delete(Runner).where(Runner.id == runner_id))


def lease_is_dead(clock: datetime) -> ColumnElement[bool]:
    """True for a notification whose sender's lease ran out or whose runner stopped beating,
    at `clock`, the database's time (`database_now`)."""
    return or_(
        Notification.lease_until < clock,
        Notification.lease_owner.is_not(None) & Notification.lease_owner.not_in(_alive(clock)),
    )


def live(session: Session, clock: datetime | None = None) -> int:
    """How many runners beat within `DEAD_AFTER` of `clock` (the database's time if not given)."""
    alive = _alive(clock or database_now(session)).subquery()
    return session.scalar(select(func.count()).select_from(alive)) or 0


def _alive(clock: datetime) -> Select[str]:
    return select(Runner.id).where(Runner.seen_at >= clock - DEAD_AFTER)
