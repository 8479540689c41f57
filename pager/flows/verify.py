"""Proving a person's number: a code texted to it comes back, by SMS reply or on the dashboard.

The code follows the sign-in rules (`flows.sign_in`: from `secrets`, kept only as an HMAC, 10
minutes, single use, void after 5 wrong tries or a newer code, 5 per number in 15 minutes) and
goes through the outbox as a `code` row. The proof is kept for the (person, number) pair: a
number changed in the rotations is unproven until it answers its own code. An unproven number
is paged like any other; it only shows (dashboard, `/api/v1/people`, `pager people`, the
`pager_unverified_numbers` gauge, the handoff notice).

By SMS, a reply that is just six digits proves the number when a verification code to that
number is in force and no open page of that number has those digits as its ack code (ack
codes are 4 to 8 digits, and digits alone acknowledge): a page in progress wins, and the
person replies again or uses the dashboard in the one-in-a-million case the two collide.
"ACK 123456" is always an acknowledgement.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from pager import metrics
from pager.domain.phones import mask
from pager.domain.rotations import Person, Schedule
from pager.flows import sign_in
from pager.flows.context import Pager
from pager.store import audit, codes, verified

log = logging.getLogger(__name__)

VERIFY = "verify_number"


class NoSuchPerson(LookupError):
    """The handle names nobody in the rotations in force."""


def send_verify_code(
    pager: Pager, who: str, by: str, way: str, now: datetime, remote: str | None = None
) -> str | None:
    """Text a code to the number of the person `who` names; returns why not (a limit), or None.
    Raises NoSuchPerson."""
    person = sign_in.find_person(pager.rotations.schedule, who)
    if person is None:
        raise NoSuchPerson(who)
    with pager.db.transaction() as session:
        sign_in.forget_spent_codes(session, now)
        why = sign_in.refused(session, person, remote, now)
        if why is not None:
            audit.record(session, now, by, way, "verify_code_refused", person.id, why, remote)
            log.warning("event=verify_code_refused person=%s reason=%r", person.id, why)
            return why
        sign_in.issue_code(
            session, VERIFY, person, "sms", remote, now, pager.settings.sign_in.code_ttl
        )
        audit.record(
            session,
            now,
            by,
            way,
            "verify_code_sent",
            person.id,
            f"sms to {mask(person.phone)}",
            remote,
        )
    log.info("event=verify_code_sent person=%s to=%s", person.id, mask(person.phone))
    pager.wake()
    return None


def check_verify_code(
    pager: Pager, who: str, code: str, way: str, now: datetime, remote: str | None = None
) -> bool:
    """Prove the number of the person `who` names with `code` (entered on the dashboard or
    given to `pager verify --code`); False when wrong. Raises NoSuchPerson."""
    person = sign_in.find_person(pager.rotations.schedule, who)
    if person is None:
        raise NoSuchPerson(who)
    with pager.db.transaction() as session:
        sign_in.forget_spent_codes(session, now)
        return _spend(pager, session, person.id, code, way, now, remote)


def prove_by_reply(
    pager: Pager, session: Session, phone: str, digits: str, now: datetime
) -> bool | None:
    """An SMS of bare digits from `phone`, inside the reply's transaction: True when it proved
    the number, False when it was a wrong try, None when no verification waits for `phone`
    (then the digits are an ack code, as ever)."""
    live = codes.live_to_number(session, VERIFY, phone, now)
    if live is None:
        return None
    return _spend(pager, session, live.person, digits, "sms", now, None)


def _spend(
    pager: Pager,
    session: Session,
    person_id: str,
    code: str,
    way: str,
    now: datetime,
    remote: str | None,
) -> bool:
    live = codes.live_for(session, VERIFY, person_id, now)  # the number the code went to
    wrong = sign_in.try_code(session, VERIFY, person_id, code, now)
    if wrong is not None or live is None:
        audit.record(session, now, person_id, way, "verify_failed", person_id, wrong or "", remote)
        log.warning("event=verify_failed person=%s reason=%r", person_id, wrong)
        return False
    verified.prove(session, person_id, live.phone, way, now)
    audit.record(
        session, now, person_id, way, "number_verified", person_id, mask(live.phone), remote
    )
    log.info("event=number_verified person=%s number=%s", person_id, mask(live.phone))
    note_unverified(pager, session)
    return True


def unverified_people(schedule: Schedule | None, proven: set[tuple[str, str]]) -> list[Person]:
    """The people whose number in the rotations is not proven."""
    if schedule is None:
        return []
    return [p for p in schedule.people.values() if (p.id, p.phone) not in proven]


def note_unverified(pager: Pager, session: Session | None = None) -> int:
    """Set the `pager_unverified_numbers` gauge from the rotations in force; returns it."""
    if session is None:
        with pager.db.read() as reading:
            proven = verified.proven(reading)
    else:
        proven = verified.proven(session)
    count = len(unverified_people(pager.rotations.schedule, proven))
    metrics.UNVERIFIED_NUMBERS.set(count)
    return count
