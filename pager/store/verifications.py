"""Verify verifications as stored: the newest for a number, by SID, the codes each sent, and
the counts their limits need."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pager.store.people_models import Verification, VerificationSend


def add(session: Session, verification: Verification) -> Verification:
    session.add(verification)
    session.flush()
    return verification


def add_send(session: Session, send: VerificationSend) -> None:
    session.add(send)
    session.flush()


def by_sid(session: Session, service_sid: str, sid: str) -> Verification | None:
    query = (
        select(Verification)
        .where(Verification.service_sid == service_sid, Verification.sid == sid)
        .with_for_update()
    )
    return session.scalars(query).first()


def pending_for(
    session: Session, service_sid: str, phone: str, now: datetime
) -> Verification | None:
    """The number's newest verification in this service that can still be approved."""
    query = (
        select(Verification)
        .where(
            Verification.service_sid == service_sid,
            Verification.phone == phone,
            Verification.status == "pending",
            Verification.expires_at > now,
        )
        .order_by(Verification.id.desc())
        .limit(1)
        .with_for_update()
    )
    return session.scalars(query).first()


def sends_of(session: Session, verification_id: int) -> Sequence[VerificationSend]:
    query = (
        select(VerificationSend)
        .where(VerificationSend.verification_id == verification_id)
        .order_by(VerificationSend.id)
    )
    return session.scalars(query).all()


def send_by_notification(session: Session, notification_id: int) -> VerificationSend | None:
    query = select(VerificationSend).where(VerificationSend.notification_id == notification_id)
    return session.scalars(query).first()


def sends_since(
    session: Session, since: datetime, *, phone: str | None = None, service_sid: str | None = None
) -> int:
    """Codes sent after `since`, to one number and/or for one service."""
    query = (
        select(func.count())
        .select_from(VerificationSend)
        .join(Verification, Verification.id == VerificationSend.verification_id)
        .where(VerificationSend.at > since)
    )
    if phone is not None:
        query = query.where(Verification.phone == phone)
    if service_sid is not None:
        query = query.where(Verification.service_sid == service_sid)
    return session.scalar(query) or 0


def spent_not_forgotten(
    session: Session, now: datetime, limit: int = 100
) -> Sequence[Verification]:
    """Verifications that can no longer be approved whose texts may still hold their codes."""
    query = (
        select(Verification)
        .where(
            Verification.forgotten_at.is_(None),
            (Verification.status != "pending") | (Verification.expires_at <= now),
        )
        .limit(limit)
    )
    return session.scalars(query).all()


def newest_for(session: Session, service_sid: str, phone: str) -> Verification | None:
    """The number's newest verification in this service, whatever its status."""
    query = (
        select(Verification)
        .where(Verification.service_sid == service_sid, Verification.phone == phone)
        .order_by(Verification.id.desc())
        .limit(1)
        .with_for_update()
    )
    return session.scalars(query).first()
