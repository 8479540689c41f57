"""The sandbox provider's pretend phones: every message to and from them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from pager.store.models import SandboxMessage


def add(session: Session, message: SandboxMessage) -> None:
    session.add(message)


def recent(session: Session, limit: int = 500) -> Sequence[SandboxMessage]:
    query = select(SandboxMessage).order_by(SandboxMessage.id.desc()).limit(limit)
    return list(reversed(session.scalars(query).all()))
