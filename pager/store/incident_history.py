"""The incidents opened in a span of time, read for `pager simulate` (nothing written)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pager.store.models import Incident


def opened_between(session: Session, start: datetime, end: datetime) -> Sequence[Incident]:
    """Incidents opened in [start, end), oldest first; test pages (`pager page --test`) left out."""
    query = (
        select(Incident)
        .where(Incident.created_at >= start, Incident.created_at < end, Incident.test_of.is_(None))
        .order_by(Incident.created_at, Incident.id)
    )
    return session.scalars(query).all()
