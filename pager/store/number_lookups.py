"""What the providers' lookups said of the numbers we page: the carrier a page is routed by."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pager.store.db import insert_on_conflict
from pager.store.models import NumberLookup


def carrier_of(session: Session, phone: str) -> str | None:
    """The carrier last looked up for `phone`; None when never looked up or not known."""
    return session.scalar(select(NumberLookup.carrier).where(NumberLookup.phone == phone))


def looked_up_since(session: Session, phones: Iterable[str], since: datetime) -> set[str]:
    """Those of `phones` looked up at or after `since`."""
    wanted = sorted(set(phones))
    if not wanted:
        return set()
    query = select(NumberLookup.phone).where(
        NumberLookup.phone.in_(wanted), NumberLookup.looked_up_at >= since
    )
    return set(session.scalars(query))


def record(
    session: Session,
    phone: str,
    *,
    carrier: str | None,
    line_type: str,
    valid: bool,
    source: str,
    at: datetime,
) -> None:
    """Keep what a lookup of `phone` said, replacing what an earlier one did. Two runners
    recording the same number at once both succeed; the later write stays."""
    values = {
        "carrier": carrier,
        "line_type": line_type,
        "valid": valid,
        "source": source,
        "looked_up_at": at,
    }
    insert = insert_on_conflict(session, NumberLookup).values(phone=phone, **values)
    statement = insert.on_conflict_do_update(index_elements=["phone"], set_=values)
    session.execute(statement)


def get(session: Session, phone: str) -> NumberLookup | None:
    return session.get(NumberLookup, phone)
