"""Personal API tokens as stored: their SHA-256, their person, revoked or not."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from pager.store.people_models import PersonalToken


def add(session: Session, token: PersonalToken) -> PersonalToken:
    session.add(token)
    session.flush()
    return token


def by_digest(session: Session, digest: str) -> PersonalToken | None:
    return session.scalars(select(PersonalToken).where(PersonalToken.digest == digest)).first()


def get(session: Session, token_id: int) -> PersonalToken | None:
    return session.get(PersonalToken, token_id)


def of(session: Session, person: str) -> Sequence[PersonalToken]:
    query = (
        select(PersonalToken)
        .where(PersonalToken.person == person, PersonalToken.revoked_at.is_(None))
        .order_by(PersonalToken.id)
    )
    return session.scalars(query).all()
