"""SMS replies from people: ACK/RES with a code, HELP, STOP/START.

Only numbers we paged or people in the rotations get an answer; STOP/START/HELP come first
(carrier rules), then an ack counts only for an incident the number was paged for
(DESIGN invariant 7); wrong codes lock the sender for a while (invariant 8), and auto-replies
are limited so that two robots can't loop.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from pager.domain.codes import ONE_TIME_CODE_DIGITS, same_code
from pager.domain.messages import reply_text
from pager.domain.phones import mask, normalise
from pager.domain.replies import Reply, bare_digits, parse_reply
from pager.flows import verify, webhooks
from pager.flows.context import Pager
from pager.flows.incidents import acknowledge_in, resolve_in
from pager.providers.base import InboundSms
from pager.store import contacts, incidents
from pager.store.models import Incident

log = logging.getLogger(__name__)

WRONG_CODES_ALLOWED = 5
LOCK_WINDOW = timedelta(minutes=15)
AUTO_REPLIES_ALLOWED = 10
AUTO_REPLY_WINDOW = timedelta(minutes=10)


def handle_sms(pager: Pager, provider: str, sms: InboundSms, now: datetime) -> str | None:
    """Act on one inbound SMS; returns the auto-reply to send back, or None to stay quiet."""
    phone = normalise(sms.sender) or sms.sender
    reply = parse_reply(sms.body)
    via = _own_pages_only(pager, provider)
    with pager.db.transaction() as session:
        if not contacts.first_time_seen(session, provider, _replay_keys(sms), now):
            # A provider retry, or someone replaying a signed request: act on it once only.
            log.warning("event=inbound_replayed provider=%s from=%s", provider, mask(phone))
            return None
        known = incidents.ever_paged(session, phone, via) or (
            via is None and _in_rotations(pager, phone)
        )
        if not known:
            # A stranger changes nothing and gets no answer (we would be an SMS relay for spam).
            # Someone in the rotations, paged or not yet, gets HELP, STOP and START answered
            # through a real provider; acks still count only for incidents their number was
            # paged for, and the sandbox answers only numbers it paged itself.
            log.info("event=reply_from_unknown provider=%s from=%s", provider, mask(phone))
            _tell(pager, session, phone, sms, provider, now)
            return None
        contacts.record(session, phone, "inbound", now)  # a conversation, for the limits
        proof = _proof(pager, session, phone, sms.body, now, via)
        if proof is None and reply.kind == "unknown":
            _tell(pager, session, phone, sms, provider, now)
        if proof is not None:
            text, changed = proof
        else:
            text, changed = _answer(session, phone, reply, sms.body, now, via)
        # Confirm every ack and resolve (bounded by the open incidents); anything else is
        # answered a few times at most, so two robots replying to each other soon stop.
        recent = contacts.count_since(session, phone, "auto_reply", now - AUTO_REPLY_WINDOW)
        if not changed and recent >= AUTO_REPLIES_ALLOWED:
            log.warning("event=auto_reply_limited from=%s", mask(phone))
            return None
        contacts.record(session, phone, "auto_reply", now)
        return text


def _tell(
    pager: Pager, session: Session, phone: str, sms: InboundSms, provider: str, now: datetime
) -> None:
    """An SMS that is no command of ours may start someone's workflow: to the webhooks."""
    schedule = pager.rotations.schedule
    people = schedule.people.values() if schedule else ()
    person = next((p.id for p in people if p.phone == phone), None)
    recipient = normalise(sms.recipient) or sms.recipient
    webhooks.sms_received(pager, session, phone, recipient, sms.body, person, provider, now)


def _proof(
    pager: Pager, session: Session, phone: str, body: str, now: datetime, via: str | None
) -> tuple[str, bool] | None:
    """A reply of exactly six digits while a verification code to this number is in force,
    that no open page of the number has as its ack code: it answers the verification (see
    flows.verify). None: an ordinary reply. Not through the sandbox beside a real provider,
    which must not prove a number a real provider texted."""
    digits = bare_digits(body)
    if via is not None or digits is None or len(digits) != ONE_TIME_CODE_DIGITS:
        return None
    pages = incidents.open_incidents_paged_to(session, phone, via)
    if any(same_code(incident.ack_code, digits) for incident in pages):
        return None  # a page in progress comes first
    proved = verify.prove_by_reply(pager, session, phone, digits, now)
    if proved is None:
        return None
    return reply_text("number_verified" if proved else "verify_refused"), proved


def _in_rotations(pager: Pager, phone: str) -> bool:
    schedule = pager.rotations.schedule
    return schedule is not None and any(p.phone == phone for p in schedule.people.values())


def _replay_keys(sms: InboundSms) -> list[str]:
    """What makes an inbound SMS the same one again: its id, and what exactly was signed."""
    keys = [sms.provider_message_id]
    if sms.signed_content:
        keys.append(f"signed:{sms.signed_content}")
    return keys


def _own_pages_only(pager: Pager, provider: str) -> str | None:
    """The sandbox's pretend phones answer only for what the sandbox sent them: its token is
    printed at start, so it must not ack, resolve or STOP for a number a real provider paged.
    Returns the provider whose pages the reply may act on, None for any (a real provider, or
    the sandbox when no real provider is configured)."""
    found = next((p for p in pager.settings.providers if p.name == provider), None)
    beside_real = any(p.type != "sandbox" for p in pager.settings.providers)
    # Alone (the quick start), the sandbox carries every page: nothing real to protect.
    return provider if found is not None and found.type == "sandbox" and beside_real else None


def _answer(
    session: Session, phone: str, reply: Reply, body: str, now: datetime, via: str | None
) -> tuple[str, bool]:
    """The auto-reply, and whether the reply changed an incident."""
    if reply.kind == "stop":
        contacts.opt_out(session, phone, now)
        return reply_text("stopped"), False
    if reply.kind == "start":
        contacts.opt_in(session, phone)
        return reply_text("started"), False
    if reply.kind == "help":
        return reply_text("help"), False
    if reply.kind == "unknown":
        return reply_text("not_understood"), False
    if contacts.count_since(session, phone, "wrong_code", now - LOCK_WINDOW) >= WRONG_CODES_ALLOWED:
        log.warning("event=reply_locked from=%s", mask(phone))
        return reply_text("locked", minutes=int(LOCK_WINDOW.total_seconds() // 60)), False
    open_pages = list(incidents.open_incidents_paged_to(session, phone, via))
    if reply.everything:
        return _act_on_all(session, open_pages, phone, reply, body, now)
    if reply.code is None:
        if not open_pages:
            return reply_text("nothing_open"), False
        if len(open_pages) > 1:
            return reply_text("which_one", codes=[i.ack_code for i in open_pages]), False
        incident = open_pages[0]
    else:
        found = next((i for i in open_pages if same_code(i.ack_code, reply.code)), None)
        if found is None:
            contacts.record(session, phone, "wrong_code", now)
            log.warning("event=reply_wrong_code from=%s", mask(phone))
            return reply_text("unknown_code", code=reply.code), False
        incident = found
    return _act(session, incident, phone, reply, body, now)


def _act(
    session: Session, incident: Incident, phone: str, reply: Reply, body: str, now: datetime
) -> tuple[str, bool]:
    person = incidents.person_paged(session, incident.id, phone) or mask(phone)
    shown = " ".join(body.split())[:40]
    incidents.add_timeline(
        session, incident.id, now, "reply", f"{person} ({mask(phone)}) replied '{shown}'"
    )
    text, changed = _apply(session, incident, person, reply, now)
    incidents.add_timeline(session, incident.id, now, "auto-reply", f"answered {person}: {text}")
    return text, changed


def _act_on_all(
    session: Session, pages: list[Incident], phone: str, reply: Reply, body: str, now: datetime
) -> tuple[str, bool]:
    """ACK ALL / RES ALL, which digests offer: every open page of this sender."""
    if not pages:
        return reply_text("nothing_open"), False
    changed = 0
    for incident in pages:
        person = incidents.person_paged(session, incident.id, phone) or mask(phone)
        shown = " ".join(body.split())[:40]
        incidents.add_timeline(
            session, incident.id, now, "reply", f"{person} ({mask(phone)}) replied '{shown}'"
        )
        _, did = _apply(session, incident, person, reply, now)
        changed += did
    kind = "acknowledged_all" if reply.kind == "ack" else "resolved_all"
    return reply_text(kind, count=changed), changed > 0


def _apply(
    session: Session, incident: Incident, person: str, reply: Reply, now: datetime
) -> tuple[str, bool]:
    facts = dict(number=incident.id, service=incident.service, title=incident.title)
    if reply.kind == "ack":
        if acknowledge_in(session, incident, person, "sms", now):
            if incident.test_of is not None:  # resolved with the ack (flows.people)
                return reply_text("test_acknowledged", number=incident.id), True
            return reply_text("acknowledged", **facts, code=incident.ack_code), True
        by = incident.acknowledged_by or "someone"
        return reply_text("already_acknowledged", number=incident.id, by=by), False
    if resolve_in(session, incident, person, "sms", now):
        return reply_text("resolved", **facts), True
    return reply_text("already_resolved", number=incident.id), False
