"""The outbox: notifications waiting to go out, and each attempt through a provider."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, not_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pager.domain.messages import channel_word
from pager.domain.states import PageState, check
from pager.store import incidents, runners
from pager.store.models import Attempt, Incident, Notification

ACTIVE = (PageState.PENDING, PageState.SENDING)


def _claimable(now: datetime, clock: datetime) -> ColumnElement[bool]:
    """Pending and due at `now`, or being sent by a runner that died (lease over, or no
    heartbeat) by the database's `clock`."""
    return or_(
        and_(Notification.status == PageState.PENDING, Notification.next_attempt_at <= now),
        and_(Notification.status == PageState.SENDING, runners.lease_is_dead(clock)),
    )


def due(
    session: Session, now: datetime, limit: int, clock: datetime | None = None
) -> list[tuple[int, str, str]]:
    """(id, phone, channel) of notifications to send now, oldest first. On PostgreSQL rows
    another runner is claiming are skipped. `clock`: the database's time (read if not given)."""
    clock = clock or runners.database_now(session)
    query = (
        select(Notification.id, Notification.phone, Notification.channel)
        .where(_claimable(now, clock))
        .order_by(Notification.id)  # oldest first, also behind pages a provider's rate held
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [(row.id, row.phone, row.channel) for row in session.execute(query)]


def in_flight(
    session: Session, recipients: Iterable[tuple[str, str]], clock: datetime
) -> set[tuple[str, str]]:
    """Those of `recipients` (phone, channel) with a notification being sent right now by a
    live runner, by the database's `clock`."""
    wanted = set(recipients)
    if not wanted:
        return set()
    query = select(Notification.phone, Notification.channel).where(
        Notification.status == PageState.SENDING,
        Notification.phone.in_({phone for phone, _ in wanted}),
        not_(runners.lease_is_dead(clock)),
    )
    return {(row.phone, row.channel) for row in session.execute(query)} & wanted


def load(session: Session, notification_ids: Iterable[int]) -> None:
    """Read these notifications and their incidents into the session in two queries, so that
    a batch's `get`s (and `incidents.get`s) of them cost none. The session's identity map
    holds objects only weakly: the session's `info` keeps them for its lifetime."""
    ids = list(notification_ids)
    if not ids:
        return
    loaded = _keep(session, select(Notification).where(Notification.id.in_(ids)))
    incident_ids = {n.incident_id for n in loaded if n.incident_id is not None}
    if incident_ids:
        _keep(session, select(Incident).where(Incident.id.in_(incident_ids)))


def claim_all(
    session: Session,
    notification_ids: Sequence[int],
    now: datetime,
    clock: datetime,
    lease: timedelta,
    owner: str | None,
) -> list[int]:
    """Take due notifications for sending, leased for `lease` by the database's `clock`, in
    one statement: those taken (not another runner's), in the order given."""
    if not notification_ids:
        return []
    result = session.execute(
        update(Notification)
        .where(Notification.id.in_(notification_ids), _claimable(now, clock))
        .values(
            status=PageState.SENDING, lease_until=clock + lease, lease_owner=owner, updated_at=now
        )
        .returning(Notification.id)
        .execution_options(synchronize_session=False)
    )
    taken = set(result.scalars())
    return [notification_id for notification_id in notification_ids if notification_id in taken]


def load_attempts(session: Session, attempt_ids: Iterable[int]) -> None:
    """Read these attempts and their notifications into the session in two queries (kept, as
    `load` keeps them, for the session's lifetime)."""
    ids = list(attempt_ids)
    if not ids:
        return
    attempts = _keep(session, select(Attempt).where(Attempt.id.in_(ids)))
    notification_ids = {a.notification_id for a in attempts}
    _keep(session, select(Notification).where(Notification.id.in_(notification_ids)))


def _keep(session: Session, query: Select[Any]) -> Sequence[Any]:
    """The rows `query` reads, kept in the session's `info` for its lifetime: its identity
    map holds objects only weakly, and a batch's later `get`s of them should cost no query."""
    rows = session.scalars(query).all()
    session.info.setdefault("loaded", []).extend(rows)
    return rows


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


def attempts_of(session: Session, notification_id: int) -> Sequence[Attempt]:
    query = select(Attempt).where(Attempt.notification_id == notification_id).order_by(Attempt.id)
    return session.scalars(query).all()


def active_for_incident(session: Session, incident_id: int) -> Sequence[Notification]:
    query = select(Notification).where(
        Notification.incident_id == incident_id, Notification.status.in_(ACTIVE)
    )
    return session.scalars(query).all()


def cancel_pending(session: Session, incident_id: int, now: datetime) -> list[Notification]:
    """Cancel the incident's pages still waiting to go out (it was acknowledged or resolved),
    such as a call a person's rules put minutes after their text; the timeline names them."""
    cancelled = [
        n for n in active_for_incident(session, incident_id) if n.status == PageState.PENDING
    ]
    for n in cancelled:
        n.status = check(n.status, PageState.CANCELLED)
        n.updated_at = now
    if cancelled:
        listed = ", ".join(
            f"{channel_word(n.channel)} to {n.person_name}"
            f" (due {n.next_attempt_at or now:%H:%M:%S} UTC)"
            for n in sorted(cancelled, key=lambda n: (n.next_attempt_at or now, n.id))
        )
        incidents.add_timeline(session, incident_id, now, "page", f"not sent: {listed}")
    return cancelled


def requeue(n: Notification, due: datetime, now: datetime) -> None:
    """Make `n` pending again, due at `due`, its claim (if any) released."""
    n.status = check(n.status, PageState.PENDING)
    n.next_attempt_at = due
    n.lease_until = None
    n.lease_owner = None
    n.updated_at = now


def oldest_due(session: Session, now: datetime, clock: datetime) -> datetime | None:
    """When the oldest notification due at `now` but not taken by a provider was created (None:
    nothing waits). `clock`: the database's time, which judges a dead sender's lease."""
    return session.scalar(select(func.min(Notification.created_at)).where(_claimable(now, clock)))


def next_due(session: Session) -> datetime | None:
    pending = select(func.min(Notification.next_attempt_at)).where(
        Notification.status == PageState.PENDING
    )
    leased = select(func.min(Notification.lease_until)).where(
        Notification.status == PageState.SENDING
    )
    times = [t for t in (session.scalar(pending), session.scalar(leased)) if t is not None]
    return min(times) if times else None


def sent_times(session: Session, phone: str, channel: str, since: datetime) -> list[datetime]:
    """When pages to `phone` on `channel` went out since `since` (a digest counts once)."""
    query = select(Notification.sent_at).where(
        Notification.phone == phone,
        Notification.channel == channel,
        Notification.sent_at >= since,
    )
    return [t for t in session.scalars(query) if t is not None]


def waiting_for(session: Session, phone: str, channel: str, but: int) -> Sequence[Notification]:
    """Other notifications to `phone` on `channel` still waiting to go out, oldest first, each
    locked for the caller's transaction. Another runner may be claiming one of them this very
    moment: on PostgreSQL that row is skipped (or, once claimed, no longer pending), so it is
    never both sent on its own and carried in a digest."""
    query = (
        select(Notification)
        .where(
            Notification.phone == phone,
            Notification.channel == channel,
            Notification.status == PageState.PENDING,
            Notification.id != but,
        )
        .order_by(Notification.id)
        .with_for_update(skip_locked=True)
    )
    return session.scalars(query).all()


def digested_into(session: Session, notification_id: int) -> Sequence[Notification]:
    """The held-back notifications a digest carried."""
    query = select(Notification).where(Notification.digest_of == notification_id)
    return session.scalars(query).all()


def add_once(session: Session, notification: Notification) -> bool:
    """Add `notification` unless one with its `dedup_key` is already queued; False then.

    Several runners may try at the same instant: the unique index lets one insert win (on
    PostgreSQL the others wait for it, then fail inside their savepoint and back off).
    """
    key = notification.dedup_key
    if key is None:
        raise ValueError("add_once needs a notification with a dedup_key")
    if session.scalar(select(Notification.id).where(Notification.dedup_key == key)) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(notification)
    except IntegrityError:
        return False
    return True


def add_to_timeline(
    session: Session, n: Notification, at: datetime, kind: str, message: str
) -> None:
    """Note on the timeline of `n`'s incident; a notice outside any incident has none."""
    if n.incident_id is not None:
        incidents.add_timeline(session, n.incident_id, at, kind, message)
