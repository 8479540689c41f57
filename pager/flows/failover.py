"""After an attempt failed: the next provider in the failover order, a later round through all
of them, or, after the last round, giving up with the reason on the timeline. Also the order
delivery statuses move in, which status callbacks share."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from pager import metrics
from pager.domain.messages import channel_word
from pager.domain.states import AttemptState, PageState
from pager.flows import verify_api as verify
from pager.flows.carriers import known_carrier
from pager.flows.context import Pager
from pager.flows.routes import route_of
from pager.providers.base import Provider
from pager.store import outbox
from pager.store.models import Attempt, Notification

RETRY_AFTER = (timedelta(seconds=30), timedelta(minutes=2))  # after every provider failed


def fail_over(
    session: Session, pager: Pager, n: Notification, attempt: Attempt, now: datetime
) -> None:
    """Hand the notification to the next provider after `attempt` failed."""
    metrics.NOTIFICATIONS_FAILED.labels(attempt.provider, n.channel).inc()
    carrier = known_carrier(session, pager.settings, n.phone)
    providers = route_of(pager, session, n, carrier)
    why = f"{attempt.error_code or 'error'}: {attempt.error_message or 'failed'}"
    verb = channel_word(n.channel)
    n.provider_index += 1
    n.lease_until = None
    n.updated_at = now
    if n.provider_index < len(providers):
        outbox.requeue(n, now, now)
        outbox.add_to_timeline(
            session,
            n,
            now,
            "failover",
            f"{verb} to {n.person_name} via {attempt.provider} failed ({why}); "
            f"trying {providers[n.provider_index].name}",
        )
        return
    outbox.add_to_timeline(
        session,
        n,
        now,
        "failover",
        f"{verb} to {n.person_name} via {attempt.provider} failed ({why})",
    )
    # A Verify code is wanted now: rather than retry the SMS in 30 s, call with a fresh one.
    if verify.call_instead(session, pager, n, now):
        return
    give_up_or_retry(session, n, providers, now, "every provider failed")


def give_up_or_retry(
    session: Session, n: Notification, providers: list[Provider], now: datetime, why: str
) -> None:
    verb = channel_word(n.channel)
    if providers and n.round < len(RETRY_AFTER):
        # Jitter, so pages that failed together don't all retry in the same instant.
        delay = RETRY_AFTER[n.round] * random.uniform(0.8, 1.2)
        n.round += 1
        n.provider_index = 0
        n.route = None  # a new round decides its route afresh (a provider may be back)
        n.status = PageState.PENDING
        n.next_attempt_at = now + delay
        outbox.add_to_timeline(
            session,
            n,
            now,
            "failover",
            f"{verb} to {n.person_name}: {why}; trying again in {int(delay.total_seconds())}s",
        )
        return
    n.status = PageState.FAILED
    n.lease_until = None
    outbox.add_to_timeline(
        session,
        n,
        now,
        "failover",
        f"could not reach {n.person_name} by {n.channel}: {why}",
    )


_ORDER: dict[str, int] = {
    AttemptState.SENDING: 0,
    AttemptState.QUEUED: 1,
    AttemptState.SENT: 2,
    AttemptState.DELIVERED: 3,
    AttemptState.ANSWERED: 3,
    AttemptState.NO_ANSWER: 3,
    AttemptState.FAILED: 3,
}


def later_status(current: str, new: str) -> str:
    """Statuses only move forward: a late `sent` never overwrites `delivered`."""
    return new if _ORDER.get(new, 0) >= _ORDER.get(current, 0) else current
