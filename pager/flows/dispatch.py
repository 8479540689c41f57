"""Send what the outbox holds through the providers, failing over from one to the next.

Each notification is claimed, its attempt recorded and committed, and only then is the provider
called (DESIGN invariant 2). A crash after the call and before its answer is recorded re-sends
the page when the lease expires: at least once, never zero times (invariant 3).
"""

from __future__ import annotations

import logging
import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from pager import metrics
from pager.domain.phones import mask
from pager.flows.context import Pager, utcnow
from pager.flows.limits import within_limits
from pager.providers.base import Provider, ProviderError, Sent
from pager.store import contacts, incidents, outbox
from pager.store.models import Attempt, Notification

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)  # longer than any provider call can take (timeouts are 10 s)
RETRY_AFTER = (timedelta(seconds=30), timedelta(minutes=2))  # after every provider failed


@dataclass(frozen=True)
class _Job:
    notification_id: int
    attempt_id: int
    provider: Provider
    token: str
    channel: str
    phone: str
    body: str


def claim_due(pager: Pager, now: datetime, limit: int, owner: str | None = None) -> list[int]:
    """Claim up to `limit` notifications that are due for runner `owner`; each goes to `send`."""
    claimed: list[int] = []
    recipients: set[tuple[str, str]] = set()
    with pager.db.transaction() as session:
        for notification_id, phone, channel in outbox.due(session, now, limit):
            # One at a time per number and channel: the per-number limit counts what went out,
            # and the one that goes collects the others that wait into a digest.
            if (phone, channel) in recipients:
                continue
            if outbox.claim(session, notification_id, now, now + LEASE, owner):
                claimed.append(notification_id)
                recipients.add((phone, channel))
    return claimed


def send(pager: Pager, notification_id: int) -> None:
    """Send a claimed notification through the provider whose turn it is; record the answer."""
    job = _start_attempt(pager, notification_id, utcnow())
    if job is None:
        return
    try:
        if job.channel == "sms":
            sent = job.provider.send_sms(
                job.phone, job.body, pager.callback_url(job.provider.name, "status", job.token)
            )
        else:
            sent = job.provider.call(
                job.phone,
                job.body,
                pager.callback_url(job.provider.name, "voice", job.token),
                pager.callback_url(job.provider.name, "status", job.token),
            )
    except ProviderError as error:
        _record_failure(pager, job, error, utcnow())
    except Exception as error:  # a provider bug must fail over, not lose the page
        log.exception("event=provider_crashed provider=%s", job.provider.name)
        _record_failure(
            pager, job, ProviderError(f"unexpected error: {error!r}", permanent=False), utcnow()
        )
    else:
        _record_sent(pager, job, sent, utcnow())


def _start_attempt(pager: Pager, notification_id: int, now: datetime) -> _Job | None:
    with pager.db.transaction() as session:
        n = outbox.get(session, notification_id)
        if n is None or n.status != "sending":
            return None
        if not still_wanted(session, n):
            n.status = "cancelled"
            return None
        if n.channel == "sms" and contacts.opted_out(session, n.phone):
            n.status = "skipped"
            outbox.add_to_timeline(
                session,
                n,
                now,
                "page",
                f"sms to {n.person_name} not sent: {mask(n.phone)} replied STOP",
            )
            return None
        limits = pager.settings.limits.get(n.channel, ())
        if n.provider_index == 0 and n.round == 0 and not within_limits(session, n, now, limits):
            return None
        providers = pager.providers_for(n.channel, n.phone)
        if n.provider_index >= len(providers):
            _give_up_or_retry(session, n, providers, now, "no provider can carry it")
            return None
        provider = providers[n.provider_index]
        attempt = Attempt(
            notification_id=n.id,
            provider=provider.name,
            token=secrets.token_urlsafe(16),
            status="sending",
            created_at=now,
            updated_at=now,
        )
        session.add(attempt)
        session.flush()
        return _Job(n.id, attempt.id, provider, attempt.token, n.channel, n.phone, n.body)


def still_wanted(session: Session, n: Notification) -> bool:
    """Whether `n` should still go out: a page while its incident is triggered; a notice
    outside any incident (handoff) always."""
    if n.incident_id is None:
        return True
    incident = incidents.get(session, n.incident_id)
    return incident is not None and incident.status == "triggered"


def _record_sent(pager: Pager, job: _Job, sent: Sent, now: datetime) -> None:
    with pager.db.transaction() as session:
        attempt = session.get(Attempt, job.attempt_id)
        n = outbox.get(session, job.notification_id)
        assert attempt is not None and n is not None
        attempt.provider_message_id = sent.provider_message_id
        attempt.status = later_status(attempt.status, sent.state)
        attempt.updated_at = now
        n.sent_at = n.sent_at or now
        if n.status == "sending":
            n.status = "delivered" if attempt.status == "delivered" else "sent"
            n.lease_until = None
            n.lease_owner = None
            n.updated_at = now
        verb = "sms" if job.channel == "sms" else "call"
        # Dated when the request went out: a fast delivery callback may be recorded before us.
        outbox.add_to_timeline(
            session,
            n,
            attempt.created_at,
            "page",
            f"{verb} to {n.person_name} ({mask(n.phone)}) sent via {job.provider.name}",
        )
    metrics.NOTIFICATIONS_SENT.labels(job.provider.name, job.channel).inc()
    log.info(
        "event=page_sent notification=%d provider=%s channel=%s to=%s",
        job.notification_id,
        job.provider.name,
        job.channel,
        mask(job.phone),
    )


def _record_failure(pager: Pager, job: _Job, error: ProviderError, now: datetime) -> None:
    with pager.db.transaction() as session:
        attempt = session.get(Attempt, job.attempt_id)
        n = outbox.get(session, job.notification_id)
        assert attempt is not None and n is not None
        attempt.status = "failed"
        attempt.error_code = error.code
        attempt.error_message = str(error)[:1000]
        attempt.updated_at = now
        fail_over(session, pager, n, attempt, now)
    pager.wake()
    log.warning(
        "event=page_failed notification=%d provider=%s code=%s permanent=%s",
        job.notification_id,
        job.provider.name,
        error.code,
        error.permanent,
    )


def fail_over(
    session: Session, pager: Pager, n: Notification, attempt: Attempt, now: datetime
) -> None:
    """Hand the notification to the next provider after `attempt` failed."""
    metrics.NOTIFICATIONS_FAILED.labels(attempt.provider, n.channel).inc()
    providers = pager.providers_for(n.channel, n.phone)
    why = f"{attempt.error_code or 'error'}: {attempt.error_message or 'failed'}"
    verb = "sms" if n.channel == "sms" else "call"
    n.provider_index += 1
    n.lease_until = None
    n.updated_at = now
    if n.provider_index < len(providers):
        n.status = "pending"
        n.next_attempt_at = now
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
    _give_up_or_retry(session, n, providers, now, "every provider failed")


def _give_up_or_retry(
    session: Session, n: Notification, providers: list[Provider], now: datetime, why: str
) -> None:
    verb = "sms" if n.channel == "sms" else "call"
    if providers and n.round < len(RETRY_AFTER):
        # Jitter, so pages that failed together don't all retry in the same instant.
        delay = RETRY_AFTER[n.round] * random.uniform(0.8, 1.2)
        n.round += 1
        n.provider_index = 0
        n.status = "pending"
        n.next_attempt_at = now + delay
        outbox.add_to_timeline(
            session,
            n,
            now,
            "failover",
            f"{verb} to {n.person_name}: {why}; trying again in {int(delay.total_seconds())}s",
        )
        return
    n.status = "failed"
    n.lease_until = None
    outbox.add_to_timeline(
        session,
        n,
        now,
        "failover",
        f"could not reach {n.person_name} by {n.channel}: {why}",
    )


_ORDER = {
    "sending": 0,
    "queued": 1,
    "sent": 2,
    "delivered": 3,
    "answered": 3,
    "no_answer": 3,
    "failed": 3,
}


def later_status(current: str, new: str) -> str:
    """Statuses only move forward: a late `sent` never overwrites `delivered`."""
    return new if _ORDER.get(new, 0) >= _ORDER.get(current, 0) else current
