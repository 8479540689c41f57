"""What providers tell us after a send: delivery status, and digits pressed during a call."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from pager.domain.phones import mask
from pager.domain.states import ATTEMPT_FINAL, AttemptState, IncidentState, PageState, check
from pager.flows.context import Pager
from pager.flows.dispatch import still_wanted
from pager.flows.failover import fail_over, later_status
from pager.flows.incidents import acknowledge_in, escalate_now_in, resolve_in
from pager.providers.base import KeypadInput, StatusUpdate
from pager.store import contacts, incidents, outbox
from pager.store.models import Attempt, Incident, Notification

log = logging.getLogger(__name__)


def _find_attempt(
    session: Session, provider: str, token: str | None, message_id: str
) -> Attempt | None:
    attempt = outbox.attempt_by_token(session, token) if token else None
    if attempt is None and message_id:
        attempt = outbox.attempt_by_provider_id(session, provider, message_id)
    if attempt is None or attempt.provider != provider:
        return None
    return attempt


def record_status(
    pager: Pager, provider: str, update: StatusUpdate, token: str | None, now: datetime
) -> bool:
    """Apply a delivery-status webhook; False (and no change) when we know no such attempt."""
    with pager.db.transaction() as session:
        attempt = _find_attempt(session, provider, token, update.provider_message_id)
        if attempt is None:
            log.info("event=status_unknown provider=%s", provider)
            return False
        if attempt.status in ATTEMPT_FINAL:
            return True  # a late or repeated callback changes nothing
        unanswered = attempt.status == AttemptState.UNKNOWN  # its send timed out: we meant to ask
        attempt.status = check(
            attempt.status, AttemptState(later_status(attempt.status, update.state))
        )
        attempt.provider_message_id = attempt.provider_message_id or update.provider_message_id
        attempt.error_code = update.error_code or attempt.error_code
        attempt.error_message = update.error_message or attempt.error_message
        attempt.updated_at = now
        n = outbox.get(session, attempt.notification_id)
        assert n is not None
        if unanswered and n.status == PageState.PENDING:
            _heard_after_timeout(session, pager, n, attempt, update, now)
            return True
        latest = outbox.latest_attempt(session, n.id)
        if latest is None or latest.id != attempt.id or update.state not in ATTEMPT_FINAL:
            return True
        who = f"{n.person_name} ({mask(n.phone)})"
        if update.state == "failed":
            attempt.error_message = attempt.error_message or f"status {update.raw_status}"
            if n.status in (PageState.SENT, PageState.SENDING) and still_wanted(session, n):
                fail_over(session, pager, n, attempt, now)
                pager.wake()
            return True
        n.status = check(n.status, PageState(update.state))
        n.updated_at = now
        text = {
            "delivered": f"sms to {who} delivered ({provider})",
            "answered": f"call to {who} answered ({provider})",
            "no_answer": f"call to {who} not answered: {update.raw_status} ({provider})",
        }[update.state]
        outbox.add_to_timeline(session, n, now, "delivery", text)
    return True


def _heard_after_timeout(
    session: Session,
    pager: Pager,
    n: Notification,
    attempt: Attempt,
    update: StatusUpdate,
    now: datetime,
) -> None:
    """The status of an SMS whose send timed out: the provider took it, so there is nothing to
    look up; a failure hands it to the next provider."""
    if update.state == "failed":
        attempt.error_message = update.error_message or f"status {update.raw_status}"
        fail_over(session, pager, n, attempt, now)
        pager.wake()
        return
    n.status = check(
        n.status, PageState.DELIVERED if update.state == "delivered" else PageState.SENT
    )
    n.sent_at = n.sent_at or attempt.created_at
    n.updated_at = now
    outbox.add_to_timeline(
        session,
        n,
        attempt.created_at,
        "page",
        f"sms to {n.person_name} ({mask(n.phone)}) sent via {attempt.provider} "
        "(its status came after the send timed out)",
    )


def keypad(
    pager: Pager, provider: str, pressed: KeypadInput, token: str | None, now: datetime
) -> str:
    """Act on a digit pressed during a page call; returns what the call says back.

    1 acknowledges, 2 resolves: the call's incident, and for a digest call every incident the
    digest carried. Each digit acts once per call, and only while the call is current: a
    replayed callback, or a press on a call from before an un-ack, changes nothing.
    """
    digit = pressed.digits.strip()[:1]
    act = {"1": acknowledge_in, "2": resolve_in, "3": escalate_now_in}.get(digit)
    with pager.db.transaction() as session:
        attempt = _find_attempt(session, provider, token, pressed.provider_message_id)
        n = outbox.get(session, attempt.notification_id) if attempt else None
        if attempt is None or n is None:
            return "This call is no longer valid. Goodbye."
        if not contacts.first_time_seen(session, provider, [f"keypad:{attempt.id}:{digit}"], now):
            log.warning("event=keypad_replayed provider=%s attempt=%s", provider, attempt.id)
            return "Nothing was changed: already handled. Goodbye."
        calls_about = _current_incidents(session, n, attempt)
        if not calls_about:
            log.info("event=keypad_not_current provider=%s attempt=%s", provider, attempt.id)
            return "This call is no longer current. Nothing was changed. Goodbye."
        changed = []
        for incident in calls_about:
            incidents.add_timeline(
                session,
                incident.id,
                now,
                "reply",
                f"{n.person_name} pressed {digit or 'nothing'} on the call",
            )
            if act is not None and act(session, incident, n.person_name, "voice", now):
                changed.append(incident.id)
    return _said_after(pager, digit, changed)


def calls_taking_keys(pager: Pager, provider: str, call_ids: list[str]) -> set[str]:
    """Which of these calls still take a key: current, nothing pressed on them yet (a press
    ends the call), and about an incident that is still triggered."""
    live = set()
    with pager.db.read() as session:
        for call_id in call_ids:
            attempt = outbox.attempt_by_provider_id(session, provider, call_id)
            n = outbox.get(session, attempt.notification_id) if attempt else None
            if (
                attempt is None
                or n is None
                or contacts.keypad_pressed(session, provider, attempt.id)
            ):
                continue
            if any(
                i.status == IncidentState.TRIGGERED for i in _current_incidents(session, n, attempt)
            ):
                live.add(call_id)
    return live


def _current_incidents(session: Session, n: Notification, attempt: Attempt) -> list[Incident]:
    """The incidents a call is about that it may still act on: none when the call is not its
    page's latest try or the page was cancelled, and none un-acknowledged since it was placed
    (a new round of paging has its own calls)."""
    latest = outbox.latest_attempt(session, n.id)
    if n.status == PageState.CANCELLED or latest is None or latest.id != attempt.id:
        return []
    carried = [n, *outbox.digested_into(session, n.id)]
    found = [
        incidents.get(session, member.incident_id)
        for member in carried
        if member.incident_id is not None
    ]
    return [
        incident
        for incident in found
        if incident is not None
        and not incidents.unacknowledged_after(session, incident.id, attempt.created_at)
    ]


def _said_after(pager: Pager, digit: str, changed: list[int]) -> str:
    """What the call says once the digit was acted on."""
    if digit not in ("1", "2", "3"):
        return "Nothing was changed. Goodbye."
    if digit == "3" and changed:
        pager.wake()
    done = {"1": "acknowledged", "2": "resolved", "3": "escalated now"}[digit]
    if not changed:
        return "Nothing was changed: already handled. Goodbye."
    if len(changed) == 1:
        return f"Incident {changed[0]} {done}. Goodbye."
    return f"{len(changed)} incidents {done}. Goodbye."
