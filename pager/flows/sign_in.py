"""Signing in as yourself: a one-time code texted (or read aloud) to your number from the
rotations, then a session kept server side.

Codes follow DESIGN invariant 8: drawn from `secrets`, kept only as an HMAC under a key held
in the database, never logged, valid 10 minutes (`sign_in: code_ttl`, 5 to 10), single use,
void after 5 wrong tries, at most 5 per number and 20 per remote address in any 15 minutes,
compared in constant time; 20 failed sign-ins from an address in 15 minutes, and it may try no
more until they age out. Asking for
one answers the same whether or not the handle or number exists. The SMS goes through the
outbox like any page (routing, failover, STOP), as a `code` row that no limit holds or
digests; once its code is spent or expired, the row's text keeps the code masked, and a code
not yet sent by then is not sent at all. Every code sent and every sign-in, good or bad, is
in the audit trail.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from pager.domain import messages
from pager.domain.codes import (
    CODES_PER_ADDRESS,
    CODES_PER_NUMBER,
    CODES_WINDOW,
    FAILED_SIGN_INS_PER_ADDRESS,
    MAX_WRONG_TRIES,
    code_digest,
    code_matches,
    one_time_code,
    token_digest,
)
from pager.domain.phones import mask, mask_numbers_in
from pager.domain.rotations import Person, Schedule
from pager.flows.code_carriers import code_carrier, forget_code
from pager.flows.context import Pager
from pager.store import audit, codes, outbox, web_sessions
from pager.store import secrets as secrets_store
from pager.store import totp as totp_store
from pager.store.people_models import AuthCode, WebSession

log = logging.getLogger(__name__)

SIGN_IN = "sign_in"
WAY = "dashboard"
SEEN_EVERY = timedelta(minutes=1)  # how often a session's last_seen_at is written


@dataclass(frozen=True)
class SignedIn:
    """Who a dashboard request comes from, and the CSRF token of their session."""

    person: str
    name: str
    csrf: str
    session_id: int


def find_person(schedule: Schedule | None, who: str) -> Person | None:
    """The person a handle or phone number names (`alice`, `+447700900101`)."""
    if schedule is None:
        return None
    wanted = who.strip()
    if wanted in schedule.people:
        return schedule.people[wanted]
    digits = "".join(c for c in wanted if c.isdigit())
    if not digits:
        return None
    for person in schedule.people.values():
        if person.phone.lstrip("+") == digits:
            return person
    return None


def send_code(pager: Pager, who: str, channel: str, remote: str | None, now: datetime) -> None:
    """Text (or, with `channel="voice"`, call with) a sign-in code to the person `who` names.

    Returns nothing either way: whether `who` exists, or a limit held the code, is told only
    to the audit trail (no enumeration)."""
    person = find_person(pager.rotations.schedule, who)
    with pager.db.transaction() as session:
        forget_spent_codes(session, now)
        why = refused(session, person, remote, now)
        if why is None and person is not None and _app_required(session, person):
            why = "an authenticator app is required (require_totp)"
        if why is not None or person is None:
            audit.record(
                session,
                now,
                person.id if person else "unknown",
                WAY,
                "sign_in_code_refused",
                mask_numbers_in(who.strip())[:100],
                why or "no such person",
                remote,
            )
            log.warning("event=sign_in_code_refused reason=%r remote=%s", why, remote)
            return
        issue_code(session, SIGN_IN, person, channel, remote, now, pager.settings.sign_in.code_ttl)
        audit.record(
            session,
            now,
            person.id,
            WAY,
            "sign_in_code_sent",
            person.id,
            f"{'call' if channel == 'voice' else 'sms'} to {mask(person.phone)}",
            remote,
        )
    log.info("event=sign_in_code_sent person=%s to=%s", person.id, mask(person.phone))
    pager.wake()


def issue_code(
    session: Session,
    purpose: str,
    person: Person,
    channel: str,
    remote: str | None,
    now: datetime,
    ttl: timedelta,
) -> None:
    """A new code for `purpose` to the person's number, valid for `ttl`, in the outbox; older
    ones go void. The caller checks `refused` first and writes the audit line."""
    codes.void_live(session, purpose, person.id, now)
    code = one_time_code()
    text = code_text(purpose, channel, code, ttl)
    notification = code_carrier(person.id, person.name, person.phone, channel, text, now)
    session.add(notification)
    session.flush()
    codes.add(
        session,
        AuthCode(
            purpose=purpose,
            person=person.id,
            phone=person.phone,
            digest=code_digest(_key(session), purpose, person.id, code),
            created_at=now,
            expires_at=now + ttl,
            wrong_tries=0,
            remote_addr=remote,
            notification_id=notification.id,
        ),
    )


def code_text(purpose: str, channel: str, code: str, ttl: timedelta) -> str:
    """What carries a code of `purpose`, valid for `ttl`, on `channel` (SMS text or speech)."""
    minutes = int(ttl.total_seconds() // 60)
    if purpose == SIGN_IN:
        return (
            messages.sign_in_speech(code)
            if channel == "voice"
            else messages.sign_in_text(code, minutes)
        )
    return messages.verify_text(code, minutes)


def refused(
    session: Session, person: Person | None, remote: str | None, now: datetime
) -> str | None:
    """Why no code may be sent now (the per-number and per-address limits), or None."""
    since = now - CODES_WINDOW
    if remote and codes.asked_from_address_since(session, remote, since) >= CODES_PER_ADDRESS:
        return f"more than {CODES_PER_ADDRESS} codes asked from this address in 15 min"
    if person and codes.sent_to_number_since(session, person.phone, since) >= CODES_PER_NUMBER:
        return f"{CODES_PER_NUMBER} codes sent to this number in 15 min already"
    return None


def _app_required(session: Session, person: Person) -> bool:
    """Whether `person` must sign in with their authenticator app: asked for, and enrolled."""
    if not person.require_totp:
        return False
    enrolled = totp_store.of(session, person.id)
    return enrolled is not None and enrolled.confirmed_at is not None


def check_code(pager: Pager, who: str, code: str, remote: str | None, now: datetime) -> str | None:
    """The person signed in by `code`, or None (wrong, expired, used, void or unknown)."""
    person = find_person(pager.rotations.schedule, who)
    with pager.db.transaction() as session:
        forget_spent_codes(session, now)
        # Refused by address: the code is not tried, and stays good for its owner elsewhere.
        wrong = address_refused(session, remote, now)
        if wrong is None and person is not None and _app_required(session, person):
            wrong = "an authenticator app is required (require_totp)"
        if wrong is None:
            wrong = try_code(session, SIGN_IN, person.id, code, now) if person else "no such person"
        if person is None or wrong is not None:
            _failed(session, person.id if person else "unknown", wrong or "", remote, now)
            return None
        audit.record(session, now, person.id, WAY, "signed_in", person.id, "sms code", remote)
    log.info("event=signed_in person=%s remote=%s", person.id, remote)
    return person.id


def address_refused(session: Session, remote: str | None, now: datetime) -> str | None:
    """Why no sign-in is tried from `remote` now (too many failed from it lately), or None."""
    since = now - CODES_WINDOW
    if remote and (
        audit.count_from_address(session, "sign_in_failed", remote, since)
        >= FAILED_SIGN_INS_PER_ADDRESS
    ):
        return f"{FAILED_SIGN_INS_PER_ADDRESS} failed sign-ins from this address in 15 min"
    return None


def try_code(session: Session, purpose: str, person: str, code: str, now: datetime) -> str | None:
    """Spend the person's live code for `purpose` if `code` is it; else why not (a wrong try
    counts, and the fifth voids the code)."""
    live = codes.live_for(session, purpose, person, now)
    if live is None:
        return "no code in force (expired, used, void)"
    if not code_matches(_key(session), purpose, person, code, live.digest):
        live.wrong_tries += 1
        if live.wrong_tries >= MAX_WRONG_TRIES:
            live.voided_at = now
        return f"wrong code ({live.wrong_tries} of {MAX_WRONG_TRIES})"
    live.used_at = now
    forget_spent_codes(session, now)  # this one's text loses its code now
    return None


def _failed(session: Session, actor: str, why: str, remote: str | None, now: datetime) -> None:
    audit.record(session, now, actor, WAY, "sign_in_failed", actor, why, remote)
    log.warning("event=sign_in_failed person=%s reason=%r remote=%s", actor, why, remote)


def forget_spent_code_texts(pager: Pager, now: datetime) -> None:
    """The runner's sweep: no text keeps a code nobody can use any more, even one that nobody
    tried to sign in with after it expired (and one not sent by then is not sent)."""
    with pager.db.transaction() as session:
        forget_spent_codes(session, now)


def forget_spent_codes(session: Session, now: datetime) -> None:
    """Codes that can no longer be used lose their text; one not yet sent is not sent."""
    masked = "•" * 6
    for spent in codes.spent_with_text(session, now):
        if spent.notification_id:
            n = outbox.get(session, spent.notification_id)
            channel = n.channel if n is not None else "sms"
            ttl = spent.expires_at - spent.created_at
            text = code_text(spent.purpose, channel, masked, ttl)
            forget_code(session, spent.notification_id, text)
        spent.notification_id = None


def _key(session: Session) -> bytes:
    return secrets_store.generated(session, "code_key").encode()


def start_session(
    pager: Pager, person: str, remote: str | None, agent: str | None, now: datetime
) -> str:
    """A new session for `person`; returns the token for the cookie (kept only hashed)."""
    token = secrets.token_urlsafe(32)
    with pager.db.transaction() as session:
        web_sessions.add(
            session,
            WebSession(
                token_digest=token_digest(token),
                person=person,
                csrf=secrets.token_urlsafe(32),
                created_at=now,
                last_seen_at=now,
                expires_at=now + pager.settings.sign_in.lifetime,
                remote_addr=remote,
                user_agent=(agent or "")[:300] or None,
            ),
        )
    return token


def session_for(pager: Pager, token: str, now: datetime) -> SignedIn | None:
    """The signed-in person behind a cookie's token: None when the session ended, was idle
    too long, outlived its lifetime, or names someone no longer in the rotations."""
    if not token:
        return None
    schedule = pager.rotations.schedule
    with pager.db.transaction() as session:
        found = web_sessions.by_token_digest(session, token_digest(token))
        if found is None or found.ended_at is not None:
            return None
        idle = pager.settings.sign_in.idle_timeout
        if now >= found.expires_at or now - found.last_seen_at >= idle:
            web_sessions.end(found, "timeout", now)
            return None
        person = schedule.people.get(found.person) if schedule else None
        if person is None:
            return None
        if now - found.last_seen_at >= SEEN_EVERY:
            found.last_seen_at = now
        return SignedIn(found.person, person.name, found.csrf, found.id)


def end_session(
    pager: Pager, token: str, remote: str | None, now: datetime, everywhere: bool = False
) -> None:
    """Sign out this session, or with `everywhere` every open session of its person."""
    with pager.db.transaction() as session:
        found = web_sessions.by_token_digest(session, token_digest(token)) if token else None
        if found is None or found.ended_at is not None:
            return
        ended = web_sessions.open_of(session, found.person) if everywhere else [found]
        for each in ended:
            web_sessions.end(each, found.person, now)
        audit.record(
            session,
            now,
            found.person,
            WAY,
            "signed_out_everywhere" if everywhere else "signed_out",
            found.person,
            f"{len(ended)} session(s) ended",
            remote,
        )
