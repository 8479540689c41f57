"""Proven numbers (which person answered a code sent to which number) and test pages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pager.domain.states import PageState
from pager.store.models import Incident, Notification
from pager.store.people_models import VerifiedNumber

DELIVERED = (PageState.DELIVERED, PageState.ANSWERED)


def proven(session: Session) -> set[tuple[str, str]]:
    """Every (person, number) pair proven so far."""
    return {(row.person, row.phone) for row in session.scalars(select(VerifiedNumber))}


def prove(session: Session, person: str, phone: str, way: str, now: datetime) -> bool:
    """Keep the proof; False when the pair was proven already (the first proof stays)."""
    if session.get(VerifiedNumber, (person, phone)) is not None:
        return False
    session.add(VerifiedNumber(person=person, phone=phone, verified_at=now, way=way))
    session.flush()
    return True


def last_tests(session: Session, people: Sequence[str]) -> dict[str, Incident]:
    """Each person's newest test page."""
    found: dict[str, Incident] = {}
    query = (
        select(Incident)
        .where(Incident.test_of.in_(list(people)))
        .order_by(Incident.created_at.desc(), Incident.id.desc())
    )
    for incident in session.scalars(query):
        if incident.test_of is not None:
            found.setdefault(incident.test_of, incident)
    return found


def delivered(session: Session, incident_id: int) -> bool:
    """Whether a provider reported any page of the incident delivered (or a call answered)."""
    query = select(Notification.id).where(
        Notification.incident_id == incident_id, Notification.status.in_(DELIVERED)
    )
    return session.scalars(query.limit(1)).first() is not None
