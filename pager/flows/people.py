"""The people in the rotations as the dashboard, `/api/v1/people` and `pager people` show them
(number masked, proven or not, last test page), and test pages.

A test page is a real incident on the synthetic service `pager-test`, flagged with the one
person it tests (`incidents.test_of`) and snapshotted with a one-step policy that pages only
them by their own notification rules (SMS, then voice if their rules say so): it goes through
the outbox, routing and failover like any page, and they acknowledge it like any page ("ACK
<code>"). Its result is the incident itself: when it opened, whether a provider reported a page
delivered, and when it was acknowledged. Acknowledging a test page also resolves it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from pager.domain.codes import ack_code_digits, draw_ack_code, random_ack_code
from pager.domain.phones import mask
from pager.domain.rotations import Person
from pager.domain.states import IncidentState
from pager.flows import sign_in
from pager.flows.context import Pager
from pager.flows.verify import NoSuchPerson
from pager.store import audit, incidents, verified
from pager.store.models import Incident

log = logging.getLogger(__name__)

TEST_SERVICE = "pager-test"
TEST_WAIT_SECONDS = 600  # the one step's wait: after it, escalation ends (nobody else is paged)


@dataclass(frozen=True)
class TestResult:
    at: datetime
    incident_id: int
    delivered: bool
    acknowledged: bool
    seconds: int | None  # from the page to the acknowledgement


@dataclass(frozen=True)
class PersonView:
    handle: str
    name: str
    verified: bool
    number: str  # masked
    channels: tuple[str, ...]
    timezone: str
    last_test: TestResult | None

    def to_json(self) -> dict[str, Any]:
        test = self.last_test
        return {
            "handle": self.handle,
            "name": self.name,
            "verified": self.verified,
            "number": self.number,
            "channels": list(self.channels),
            "timezone": self.timezone,
            "last_test": None
            if test is None
            else {
                "at": test.at.isoformat(),
                "incident": test.incident_id,
                "delivered": test.delivered,
                "acknowledged": test.acknowledged,
                "seconds": test.seconds,
            },
        }


def people(pager: Pager) -> list[PersonView]:
    """Everyone in the rotations in force, by handle."""
    schedule = pager.rotations.schedule
    if schedule is None:
        return []
    everyone = sorted(schedule.people.values(), key=lambda p: p.id)
    with pager.db.read() as session:
        proven = verified.proven(session)
        tests = verified.last_tests(session, [p.id for p in everyone])
        results = {
            handle: _result(incident, verified.delivered(session, incident.id))
            for handle, incident in tests.items()
        }
    return [
        PersonView(
            handle=p.id,
            name=p.name,
            verified=(p.id, p.phone) in proven,
            number=mask(p.phone),
            channels=_channels(p),
            timezone=p.timezone,
            last_test=results.get(p.id),
        )
        for p in everyone
    ]


def _channels(person: Person) -> tuple[str, ...]:
    """The channels a high-urgency page reaches them on (SMS when their rules name none)."""
    return tuple(dict.fromkeys(rule.channel for rule in person.notify.high)) or ("sms",)


def _result(incident: Incident, delivered: bool) -> TestResult:
    acked = incident.acknowledged_at
    return TestResult(
        at=incident.created_at,
        incident_id=incident.id,
        delivered=delivered,
        acknowledged=acked is not None,
        seconds=int((acked - incident.created_at).total_seconds()) if acked else None,
    )


def send_test_page(pager: Pager, who: str, by: str, way: str, now: datetime) -> int:
    """Open a test page for the person `who` names; returns its incident number. Raises
    NoSuchPerson."""
    person = sign_in.find_person(pager.rotations.schedule, who)
    if person is None:
        raise NoSuchPerson(who)
    with pager.db.transaction() as session:
        incident = Incident(
            service=TEST_SERVICE,
            integration="test",
            title=f"Test page for {person.name}"[:500],
            summary="A test of your route: acknowledge it as you would a real page.",
            status=IncidentState.TRIGGERED,
            urgency="high",
            ack_code=_free_code(session),
            created_at=now,
            updated_at=now,
            policy=_only(person),
            escalation_step=0,
            escalation_due_at=now,
            test_of=person.id,
        )
        incidents.add_new(session, incident)
        incidents.add_timeline(
            session,
            incident.id,
            now,
            "test",
            f"test page for {person.name} asked by {by} ({way}): pages only them",
        )
        audit.record(session, now, by, way, "test_page_sent", person.id, f"incident #{incident.id}")
        number = incident.id
    log.info("event=test_page_opened incident=%d person=%s", number, person.id)
    pager.wake()
    return number


def _only(person: Person) -> dict[str, Any]:
    return {
        "id": "test-page",
        "repeat": 0,
        "ack_timeout_seconds": None,
        "steps": [
            {
                "targets": [f"person:{person.id}"],
                "channels": [],  # their own notification rules: their real route
                "wait_seconds": TEST_WAIT_SECONDS,
                "round_robin": False,
            }
        ],
    }


def _free_code(session: Session) -> str:
    first = random_ack_code(ack_code_digits(0))
    open_count, taken = incidents.open_count_and_code_in_use(session, first)
    if not taken and len(first) == ack_code_digits(open_count):
        return first
    return draw_ack_code(
        ack_code_digits(open_count), lambda code: incidents.code_in_use(session, code)
    )
