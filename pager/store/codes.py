"""One-time codes as stored: their keyed hashes, tries, use and the counts their limits need."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from pager.store.people_models import AuthCode


def add(session: Session, code: AuthCode) -> AuthCode:
    session.add(code)
    session.flush()
    return code


def live_for(session: Session, purpose: str, person: str, now: datetime) -> AuthCode | None:
    """The person's newest code for `purpose` that can still be used."""
    query = _live(purpose, now).where(AuthCode.person == person).with_for_update()
    return session.scalars(query).first()


def live_to_number(session: Session, purpose: str, phone: str, now: datetime) -> AuthCode | None:
    """The newest usable code of `purpose` sent to `phone`, whoever it was for."""
    return session.scalars(_live(purpose, now).where(AuthCode.phone == phone)).first()


def _live(purpose: str, now: datetime) -> Select[AuthCode]:
    return (
        select(AuthCode)
        .where(
            AuthCode.purpose == purpose,
            AuthCode.used_at.is_(None),
            AuthCode.voided_at.is_(None),
            AuthCode.expires_at > now,
        )
        .order_by(AuthCode.id.desc())
        .limit(1)
    )


def void_live(session: Session, purpose: str, person: str, now: datetime) -> None:
    """A new code replaces the older ones: only the newest works."""
    for code in session.scalars(
        select(AuthCode).where(
            AuthCode.purpose == purpose,
            AuthCode.person == person,
            AuthCode.used_at.is_(None),
            AuthCode.voided_at.is_(None),
        )
    ):
        code.voided_at = now


def sent_to_number_since(session: Session, phone: str, since: datetime) -> int:
    query = select(func.count()).where(AuthCode.phone == phone, AuthCode.created_at > since)
    return session.scalar(query) or 0


def asked_from_address_since(session: Session, address: str, since: datetime) -> int:
    query = select(func.count()).where(AuthCode.remote_addr == address, AuthCode.created_at > since)
    return session.scalar(query) or 0


def spent_with_text(session: Session, now: datetime, limit: int = 100) -> Sequence[AuthCode]:
    """Codes that can no longer be used whose SMS text may still hold them."""
    query = (
        select(AuthCode)
        .where(
            AuthCode.notification_id.is_not(None),
            (AuthCode.used_at.is_not(None))
            | (AuthCode.voided_at.is_not(None))
            | (AuthCode.expires_at <= now),
        )
        .limit(limit)
    )
    return session.scalars(query).all()
