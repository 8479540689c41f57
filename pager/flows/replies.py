"""SMS from people: commands (see flows.sms_commands), number proofs, and anything else.

Only numbers we paged or people in the rotations get an answer; STOP/START/HELP come first
(carrier rules), then a command on an incident counts only for an incident the number was
paged for (DESIGN invariant 7); wrong codes lock the sender for a while (invariant 8), and
auto-replies are limited so that two robots can't loop. Every command, understood or not, is
recorded: on the timeline of the incident it is about, and in the audit trail.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from pager.domain.codes import ONE_TIME_CODE_DIGITS, same_code
from pager.domain.phones import mask, mask_numbers_in, normalise
from pager.domain.replies import bare_digits, parse_reply
from pager.domain.reply_texts import reply_text
from pager.domain.rotations import Person
from pager.flows import canaries, sms_commands, verify, webhooks
from pager.flows.context import Pager
from pager.flows.sms_commands import Answer, Sender
from pager.providers.base import InboundSms
from pager.store import audit, contacts, incidents

log = logging.getLogger(__name__)

AUTO_REPLIES_ALLOWED = 10
AUTO_REPLY_WINDOW = timedelta(minutes=10)
AUDIT_SHOWN = 80  # characters of the SMS the audit trail keeps (a note is kept whole there)


def handle_sms(pager: Pager, provider: str, sms: InboundSms, now: datetime) -> str | None:
    """Act on one inbound SMS; returns the auto-reply to send back, or None to stay quiet."""
    if canaries.is_canary(sms.body):  # one of our own, back from a round trip: no answer
        canaries.came_back(pager, provider, sms.body, now)
        return None
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
        if proof is not None:  # flows.verify records it (never the code) in the audit trail
            text, changed = proof
            return text if _may_answer(session, phone, changed, now) else None
        if reply.kind == "unknown":
            _tell(pager, session, phone, sms, provider, now)
        sender = Sender(phone, via, _person(pager, phone))
        answer = sms_commands.answer(pager, session, sender, reply, sms.body, now)
        answered = _may_answer(session, phone, answer.changed, now)
        _record(session, sender, sms.body, answer, answered, now)
    if answer.wake:
        pager.wake()  # after the commit: ESC's step is due now
    return answer.text if answered else None


def _may_answer(session: Session, phone: str, changed: bool, now: datetime) -> bool:
    """Confirm every change (bounded by the open incidents and deliberate commands); anything
    else is answered a few times at most, so two robots replying to each other soon stop."""
    recent = contacts.count_since(session, phone, "auto_reply", now - AUTO_REPLY_WINDOW)
    if not changed and recent >= AUTO_REPLIES_ALLOWED:
        log.warning("event=auto_reply_limited from=%s", mask(phone))
        return False
    contacts.record(session, phone, "auto_reply", now)
    return True


def _record(
    session: Session, sender: Sender, body: str, answer: Answer, answered: bool, now: datetime
) -> None:
    """Every command, done or not understood: the answer on the timeline of each incident it
    was about, and one line in the audit trail, by the person (way "sms")."""
    said = answer.text if answered else "(not answered: auto-replies limited)"
    for incident in answer.incidents:
        name = sender.name_on(session, incident)
        incidents.add_timeline(session, incident.id, now, "auto-reply", f"answered {name}: {said}")
    target = ", ".join(f"incident #{incident.id}" for incident in answer.incidents)
    shown = " ".join(body.split())[:AUDIT_SHOWN]
    actor = sender.name_on(session, answer.incidents[0]) if answer.incidents else sender.name
    detail = mask_numbers_in(f"'{shown}': {said}")
    audit.record(session, now, actor, "sms", "sms_command", target, detail)


def _person(pager: Pager, phone: str) -> Person | None:
    schedule = pager.rotations.schedule
    people = schedule.people.values() if schedule else ()
    return next((person for person in people if person.phone == phone), None)


def _tell(
    pager: Pager, session: Session, phone: str, sms: InboundSms, provider: str, now: datetime
) -> None:
    """An SMS that is no command of ours may start someone's workflow: to the webhooks."""
    found = _person(pager, phone)
    person = found.id if found else None
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
    return _person(pager, phone) is not None


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
