"""Send what the outbox holds through the providers, failing over from one to the next.

Each notification is claimed, its attempt recorded and committed, and only then is the provider
called (DESIGN invariant 2). A crash after the call and before its answer is recorded re-sends
the page when the lease expires: at least once, never zero times (invariant 3).

Each provider account keeps to its send rate (`rate: 1/s`): a claim takes one of its slots, in
the database, so runners sharing the account share the rate. When the provider whose turn it is
has none free, the page goes through the next provider in the failover order that has one (an
on-call engineer wants the page now, not after the queue); when none has, it waits, pending,
until the first frees up. Nothing is dropped and waiting is no failure.

An SMS whose send got no answer (a timeout) may have gone out. Where the provider can be asked
(`FindsSms`: by our per-attempt reference, or recipient and text), it is looked up before the
same provider is asked again: found, it is recorded as sent; not found, it is sent once more.
A runner taking over a send whose runner died does the same. Where it can't (SNS), the page
fails over to the next provider, and may reach the person twice.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from pager.domain.limits import Limit
from pager.domain.messages import channel_word
from pager.domain.phones import mask
from pager.domain.rates import describe
from pager.domain.routing import carrier_route
from pager.domain.states import AttemptState, IncidentState, PageState
from pager.flows.batches import each_in_one_transaction
from pager.flows.carriers import known_carrier
from pager.flows.context import Pager, utcnow
from pager.flows.failover import give_up_or_retry
from pager.flows.limits import within_limits
from pager.flows.routes import route_of
from pager.flows.send_answers import SendJob, call, record
from pager.flows.send_rate import SendRate
from pager.providers.base import FindsSms, Provider, SmsLookup
from pager.store import contacts, incidents, outbox, runners
from pager.store.models import Attempt, Notification

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)  # longer than any provider call can take (timeouts are 10 s)
UNHEARD = (AttemptState.SENDING, AttemptState.UNKNOWN)  # attempts whose outcome we never heard
OVERREAD = 4  # due pages read for each one a claim may take
RETRY_START = timedelta(seconds=5)  # after a page could not be started


def _call_limits(pager: Pager, n: Notification, carrier: str | None) -> tuple[Limit, ...] | None:
    """The call limits for `n`'s person if an SMS of theirs may be carried by a call instead
    (a provider calls them); None if none can."""
    if n.channel != "sms" or not pager.providers_for("voice", n.phone, carrier):
        return None
    return pager.settings.limits.get("voice", ())


def claim_due(
    pager: Pager,
    now: datetime,
    limit: int,
    owner: str | None = None,
    clock: datetime | None = None,
) -> list[int]:
    """Claim up to `limit` notifications that are due for runner `owner`, oldest first, each
    with a slot of its provider's rate; each goes to `send`. Leases are judged and given by the
    database's clock (`clock` in tests)."""
    with pager.db.transaction() as session:
        clock = clock or runners.database_now(session)
        rate = SendRate(session, pager.settings.providers, now)
        # Read past `limit`: the oldest due pages may all be for a few numbers.
        due = outbox.due(session, now, limit * OVERREAD, clock)
        # One at a time per number and channel, this claim's and those still on their way:
        # the per-number limit counts what went out, and the one that goes collects the
        # others that wait into a digest.
        wanted = {(phone, channel) for _, phone, channel in due}
        recipients = outbox.in_flight(session, wanted, clock)
        outbox.load(session, (notification_id for notification_id, _, _ in due))
        admitted: list[int] = []
        for notification_id, phone, channel in due:
            if len(admitted) >= limit:
                break
            if (phone, channel) in recipients:
                continue
            n = outbox.get(session, notification_id)
            if n is None or not _admit(session, pager, rate, n, now):
                continue
            admitted.append(notification_id)
            recipients.add((phone, channel))
        rate.save()
        claimed = outbox.claim_all(session, admitted, now, clock, LEASE, owner)
    return claimed


def _admit(session: Session, pager: Pager, rate: SendRate, n: Notification, now: datetime) -> bool:
    """Take a send slot for `n`: of the provider whose turn it is, else of the first later one
    in the failover order with one free. False: none free, `n` waits for the first to free."""
    carrier = known_carrier(session, pager.settings, n.phone)
    providers = route_of(pager, session, n, carrier)
    if n.provider_index >= len(providers) or not still_wanted(session, n):
        return True  # nothing to send, or no one to send through: `send` settles it
    turn = providers[n.provider_index]
    if _can_ask(n, turn) and lookup_due(n, turn, outbox.latest_attempt(session, n.id)):
        return True  # asking the provider what it took sends nothing
    later = list(enumerate(providers))[n.provider_index :]
    free = next((i for i, p in later if rate.free_at(p.name) <= now), None)
    if free is None:  # a send taken over from a dead runner waits like any other
        outbox.requeue(n, min(rate.free_at(p.name) for _, p in later), now)
        return False
    chosen = providers[free]
    if free != n.provider_index:
        n.provider_index = free
        busy = rate.rate(turn.name)
        outbox.add_to_timeline(
            session,
            n,
            now,
            "page",
            f"{channel_word(n.channel)} to {n.person_name}: {turn.name} is at its rate"
            f"{f' ({describe(busy)})' if busy else ''}; sending via {chosen.name}",
        )
        session.flush()
    rate.take(chosen.name)
    return True


def lookup_due(n: Notification, provider: Provider, last: Attempt | None) -> Attempt | None:
    """`last`, the latest attempt of `n`, when its outcome was never heard (it timed out, or
    its runner died mid-send) and it went through `provider`, which can be asked for it."""
    if not _can_ask(n, provider):
        return None
    if last is None or last.provider != provider.name:
        return None
    return last if last.status in UNHEARD else None


def _can_ask(n: Notification, provider: Provider) -> bool:
    """Whether `provider` can be asked whether it took `n` (SMS only)."""
    return n.channel == "sms" and isinstance(provider, FindsSms)


def send(pager: Pager, notification_id: int) -> None:
    """Send one claimed notification through the provider whose turn it is; record the
    answer. The runner does the same for a batch: `start`, then `call` on its senders, then
    `record` of the answers together."""
    for job in start(pager, [notification_id], utcnow()):
        record(pager, [call(pager, job)])


def start(pager: Pager, notification_ids: Sequence[int], now: datetime) -> list[SendJob]:
    """Start the attempts of claimed notifications, in one transaction (each alone if that
    fails: `flows.batches`): each attempt is committed before its provider is called (DESIGN
    invariant 2). Those that turn out not to need a send (acknowledged meanwhile, opted out,
    held by a limit, no provider left) are settled here and give no job. One that cannot be
    started even alone is released to be tried again shortly (`RETRY_START`), so it does not
    hold its number's other pages back for a lease's length."""

    def start_one(session: Session, notification_id: int) -> list[SendJob]:
        job = _start_attempt(session, pager, notification_id, now)
        return [job] if job is not None else []

    started = each_in_one_transaction(
        pager, notification_ids, start_one, "start", prepare=outbox.load
    )
    failed = [i for i, jobs in zip(notification_ids, started, strict=True) if jobs is None]
    if failed:
        _release(pager, failed, now + RETRY_START, now)
    return [job for jobs in started if jobs for job in jobs]


def _release(pager: Pager, notification_ids: Sequence[int], due: datetime, now: datetime) -> None:
    try:
        with pager.db.transaction() as session:
            for notification_id in notification_ids:
                n = outbox.get(session, notification_id)
                if n is not None and n.status == PageState.SENDING:
                    outbox.requeue(n, due, now)
    except Exception:  # its lease runs out in time, and it is claimed again then
        log.exception("event=release_error notifications=%s", notification_ids)


def _start_attempt(
    session: Session, pager: Pager, notification_id: int, now: datetime
) -> SendJob | None:
    n = outbox.get(session, notification_id)
    if n is None or n.status != PageState.SENDING:
        return None
    if not still_wanted(session, n):
        n.status = PageState.CANCELLED
        return None
    if n.channel == "sms" and contacts.opted_out(session, n.phone):
        n.status = PageState.SKIPPED
        outbox.add_to_timeline(
            session,
            n,
            now,
            "page",
            f"sms to {n.person_name} not sent: {mask(n.phone)} replied STOP",
        )
        return None
    carrier = known_carrier(session, pager.settings, n.phone)
    providers = route_of(pager, session, n, carrier)
    last = outbox.latest_attempt(session, n.id)
    if n.provider_index < len(providers):
        unheard = lookup_due(n, providers[n.provider_index], last)
        if unheard is not None:
            return _lookup_job(session, n, providers[n.provider_index], unheard)
    limits = pager.settings.limits.get(n.channel, ())
    # Only a first try is held by the per-number limits: never a failover or a retry (it
    # may be a first try through a later provider, when the first was at its rate); and
    # never a one-time code, which has its own limits (flows.sign_in) and is wanted now,
    # nor a canary's SMS (to one of pager's own numbers, a few a day).
    if (
        last is None
        and n.kind not in ("code", "canary")
        and not within_limits(session, n, now, limits, _call_limits(pager, n, carrier))
    ):
        return None
    if n.provider_index >= len(providers):
        give_up_or_retry(session, n, providers, now, "no provider can carry it")
        return None
    provider = providers[n.provider_index]
    # Written before the provider is called, so a runner taking over after a crash can ask
    # the provider for it by this reference.
    attempt = Attempt(
        notification_id=n.id,
        provider=provider.name,
        token=secrets.token_urlsafe(16),
        reference=f"pager-{secrets.token_hex(8)}",
        status=AttemptState.SENDING,
        created_at=now,
        updated_at=now,
    )
    session.add(attempt)
    session.flush()
    return SendJob(
        n.id,
        attempt.id,
        provider,
        attempt.token,
        n.channel,
        n.phone,
        n.body,
        reference=attempt.reference,
        route=carrier_route(pager.settings.routing, n.phone, carrier, provider.name),
    )


def _lookup_job(session: Session, n: Notification, provider: Provider, unheard: Attempt) -> SendJob:
    others = {
        a.provider_message_id
        for a in outbox.attempts_of(session, n.id)
        if a.provider == provider.name and a.provider_message_id and a.id != unheard.id
    }
    lookup = SmsLookup(n.phone, n.body, unheard.reference, unheard.created_at, frozenset(others))
    return SendJob(
        n.id,
        unheard.id,
        provider,
        unheard.token,
        n.channel,
        n.phone,
        n.body,
        reference=unheard.reference,
        lookup=lookup,
    )


def still_wanted(session: Session, n: Notification) -> bool:
    """Whether `n` should still go out: a page while its incident is triggered; a notice
    outside any incident (handoff) always."""
    if n.incident_id is None:
        return True
    incident = incidents.get(session, n.incident_id)
    return incident is not None and incident.status == IncidentState.TRIGGERED
