"""What a provider answered a send, recorded: sent, failed (fail over), no answer (ask it
before sending again: see `flows.dispatch`), or not found there (send again, once)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from pager import metrics
from pager.domain.messages import channel_word
from pager.domain.phones import mask
from pager.flows.context import Pager, utcnow
from pager.flows.failover import fail_over, later_status
from pager.providers.base import FindsSms, Provider, ProviderError, Sent, SmsLookup
from pager.store import outbox
from pager.store.models import Attempt

log = logging.getLogger(__name__)

# After a timeout, give the provider a moment to file what it may have taken before asking.
LOOKUP_AFTER = timedelta(seconds=5)
NOT_FOUND = "not_found"  # error_code of an attempt the provider had no record of


@dataclass(frozen=True)
class SendJob:
    """One send (or lookup) through one provider, as started by `flows.dispatch`."""

    notification_id: int
    attempt_id: int
    provider: Provider
    token: str
    channel: str
    phone: str
    body: str
    reference: str | None = None
    lookup: SmsLookup | None = None  # set: find this attempt's SMS instead of sending
    route: str | None = None  # the carrier routing key that chose the provider, if one did


def record_sent(pager: Pager, job: SendJob, sent: Sent, now: datetime, how: str = "") -> None:
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
        verb = channel_word(job.channel)
        routed = f' (routing "{job.route}")' if job.route else ""
        # Dated when the request went out: a fast delivery callback may be recorded before us.
        outbox.add_to_timeline(
            session,
            n,
            attempt.created_at,
            "page",
            f"{verb} to {n.person_name} ({mask(n.phone)}) sent via {job.provider.name}"
            f"{routed}{how}",
        )
    metrics.NOTIFICATIONS_SENT.labels(job.provider.name, job.channel).inc()
    log.info(
        "event=page_sent notification=%d provider=%s channel=%s to=%s",
        job.notification_id,
        job.provider.name,
        job.channel,
        mask(job.phone),
    )


def record_failure(pager: Pager, job: SendJob, error: ProviderError, now: datetime) -> None:
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


def look_up(pager: Pager, job: SendJob, lookup: SmsLookup) -> None:
    """Ask the provider whether it took the SMS we never heard back about, and act on it."""
    assert isinstance(job.provider, FindsSms)
    try:
        found = job.provider.find_sms(lookup)
    except ProviderError as error:
        record_failure(pager, job, error, utcnow())
    except Exception as error:  # as in `send`: a provider bug fails over
        provider_crashed(pager, job, error)
    else:
        if found is None:
            record_not_found(pager, job, utcnow())
        elif found.state == "failed":
            failure = ProviderError(
                f"{job.provider.name} took the SMS but could not deliver it", permanent=False
            )
            record_failure(pager, job, failure, utcnow())
        else:
            record_sent(pager, job, found, utcnow(), " (found there after a timeout)")


def provider_crashed(pager: Pager, job: SendJob, error: Exception) -> None:
    log.exception("event=provider_crashed provider=%s", job.provider.name)
    failure = ProviderError(f"unexpected error: {error!r}", permanent=False)
    record_failure(pager, job, failure, utcnow())


def record_unknown(pager: Pager, job: SendJob, error: ProviderError, now: datetime) -> None:
    """No answer to the send: ask the provider about it shortly, before sending it again."""
    with pager.db.transaction() as session:
        attempt = session.get(Attempt, job.attempt_id)
        n = outbox.get(session, job.notification_id)
        assert attempt is not None and n is not None
        heard = attempt.provider_message_id  # its delivery status came before our answer did
        if heard is None:
            attempt.status = "unknown"
            attempt.error_code = error.code
            attempt.error_message = str(error)[:1000]
            attempt.updated_at = now
            outbox.requeue(n, now + LOOKUP_AFTER, now)
            outbox.add_to_timeline(
                session,
                n,
                now,
                "page",
                f"{channel_word(n.channel)} to {n.person_name} via {job.provider.name}: "
                f"no answer in time; asking {job.provider.name} whether it went out before "
                "sending again",
            )
    if heard is not None:
        record_sent(pager, job, Sent(heard, "sent"), now)
        return
    pager.wake()
    log.warning(
        "event=page_unanswered notification=%d provider=%s error=%s",
        job.notification_id,
        job.provider.name,
        error,
    )


def record_not_found(pager: Pager, job: SendJob, now: datetime) -> None:
    """The provider never took it: send it again through the same provider, once; after that,
    the next provider's turn."""
    with pager.db.transaction() as session:
        attempt = session.get(Attempt, job.attempt_id)
        n = outbox.get(session, job.notification_id)
        assert attempt is not None and n is not None
        attempt.status = "failed"
        attempt.error_code = NOT_FOUND
        attempt.error_message = f"no answer in time, and {attempt.provider} has no record of it"
        attempt.updated_at = now
        again = [
            a
            for a in outbox.attempts_of(session, n.id)
            if a.provider == attempt.provider and a.error_code == NOT_FOUND and a.id != attempt.id
        ]
        if again:
            fail_over(session, pager, n, attempt, now)
        else:
            outbox.requeue(n, now, now)
            outbox.add_to_timeline(
                session,
                n,
                now,
                "page",
                f"{channel_word(n.channel)} to {n.person_name}: {attempt.provider} has no "
                "record of it; sending it again",
            )
    pager.wake()
    log.warning(
        "event=page_not_found notification=%d provider=%s", job.notification_id, job.provider.name
    )
