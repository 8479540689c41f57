"""The audit trail: rows are only ever added (no update, no delete in the code)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pager.store.people_models import AuditEntry

# How an action came; anything else (an integration's source, "all its alerts resolved") is
# recorded as `pager`, with what it was kept in the detail.
WAYS = ("sms", "voice", "dashboard", "api", "cli", "pager")


def record(
    session: Session,
    at: datetime,
    actor: str,
    way: str,
    action: str,
    target: str = "",
    detail: str = "",
    remote_addr: str | None = None,
) -> None:
    if way not in WAYS:
        way, detail = "pager", f"{way}; {detail}" if detail else way
    session.add(
        AuditEntry(
            at=at,
            actor=actor[:200],
            way=way,
            action=action,
            target=target[:300],
            detail=detail,
            remote_addr=remote_addr,
        )
    )


def entries(
    session: Session,
    *,
    before_id: int | None = None,
    action: str | None = None,
    actor: str | None = None,
    limit: int = 100,
) -> Sequence[AuditEntry]:
    """Newest first; `before_id` pages back from a previous page's last row."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    if action:
        query = query.where(AuditEntry.action == action)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    return session.scalars(query).all()


def count_from_address(session: Session, action: str, address: str, since: datetime) -> int:
    """How many `action` entries came from `address` after `since`."""
    query = select(func.count()).where(
        AuditEntry.action == action, AuditEntry.remote_addr == address, AuditEntry.at > since
    )
    return session.scalar(query) or 0
