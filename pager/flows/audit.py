"""Reading the audit trail (written by the flows that change state, in their transactions)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pager.flows.context import Pager
from pager.store import audit

MAX_PAGE = 500


@dataclass(frozen=True)
class AuditView:
    id: int
    at: datetime
    actor: str
    way: str
    action: str
    target: str
    detail: str
    remote_addr: str | None


def listing(
    pager: Pager,
    *,
    before_id: int | None = None,
    action: str | None = None,
    actor: str | None = None,
    limit: int = 100,
) -> list[AuditView]:
    """Newest first, at most `limit` (up to 501: a page of 500 and one more to tell whether
    more exist), older than `before_id` when given."""
    with pager.db.read() as session:
        rows = audit.entries(
            session,
            before_id=before_id,
            action=action,
            actor=actor,
            limit=max(1, min(limit, MAX_PAGE + 1)),
        )
        return [
            AuditView(r.id, r.at, r.actor, r.way, r.action, r.target, r.detail, r.remote_addr)
            for r in rows
        ]
