"""Handoff notices: an SMS to each person coming on call, as their shift starts.

A notice is an outbox notification with no incident, sent by `dispatch` like any page (limits,
failover, STOP). Every runner looks every half minute (scheduler.HANDOFF_LOOK); the notice's
unique `dedup_key` makes it queued once per handoff however many runners look, and a restarted
runner still sends one it missed by a few minutes (CATCH_UP), never news hours old. Someone
whose number is not proven yet (`pager verify`) is asked, in the same SMS, to prove it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from pager.domain import messages
from pager.domain.phones import mask
from pager.domain.rotations import Handoff, Person
from pager.domain.states import PageState
from pager.flows.context import Pager
from pager.store import outbox, verified
from pager.store.models import Notification

log = logging.getLogger(__name__)

CATCH_UP = timedelta(minutes=10)


def queue_handoff_notices(pager: Pager, now: datetime) -> int:
    """Queue an SMS for each person who came on call in (now - CATCH_UP, now] and has not
    opted out (`handoff_notices: false`); returns how many this call queued."""
    schedule = pager.rotations.schedule
    if schedule is None:
        return 0
    due = [
        (handoff, schedule.people[handoff.person])
        for rotation in schedule.rotations
        for handoff in schedule.handoffs(rotation, now - CATCH_UP, now)
        if schedule.people[handoff.person].handoff_notices
    ]
    if not due:
        return 0
    queued = 0
    with pager.db.transaction() as session:
        proven = verified.proven(session)
        for handoff, person in due:
            unproven = (person.id, person.phone) not in proven
            if outbox.add_once(session, _notice(handoff, person, unproven, now)):
                queued += 1
                log.info(
                    "event=handoff_notice_queued rotation=%s person=%s to=%s",
                    handoff.rotation,
                    person.id,
                    mask(person.phone),
                )
    return queued


def _notice(handoff: Handoff, person: Person, unproven: bool, now: datetime) -> Notification:
    return Notification(
        incident_id=None,
        step=0,  # no escalation step: a notice pages for no incident
        person=person.id,
        person_name=person.name,
        phone=person.phone,
        channel="sms",
        body=messages.handoff_text(handoff.rotation, handoff.until, person.timezone, unproven),
        status=PageState.PENDING,
        provider_index=0,
        round=0,
        next_attempt_at=now,
        dedup_key=f"handoff:{handoff.rotation}:{person.id}:{handoff.start.isoformat()}",
        kind="notice",
        created_at=now,
        updated_at=now,
    )
