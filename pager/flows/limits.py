"""Per-recipient limits: hold back what would page one number too often, then send what was
held as one digest. Nothing is dropped: a held page waits in the outbox with its due time.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from pager.domain import messages
from pager.domain.limits import Limit, next_free
from pager.domain.phones import mask
from pager.domain.states import IncidentState, PageState, check
from pager.flows.escalate import page_row
from pager.flows.page_texts import page_text
from pager.store import contacts, incidents, outbox
from pager.store.models import Notification


def within_limits(
    session: Session,
    n: Notification,
    now: datetime,
    limits: tuple[Limit, ...],
    call_limits: tuple[Limit, ...] | None = None,
) -> bool:
    """True when `n` may go now (its body becomes a digest if others wait for the same number);
    False when it is held: it is pending again, due when the limits allow. `call_limits`: the
    person can be called (None: no provider calls them), so a high-urgency SMS held here is
    carried by a call at once instead, within those limits."""
    if not limits:
        return True
    since = now - max(limit.per for limit in limits)
    sent = outbox.sent_times(session, n.phone, n.channel, since)
    replies = contacts.times_since(session, n.phone, "inbound", since) if n.channel == "sms" else []
    free = next_free(sent, limits, now, replies)
    if free is not None:
        _hold(session, n, free, now, call_limits)
        return False
    if replies and next_free(sent, limits, now) is not None:
        outbox.add_to_timeline(
            session,
            n,
            now,
            "limit",
            f"sms to {n.person_name} ({mask(n.phone)}) goes now: the per-number limit counts "
            f"a conversation, and {n.person_name} replied {len(replies)} times in its window",
        )
    waiting = [
        other
        for other in outbox.waiting_for(session, n.phone, n.channel, n.id)
        if _still_open(session, other)
    ]
    # A digest only when the limits would otherwise hold some of them back; and only of
    # pages: a notice outside any incident goes on its own.
    if (
        waiting
        and n.incident_id is not None
        and next_free(sent + [now] * len(waiting), limits, now) is not None
    ):
        _collect_into_digest(session, n, waiting, now)
    return True


def _hold(
    session: Session,
    n: Notification,
    until: datetime,
    now: datetime,
    call_limits: tuple[Limit, ...] | None,
) -> None:
    first_hold = n.next_attempt_at is None or n.next_attempt_at <= now
    outbox.requeue(n, until, now)
    if not first_hold:
        return
    verb = messages.channel_word(n.channel)
    held = (
        f"{verb} to {n.person_name} ({mask(n.phone)}) held back: the per-number limit is "
        f"reached; it goes out in a digest at {until:%H:%M:%S} UTC"
    )
    if (
        n.channel == "sms"
        and call_limits is not None
        and _call_instead(session, n, now, call_limits)
    ):
        held += f"; calling {n.person_name} now instead, as the incident is high urgency"
    outbox.add_to_timeline(session, n, now, "limit", held)


def _call_instead(
    session: Session, n: Notification, now: datetime, call_limits: tuple[Limit, ...]
) -> bool:
    """A call to the person of a held high-urgency SMS, due now, unless one for the incident
    already waits or the call limits are reached too (then the SMS waits alone)."""
    incident = incidents.get(session, n.incident_id) if n.incident_id is not None else None
    if incident is None or incident.status != IncidentState.TRIGGERED or incident.urgency != "high":
        return False
    if any(
        o.incident_id == incident.id for o in outbox.waiting_for(session, n.phone, "voice", n.id)
    ):
        return False
    if call_limits:
        since = now - max(limit.per for limit in call_limits)
        if next_free(outbox.sent_times(session, n.phone, "voice", since), call_limits, now):
            return False
    body = page_text(session, incident, "voice", incidents.firing_count(session, incident.id), now)
    row = page_row(incident, n.person, n.person_name, n.phone, "voice", n.step, body, now, now)
    session.add(row)
    return True


def _collect_into_digest(
    session: Session, n: Notification, waiting: list[Notification], now: datetime
) -> None:
    group = [n, *waiting]
    pages = []
    for member in group:
        assert member.incident_id is not None  # within_limits digests pages only
        incident = incidents.get(session, member.incident_id)
        assert incident is not None
        pages.append((incident.id, incident.service, incident.title, incident.ack_code))
    if n.channel == "sms":
        n.body = messages.digest_text(pages)
    else:
        listed = ", ".join(f"{number} for {service}" for number, service, _, _ in pages[:5])
        n.body = (
            f"This is pager. You have {len(pages)} new incidents: {listed}. "
            "Press 1 to acknowledge all of them, 2 to resolve all of them."
        )
    for other in waiting:
        other.status = check(other.status, PageState.DIGESTED)
        other.digest_of = n.id
        other.updated_at = now
    for incident_id in dict.fromkeys(number for number, _, _, _ in pages):
        incidents.add_timeline(
            session,
            incident_id,
            now,
            "limit",
            f"{n.channel} to {n.person_name} goes out as one digest of {len(group)} pages",
        )


def _still_open(session: Session, n: Notification) -> bool:
    """Whether `n` pages for an incident that is still triggered (a notice pages for none)."""
    incident = incidents.get(session, n.incident_id) if n.incident_id is not None else None
    return incident is not None and incident.status == IncidentState.TRIGGERED
