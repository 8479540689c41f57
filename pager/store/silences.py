"""Maintenance windows (silences) per service."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import Session

from pager.store.models import Silence

# Built once: every webhook that opens an incident runs it.
_ACTIVE = (
    select(Silence.id)
    .where(
        Silence.service == bindparam("service"),
        Silence.starts_at <= bindparam("at"),
        Silence.ends_at > bindparam("at"),
    )
    .order_by(Silence.ends_at.desc())
    .limit(1)
)


def active(session: Session, service: str, at: datetime) -> Silence | None:
    """The silence covering `service` at `at`, if any (the one ending last).

    Its id in Core first: usually none covers the service, and then the ORM loads nothing.
    """
    session.flush()  # as the ORM's autoflush would: a silence added in this session counts
    found = session.connection().execute(_ACTIVE, {"service": service, "at": at}).scalar()
    return session.get(Silence, found) if found is not None else None


def current_and_future(
    session: Session,
    now: datetime,
    after: tuple[datetime, int] | None = None,
    limit: int | None = None,
) -> Sequence[Silence]:
    """Silences not yet over, by start then id; only those after `after` (a keyset page)."""
    query = select(Silence).where(Silence.ends_at > now).order_by(Silence.starts_at, Silence.id)
    if after is not None:
        starts_at, silence_id = after
        query = query.where(
            or_(
                Silence.starts_at > starts_at,
                and_(Silence.starts_at == starts_at, Silence.id > silence_id),
            )
        )
    return session.scalars(query.limit(limit)).all()


def get(session: Session, silence_id: int) -> Silence | None:
    return session.get(Silence, silence_id)
