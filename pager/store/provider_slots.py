"""When each provider account may send next: one row per provider, locked while a runner
claims sends, so several runners sharing an account keep to its rate together."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pager.store.db import insert_on_conflict
from pager.store.models import ProviderSlot


def lock(session: Session, providers: Iterable[str], now: datetime) -> dict[str, datetime]:
    """The `next_free_at` of each provider, its row locked until the transaction ends.

    Rows are locked in name order, so two runners never wait on each other crosswise. On SQLite
    the transaction already holds the database's write lock (BEGIN IMMEDIATE).
    """
    names = sorted(set(providers))
    if not names:
        return {}
    query = (
        select(ProviderSlot.provider, ProviderSlot.next_free_at)
        .where(ProviderSlot.provider.in_(names))
        .order_by(ProviderSlot.provider)
        .with_for_update()
    )
    found = {row.provider: row.next_free_at for row in session.execute(query)}
    missing = [name for name in names if name not in found]
    if missing:
        statement = insert_on_conflict(session, ProviderSlot).values(
            [{"provider": name, "next_free_at": now} for name in missing]
        )
        session.execute(statement.on_conflict_do_nothing(index_elements=["provider"]))
        found = {row.provider: row.next_free_at for row in session.execute(query)}
    return found


def set_next_free(session: Session, provider: str, at: datetime) -> None:
    session.execute(
        update(ProviderSlot)
        .where(ProviderSlot.provider == provider)
        .values(next_free_at=at)
        .execution_options(synchronize_session=False)
    )
