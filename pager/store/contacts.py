"""What we know about phone numbers that write to us: opt-outs, wrong codes, auto-replies."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from pager.store.models import InboundMessage, OptOut, ReplyEvent


def opted_out(session: Session, phone: str) -> bool:
    return session.get(OptOut, phone) is not None


def opt_out(session: Session, phone: str, now: datetime) -> None:
    if session.get(OptOut, phone) is None:
        session.add(OptOut(phone=phone, at=now))


def opt_in(session: Session, phone: str) -> None:
    session.execute(delete(OptOut).where(OptOut.phone == phone))


def record(session: Session, phone: str, kind: str, now: datetime) -> None:
    session.add(ReplyEvent(phone=phone, kind=kind, at=now))


def times_since(session: Session, phone: str, kind: str, since: datetime) -> list[datetime]:
    query = select(ReplyEvent.at).where(
        ReplyEvent.phone == phone, ReplyEvent.kind == kind, ReplyEvent.at >= since
    )
    return list(session.scalars(query))


def count_since(session: Session, phone: str, kind: str, since: datetime) -> int:
    query = select(func.count()).where(
        ReplyEvent.phone == phone, ReplyEvent.kind == kind, ReplyEvent.at >= since
    )
    return session.scalar(query) or 0


def keypad_pressed(session: Session, provider: str, attempt_id: int) -> bool:
    """Whether any key was pressed on the call attempt `attempt_id` (see `flows.feedback`)."""
    prefix = f"keypad:{attempt_id}:"
    query = select(InboundMessage.message_id).where(
        InboundMessage.provider == provider, InboundMessage.message_id.startswith(prefix)
    )
    return session.scalars(query.limit(1)).first() is not None


def first_time_seen(
    session: Session, provider: str, message_keys: Sequence[str], now: datetime
) -> bool:
    """Record the keys of an inbound message; False when any was handled before (a replay)."""
    seen = any(session.get(InboundMessage, (provider, key)) is not None for key in message_keys)
    for key in message_keys:
        session.merge(InboundMessage(provider=provider, message_id=key, at=now))
    session.flush()
    return not seen
