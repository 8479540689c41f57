"""Dashboard sessions kept server side: found by the SHA-256 of the cookie's token, ended by
sign-out, by "sign out everywhere", by an admin, or by idle time and absolute lifetime."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pager.store.people_models import WebSession


def add(session: Session, web_session: WebSession) -> WebSession:
    session.add(web_session)
    session.flush()
    return web_session


def by_token_digest(session: Session, digest: str) -> WebSession | None:
    return session.scalars(select(WebSession).where(WebSession.token_digest == digest)).first()


def open_of(session: Session, person: str) -> Sequence[WebSession]:
    query = (
        select(WebSession)
        .where(WebSession.person == person, WebSession.ended_at.is_(None))
        .order_by(WebSession.id.desc())
    )
    return session.scalars(query).all()


def end(web_session: WebSession, by: str, now: datetime) -> None:
    if web_session.ended_at is None:
        web_session.ended_at = now
        web_session.ended_by = by
