"""Signing in with an authenticator app (TOTP, RFC 6238, through `pyotp`): enrolled from your
own page, confirmed by a first code, then a way in beside SMS codes, and the only one for a
person whose entry says `require_totp: true` once they enrolled.

A code works once (the step it belongs to is remembered), one step of clock drift either way
is accepted, and 5 wrong codes lock the app sign-in for 15 minutes. Every enrolment, removal
and sign-in by app, good or bad, is in the audit trail.
"""

from __future__ import annotations

import io
import logging
from datetime import datetime

import pyotp
from sqlalchemy.orm import Session

from pager.domain.codes import CODES_WINDOW, MAX_WRONG_TRIES
from pager.flows.context import Pager
from pager.flows.sign_in import address_refused, find_person
from pager.store import audit, totp
from pager.store.people_models import TotpSecret

log = logging.getLogger(__name__)

ISSUER = "pager"
STEP = 30  # seconds: what every authenticator app uses
WAY = "dashboard"


def enrolled(pager: Pager, person: str) -> bool:
    with pager.db.read() as session:
        found = totp.of(session, person)
        return found is not None and found.confirmed_at is not None


def start_enrolment(pager: Pager, person: str, now: datetime) -> tuple[str, str]:
    """A new secret for `person` (replacing any unconfirmed one): (secret, QR code as SVG)."""
    secret = pyotp.random_base32()
    with pager.db.transaction() as session:
        found = totp.of(session, person)
        if found is not None and found.confirmed_at is not None:
            raise ValueError("already enrolled: remove the app first")
        totp.put(
            session,
            TotpSecret(person=person, secret=secret, created_at=now, last_step=0, wrong_tries=0),
        )
    uri = pyotp.TOTP(secret).provisioning_uri(name=person, issuer_name=ISSUER)
    # Imported here: it is only ever used to enrol someone, and it costs every daemon 1 MB.
    import qrcode
    import qrcode.image.svg

    buffer = io.BytesIO()
    qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage).save(buffer)
    return secret, buffer.getvalue().decode()


def confirm_enrolment(
    pager: Pager, person: str, code: str, remote: str | None, now: datetime
) -> bool:
    """Enrolled once a first code from the app checks."""
    with pager.db.transaction() as session:
        found = totp.of(session, person)
        if found is None or found.confirmed_at is not None:
            return False
        if _step_of(found, code, now) is None:
            audit.record(session, now, person, WAY, "totp_enrolment_failed", person, "", remote)
            return False
        found.confirmed_at = now
        found.last_step = int(now.timestamp()) // STEP
        audit.record(session, now, person, WAY, "totp_enrolled", person, "", remote)
    return True


def remove(pager: Pager, person: str, remote: str | None, now: datetime) -> None:
    with pager.db.transaction() as session:
        totp.remove(session, person)
        audit.record(session, now, person, WAY, "totp_removed", person, "", remote)


def check_code(pager: Pager, who: str, code: str, remote: str | None, now: datetime) -> str | None:
    """The person signed in by their app's `code`, or None."""
    person = find_person(pager.rotations.schedule, who)
    with pager.db.transaction() as session:
        found = totp.of(session, person.id) if person else None
        actor = person.id if person else "unknown"
        if (refused := address_refused(session, remote, now)) is not None:
            _failed(session, actor, refused, remote, now)
            return None
        if person is None or found is None or found.confirmed_at is None:
            _failed(session, actor, "no authenticator app enrolled", remote, now)
            return None
        if found.locked_until is not None and now < found.locked_until:
            _failed(session, actor, "locked after too many wrong codes", remote, now)
            return None
        step = _step_of(found, code, now)
        if step is None or step <= found.last_step:
            found.wrong_tries += 1
            if found.wrong_tries >= MAX_WRONG_TRIES:
                found.locked_until, found.wrong_tries = now + CODES_WINDOW, 0
            why = "wrong code" if step is None else "code already used"
            _failed(session, actor, why, remote, now)
            return None
        found.last_step, found.wrong_tries, found.locked_until = step, 0, None
        audit.record(session, now, actor, WAY, "signed_in", actor, "authenticator app", remote)
    log.info("event=signed_in person=%s way=totp remote=%s", person.id, remote)
    return person.id


def _step_of(found: TotpSecret, code: str, now: datetime) -> int | None:
    """The time step (of now, or one either side) whose code `code` is; None if none."""
    otp = pyotp.TOTP(found.secret, interval=STEP)
    current = int(now.timestamp()) // STEP
    for step in (current, current - 1, current + 1):
        if otp.verify(code.strip(), for_time=step * STEP, valid_window=0):
            return step
    return None


def _failed(session: Session, actor: str, why: str, remote: str | None, now: datetime) -> None:
    audit.record(
        session, now, actor, WAY, "sign_in_failed", actor, f"authenticator app: {why}", remote
    )
    log.warning("event=sign_in_failed person=%s way=totp reason=%r remote=%s", actor, why, remote)
