"""Authenticator-app secrets as stored, one per person."""

from __future__ import annotations

from sqlalchemy.orm import Session

from pager.store.people_models import TotpSecret


def of(session: Session, person: str) -> TotpSecret | None:
    return session.get(TotpSecret, person, with_for_update=True)


def put(session: Session, secret: TotpSecret) -> None:
    session.merge(secret)


def remove(session: Session, person: str) -> None:
    found = session.get(TotpSecret, person)
    if found is not None:
        session.delete(found)
