"""What a provider answered a send, recorded: sent, failed (fail over), no answer (ask it
before sending again: see `flows.dispatch`), or not found there (send again, once).

`call` asks the provider and touches no database; `record` writes a batch of answers in one
transaction, each in a savepoint of its own, so a thousand pages answered in the same second
cost a few commits, not a thousand, and one answer that cannot be recorded never loses the
others. What follows a commit (metrics, logs, waking the runner) runs only after it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.orm import Session

from pager import metrics
from pager.domain.messages import channel_word
from pager.domain.phones import mask
from pager.domain.states import AttemptState, PageState
from pager.flows.batches import each_in_one_transaction
from pager.flows.context import Pager, utcnow
from pager.flows.failover import fail_over, later_status
from pager.providers.base import FindsSms, Provider, ProviderError, Sent, SmsLookup
from pager.store import outbox
from pager.store.models import Attempt, Notification

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


Outcome = Literal["sent", "failed", "unknown", "not_found"]


@dataclass(frozen=True)
class Answer:
    """What the provider said to one job: it took it (`sent`), refused it or broke (`failed`,
    with `error`), gave no answer in time (`unknown`), or, asked after a timeout, had no
    record of it (`not_found`)."""

    job: SendJob
    outcome: Outcome
    at: datetime
    sent: Sent | None = None
    error: ProviderError | None = None
    how: str = ""  # appended to the timeline's "sent via" line


def call(pager: Pager, job: SendJob) -> Answer:
    """Send `job` through its provider (or ask the provider about it); no database here."""
    if job.lookup is not None:
        return _ask(job, job.lookup)
    try:
        if job.channel == "sms":
            sent = job.provider.send_sms(
                job.phone,
                job.body,
                pager.callback_url(job.provider.name, "status", job.token),
                reference=job.reference,
            )
        else:
            sent = job.provider.call(
                job.phone,
                job.body,
                pager.callback_url(job.provider.name, "voice", job.token),
                pager.callback_url(job.provider.name, "status", job.token),
            )
    except ProviderError as error:
        if error.outcome_unknown and job.channel == "sms" and isinstance(job.provider, FindsSms):
            return Answer(job, "unknown", utcnow(), error=error)
        return Answer(job, "failed", utcnow(), error=error)
    except Exception as error:  # a provider bug must fail over, not lose the page
        return _crashed(job, error)
    return Answer(job, "sent", utcnow(), sent=sent)


def _ask(job: SendJob, lookup: SmsLookup) -> Answer:
    """Ask the provider whether it took the SMS we never heard back about."""
    assert isinstance(job.provider, FindsSms)
    try:
        found = job.provider.find_sms(lookup)
    except ProviderError as error:
        return Answer(job, "failed", utcnow(), error=error)
    except Exception as error:  # as in `call`: a provider bug fails over
        return _crashed(job, error)
    if found is None:
        return Answer(job, "not_found", utcnow())
    if found.state == AttemptState.FAILED:
        failure = ProviderError(
            f"{job.provider.name} took the SMS but could not deliver it", permanent=False
        )
        return Answer(job, "failed", utcnow(), error=failure)
    return Answer(job, "sent", utcnow(), sent=found, how=" (found there after a timeout)")


def _crashed(job: SendJob, error: Exception) -> Answer:
    log.exception("event=provider_crashed provider=%s", job.provider.name)
    failure = ProviderError(f"unexpected error: {error!r}", permanent=False)
    return Answer(job, "failed", utcnow(), error=failure)


def record(pager: Pager, answers: Sequence[Answer]) -> None:
    """Record `answers` in one transaction (each alone if that fails: `flows.batches`), then
    what follows each commit. An answer that cannot be recorded even alone leaves its page
    leased: when the lease runs out, a runner asks the provider about it or sends it again (at
    least once, DESIGN invariant 3)."""

    def record_one(session: Session, answer: Answer) -> Callable[[], None]:
        return _record_one(session, pager, answer)

    def load(session: Session, batch: Sequence[Answer]) -> None:
        outbox.load_attempts(session, (answer.job.attempt_id for answer in batch))

    for after in each_in_one_transaction(pager, answers, record_one, "record", prepare=load):
        if after is not None:
            after()


def _record_one(session: Session, pager: Pager, answer: Answer) -> Callable[[], None]:
    attempt = session.get(Attempt, answer.job.attempt_id)
    n = outbox.get(session, answer.job.notification_id)
    assert attempt is not None and n is not None
    return _RECORDERS[answer.outcome](session, pager, answer, attempt, n)


def _sent(
    session: Session, pager: Pager, answer: Answer, attempt: Attempt, n: Notification
) -> Callable[[], None]:
    job, now = answer.job, answer.at
    assert answer.sent is not None
    attempt.provider_message_id = answer.sent.provider_message_id
    attempt.status = later_status(attempt.status, answer.sent.state)
    attempt.updated_at = now
    n.sent_at = n.sent_at or now
    if n.status == PageState.SENDING:
        delivered = attempt.status == AttemptState.DELIVERED
        n.status = PageState.DELIVERED if delivered else PageState.SENT
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
        f"{routed}{answer.how}",
    )

    def after() -> None:
        metrics.NOTIFICATIONS_SENT.labels(job.provider.name, job.channel).inc()
        log.info(
            "event=page_sent notification=%d provider=%s channel=%s to=%s",
            job.notification_id,
            job.provider.name,
            job.channel,
            mask(job.phone),
        )

    return after


def _failed(
    session: Session, pager: Pager, answer: Answer, attempt: Attempt, n: Notification
) -> Callable[[], None]:
    job, error = answer.job, answer.error
    assert error is not None
    attempt.status = AttemptState.FAILED
    attempt.error_code = error.code
    attempt.error_message = str(error)[:1000]
    attempt.updated_at = answer.at
    fail_over(session, pager, n, attempt, answer.at)

    def after() -> None:
        pager.wake()
        log.warning(
            "event=page_failed notification=%d provider=%s code=%s permanent=%s",
            job.notification_id,
            job.provider.name,
            error.code,
            error.permanent,
        )

    return after


def _unknown(
    session: Session, pager: Pager, answer: Answer, attempt: Attempt, n: Notification
) -> Callable[[], None]:
    """No answer to the send: ask the provider about it shortly, before sending it again."""
    job, error, now = answer.job, answer.error, answer.at
    assert error is not None
    heard = attempt.provider_message_id  # its delivery status came before our answer did
    if heard is not None:
        return _sent(session, pager, Answer(job, "sent", now, sent=Sent(heard, "sent")), attempt, n)
    attempt.status = AttemptState.UNKNOWN
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

    def after() -> None:
        pager.wake()
        log.warning(
            "event=page_unanswered notification=%d provider=%s error=%s",
            job.notification_id,
            job.provider.name,
            error,
        )

    return after


def _not_found(
    session: Session, pager: Pager, answer: Answer, attempt: Attempt, n: Notification
) -> Callable[[], None]:
    """The provider never took it: send it again through the same provider, once; after that,
    the next provider's turn."""
    job, now = answer.job, answer.at
    attempt.status = AttemptState.FAILED
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

    def after() -> None:
        pager.wake()
        log.warning(
            "event=page_not_found notification=%d provider=%s",
            job.notification_id,
            job.provider.name,
        )

    return after


_RECORDERS: dict[
    Outcome, Callable[[Session, Pager, Answer, Attempt, Notification], Callable[[], None]]
] = {"sent": _sent, "failed": _failed, "unknown": _unknown, "not_found": _not_found}
