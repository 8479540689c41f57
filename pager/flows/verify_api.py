"""Verify for the team's own applications: a code texted (or read in a call) to a number and
checked, speaking Twilio Verify v2's rules so an application moves by changing a base URL.

The rules are those of every code pager issues (DESIGN invariant 8): drawn from `secrets`,
kept only as an HMAC, never logged, valid for the service's `ttl` from the first send, void
after 5 wrong checks (the sixth check answers 60202, even with the right code), single use.
At most 5 codes per verification and per number and service in 10 minutes, 5 per number in
15 minutes across pager (sign-in codes too), and the service's `per_minute`: else 60203. Asking
again while a verification is pending resends it: the same VE SID, one more send attempt, and
a fresh code (only the newest works: pager cannot resend a code it does not keep). The codes
go through the outbox as `code` rows (routing, failover); an SMS no provider could deliver is
sent as a call when the service allows calls. Every code sent and every check is audited.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from pager.config import VerifyService
from pager.domain import messages
from pager.domain.codes import (
    CODES_PER_NUMBER,
    CODES_WINDOW,
    MAX_WRONG_TRIES,
    code_digest,
    code_matches,
    one_time_code,
)
from pager.domain.phones import mask, normalise
from pager.domain.states import PageState, check
from pager.flows.code_carriers import code_carrier, forget_code
from pager.flows.context import Pager
from pager.store import audit, codes, outbox, verifications
from pager.store import secrets as secrets_store
from pager.store.models import Notification
from pager.store.people_models import Verification, VerificationSend

log = logging.getLogger(__name__)

PURPOSE = "verify"
WAY = "api"
SENDS_PER_VERIFICATION = 5  # Twilio's limit: the sixth send answers 60203
SENDS_PER_TO = 5  # per number and service...
SENDS_WINDOW = timedelta(minutes=10)  # ...in any such window
MAX_CODE = 20  # characters of a `Code` worth comparing
VERIFICATION_SID = re.compile(r"VE[0-9a-f]{32}")


class VerifyRefused(Exception):
    """A request Verify answers with a Twilio error: HTTP status, Twilio code, message."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class SendAttempt:
    sid: str  # VL...
    channel: str  # sms | call
    at: datetime
    delivery: str  # the outbox row's status: pending, sent, delivered, failed...


@dataclass(frozen=True)
class VerificationView:
    sid: str
    service_sid: str
    to: str
    channel: str
    status: str  # pending | approved | canceled | max_attempts_reached | expired
    created_at: datetime
    updated_at: datetime
    sends: tuple[SendAttempt, ...]

    @property
    def valid(self) -> bool:
        return self.status == "approved"


def _refused(status: int, code: int, message: str) -> VerifyRefused:
    return VerifyRefused(status, code, message)


def _number(to: str) -> str:
    number = normalise(to) if to else None
    if number is None:
        raise _refused(400, 60200, "Invalid parameter `To`: an E.164 number, like +447700900123")
    return number


def start_verification(
    pager: Pager, service: VerifyService, to: str, channel: str, remote: str | None, now: datetime
) -> VerificationView:
    """Send a code to `to` by `channel` ("sms" or "call"): a new verification, or a resend of
    the number's pending one."""
    number = _number(to)
    if channel not in service.channels:
        known = ", ".join(service.channels)
        raise _refused(400, 60200, f"Invalid parameter `Channel`: {channel!r} (allowed: {known})")
    with pager.db.transaction() as session:
        forget_spent(session, pager, now)
        verification = verifications.pending_for(session, service.sid, number, now)
        why = _too_many(session, service, number, verification, now)
        if why is None:
            if verification is None:
                verification = _new_verification(service, number, channel, now)
                verifications.add(session, verification)
            _send_code(session, service, verification, channel, now, remote)
            view = _view(session, verification, now)
        else:
            audit.record(
                session, now, service.name, WAY, "verify_code_refused", mask(number), why, remote
            )
    if why is not None:
        log.warning("event=verify_code_refused service=%s to=%s", service.sid, mask(number))
        raise _refused(429, 60203, f"Max send attempts reached: {why}")
    log.info("event=verify_code_sent service=%s to=%s", service.sid, mask(number))
    pager.wake()
    return view


def _too_many(
    session: Session,
    service: VerifyService,
    number: str,
    verification: Verification | None,
    now: datetime,
) -> str | None:
    if verifications.sends_since(session, now - timedelta(minutes=1), service_sid=service.sid) >= (
        service.per_minute
    ):
        return f"{service.per_minute} codes a minute for this service"
    if verification and len(verifications.sends_of(session, verification.id)) >= (
        SENDS_PER_VERIFICATION
    ):
        return f"{SENDS_PER_VERIFICATION} codes for this verification"
    since = now - SENDS_WINDOW
    if verifications.sends_since(session, since, phone=number, service_sid=service.sid) >= (
        SENDS_PER_TO
    ):
        return f"{SENDS_PER_TO} codes to this number in 10 min"
    since = now - CODES_WINDOW
    sent = verifications.sends_since(session, since, phone=number)
    if sent + codes.sent_to_number_since(session, number, since) >= CODES_PER_NUMBER:
        return f"{CODES_PER_NUMBER} codes to this number in 15 min"
    return None


def _new_verification(
    service: VerifyService, number: str, channel: str, now: datetime
) -> Verification:
    return Verification(
        sid="VE" + secrets.token_hex(16),
        service_sid=service.sid,
        phone=number,
        channel=channel,
        status="pending",
        digest="",
        wrong_tries=0,
        created_at=now,
        updated_at=now,
        expires_at=now + service.ttl,
    )


def _send_code(
    session: Session,
    service: VerifyService,
    verification: Verification,
    channel: str,
    now: datetime,
    remote: str | None,
) -> None:
    """A fresh code for `verification`, sent by `channel`; it replaces any code sent before."""
    code = one_time_code(service.code_length)
    verification.digest = code_digest(_key(session), PURPOSE, verification.sid, code)
    verification.channel = channel
    verification.updated_at = now
    n = _carrier(service, verification, channel, code, now)
    session.add(n)
    session.flush()
    verifications.add_send(
        session,
        VerificationSend(
            verification_id=verification.id,
            sid="VL" + secrets.token_hex(16),
            channel=channel,
            notification_id=n.id,
            at=now,
        ),
    )
    detail = f"{channel} for {verification.sid}"
    target = mask(verification.phone)
    audit.record(session, now, service.name, WAY, "verify_code_sent", target, detail, remote)


def _carrier(
    service: VerifyService, verification: Verification, channel: str, code: str, now: datetime
) -> Notification:
    voice = channel == "call"
    text = (
        messages.verify_speech(service.name, code)
        if voice
        else messages.verify_service_text(service.name, code)
    )
    return code_carrier(
        verification.sid,
        service.name,
        verification.phone,
        "voice" if voice else "sms",
        text,
        now,
    )


def check_verification(
    pager: Pager,
    service: VerifyService,
    to: str,
    sid: str,
    code: str,
    remote: str | None,
    now: datetime,
) -> VerificationView:
    """Judge `code` for the verification `sid` names (else the newest for `to`)."""
    if not to and not sid:
        raise _refused(400, 60200, "Either a `To` or `VerificationSid` must be specified")
    if not code or len(code) > MAX_CODE:
        raise _refused(400, 60200, "Invalid parameter `Code`")
    number = _number(to) if to and not sid else ""
    with pager.db.transaction() as session:
        forget_spent(session, pager, now)
        verification = (
            _by_sid(session, service, sid)
            if sid
            else verifications.newest_for(session, service.sid, number)
        )
        target = mask(verification.phone) if verification else mask(number) if number else sid
        refusal = _not_checkable(verification, now)
        if verification is None or refusal is not None:
            why = refusal.message if refusal else "not found"
            audit.record(
                session, now, service.name, WAY, "verify_check_failed", target, why, remote
            )
        elif code_matches(_key(session), PURPOSE, verification.sid, code, verification.digest):
            verification.status = "approved"
            verification.updated_at = now
            forget_spent(session, pager, now)  # its texts lose their code now
            audit.record(
                session, now, service.name, WAY, "verify_approved", target, verification.sid, remote
            )
        else:
            _wrong(verification, now)
            detail = f"wrong code ({verification.wrong_tries} of {MAX_WRONG_TRIES})"
            audit.record(
                session, now, service.name, WAY, "verify_check_failed", target, detail, remote
            )
        view = _view(session, verification, now) if verification and not refusal else None
        if view is not None and view.status == "max_attempts_reached":
            view = replace(view, status="pending")  # the fifth wrong code answers as the first
    if view is None:
        log.warning("event=verify_check_refused service=%s to=%s", service.sid, target)
        raise refusal or _not_found()
    log.info("event=verify_checked service=%s to=%s status=%s", service.sid, target, view.status)
    return view


def _wrong(verification: Verification, now: datetime) -> None:
    verification.wrong_tries += 1
    verification.updated_at = now
    if verification.wrong_tries >= MAX_WRONG_TRIES:
        # The fifth wrong code still answers `pending`; any check after it answers 60202.
        verification.status = "max_attempts_reached"


def _not_found() -> VerifyRefused:
    return _refused(404, 20404, "The requested resource was not found")


def _not_checkable(verification: Verification | None, now: datetime) -> VerifyRefused | None:
    if verification is None or verification.expires_at <= now:
        return _not_found()
    if verification.status == "max_attempts_reached":
        return _refused(429, 60202, "Max check attempts reached")
    if verification.status != "pending":
        return _not_found()
    return None


def fetch_verification(
    pager: Pager, service: VerifyService, sid: str, now: datetime
) -> VerificationView:
    with pager.db.transaction() as session:
        verification = _by_sid(session, service, sid)
        view = _view(session, verification, now) if verification else None
    if view is None:
        raise _not_found()
    return view


def update_verification(
    pager: Pager, service: VerifyService, sid: str, status: str, remote: str | None, now: datetime
) -> VerificationView:
    """`Status=canceled` (the code stops working) or `Status=approved` (the application
    verified the person another way), for a pending verification."""
    if status not in ("canceled", "approved"):
        raise _refused(400, 60200, "Invalid parameter `Status`: canceled or approved")
    with pager.db.transaction() as session:
        verification = _by_sid(session, service, sid)
        live = verification is not None and _not_checkable(verification, now) is None
        if verification is not None and live:
            verification.status = status
            verification.updated_at = now
            forget_spent(session, pager, now)
            target = mask(verification.phone)
            action = f"verify_{status}"
            audit.record(session, now, service.name, WAY, action, target, sid, remote)
        view = _view(session, verification, now) if verification and live else None
    if view is None:
        raise _not_found()
    return view


def _by_sid(session: Session, service: VerifyService, sid: str) -> Verification | None:
    """The service's verification `sid` names; a malformed SID names none (and never reaches
    the database: PostgreSQL refuses a NUL in a string)."""
    if not VERIFICATION_SID.fullmatch(sid):
        return None
    return verifications.by_sid(session, service.sid, sid)


def _view(session: Session, verification: Verification, now: datetime) -> VerificationView:
    status = verification.status
    if status == "pending" and verification.expires_at <= now:
        status = "expired"
    sends = []
    for send in verifications.sends_of(session, verification.id):
        n = outbox.get(session, send.notification_id)
        sends.append(SendAttempt(send.sid, send.channel, send.at, n.status if n else "unknown"))
    return VerificationView(
        verification.sid,
        verification.service_sid,
        verification.phone,
        verification.channel,
        status,
        verification.created_at,
        verification.updated_at,
        tuple(sends),
    )


def call_instead(session: Session, pager: Pager, n: Notification, now: datetime) -> bool:
    """After every SMS provider failed to deliver a Verify code: send a fresh code in a call,
    when the service allows calls. False (nothing done) for anything else."""
    if n.kind != "code" or n.channel != "sms":
        return False
    send = verifications.send_by_notification(session, n.id)
    if send is None:
        return False  # a sign-in code: its person can ask for a call
    verification = session.get(Verification, send.verification_id)
    service = pager.settings.verify_services.get(verification.service_sid) if verification else None
    if (
        verification is None
        or service is None
        or "call" not in service.channels
        or _not_checkable(verification, now) is not None
        or verification.channel != "sms"
    ):
        return False
    _send_code(session, service, verification, "call", now, None)
    n.status = check(n.status, PageState.FAILED)
    n.lease_until = None
    log.info("event=verify_code_called service=%s to=%s", service.sid, mask(n.phone))
    return True


def forget_spent(session: Session, pager: Pager, now: datetime) -> None:
    """Verifications that can no longer be approved: their texts keep the code masked, and
    a code not yet sent is not sent."""
    for spent in verifications.spent_not_forgotten(session, now):
        service = pager.settings.verify_services.get(spent.service_sid)
        name = service.name if service else "your"
        masked = "•" * (service.code_length if service else 6)
        for send in verifications.sends_of(session, spent.id):
            voice = send.channel == "call"
            text = (
                messages.verify_speech(name, masked)
                if voice
                else messages.verify_service_text(name, masked)
            )
            forget_code(session, send.notification_id, text)
        spent.forgotten_at = now


def _key(session: Session) -> bytes:
    return secrets_store.generated(session, "code_key").encode()
