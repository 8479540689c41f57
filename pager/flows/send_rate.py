"""Each provider account's send rate (`rate: 1/s`), kept in the database so that every runner
sharing the account keeps to it together. Used inside the transaction that claims sends."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from pager.config import ProviderSettings
from pager.domain import rates
from pager.domain.limits import Limit
from pager.store import provider_slots


class SendRate:
    """The providers' slots as one claim sees them. Their rows are locked before the claim
    reads the outbox and stay locked until it commits: another runner's claim waits, then sees
    what ours took and held back, so the oldest page gets the next slot whichever runner
    claims it."""

    def __init__(self, session: Session, providers: Iterable[ProviderSettings], now: datetime):
        self._session = session
        self._now = now
        self._rates: dict[str, Limit] = {p.name: p.rate for p in providers if p.rate is not None}
        self._next_free = provider_slots.lock(session, self._rates, now) if self._rates else {}
        self._taken: set[str] = set()

    def rate(self, provider: str) -> Limit | None:
        return self._rates.get(provider)

    def free_at(self, provider: str) -> datetime:
        """When `provider` may take one more send: now, or later when its rate is used up."""
        rate = self._rates.get(provider)
        if rate is None:
            return self._now
        return rates.free_at(self._next_free.get(provider), rate, self._now)

    def take(self, provider: str) -> None:
        """Use one of `provider`'s sends now (it must be free)."""
        rate = self._rates.get(provider)
        if rate is None:
            return
        self._next_free[provider] = rates.take(self._next_free.get(provider), rate, self._now)
        self._taken.add(provider)

    def save(self) -> None:
        """Write the slots taken to the database (once each, whatever the count), before the
        claim commits."""
        for provider in sorted(self._taken):
            provider_slots.set_next_free(self._session, provider, self._next_free[provider])
        self._taken.clear()
