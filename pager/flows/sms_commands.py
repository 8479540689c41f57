"""What each SMS command does, and its answer: ACK, RES, ESC, SNOOZE, NOTE on an incident;
ONCALL, STATUS, HELP, STOP, START on their own.

A command on an incident names it by its ack code, or means the sender's only open page;
it counts only for an incident the number was paged for (DESIGN invariant 7), and wrong codes
lock the number for a while (invariant 8). flows.replies decides who gets an answer at all,
and records each command on the timeline and in the audit trail.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from pager.domain.codes import same_code
from pager.domain.durations import format_duration
from pager.domain.phones import mask
from pager.domain.replies import Reply
from pager.domain.reply_texts import (
    help_text,
    local_time,
    problem_text,
    reply_text,
    which_one,
)
from pager.domain.rotations import Person
from pager.domain.states import IncidentState
from pager.flows import sms_console
from pager.flows.context import Pager
from pager.flows.incidents import (
    UpcomingStep,
    acknowledge_in,
    add_note_in,
    escalate_now_in,
    resolve_in,
    snooze_in,
    upcoming_step,
)
from pager.store import contacts, incidents
from pager.store.models import Incident

log = logging.getLogger(__name__)

WRONG_CODES_ALLOWED = 5
LOCK_WINDOW = timedelta(minutes=15)
VIA = "sms"


@dataclass(frozen=True)
class Sender:
    """Who texted: the number, the provider whose pages it may act on (None: any; see
    flows.replies), and the person in the rotations with that number, if any."""

    phone: str
    via: str | None
    person: Person | None

    @property
    def name(self) -> str:
        """How the timeline and the audit trail name them (never the whole number)."""
        return self.person.name if self.person else mask(self.phone)

    @property
    def timezone(self) -> str:
        return self.person.timezone if self.person else "UTC"

    def name_on(self, session: Session, incident: Incident) -> str:
        """Their name as the incident's pages had it, as its timeline already says."""
        return incidents.person_paged(session, incident.id, self.phone) or self.name


@dataclass(frozen=True)
class Answer:
    """The auto-reply; `changed`: an incident changed (confirmed whatever the auto-reply
    limit); `incidents`: whose timelines record the command; `wake`: the runner has work."""

    text: str
    changed: bool = False
    incidents: tuple[Incident, ...] = ()
    wake: bool = False


def answer(
    pager: Pager, session: Session, sender: Sender, reply: Reply, body: str, now: datetime
) -> Answer:
    """Do what `reply` asks, in the caller's transaction; the auto-reply and what changed."""
    longest = pager.settings.sms_console.max_snooze
    if reply.kind == "stop":
        contacts.opt_out(session, sender.phone, now)
        return Answer(reply_text("stopped"))
    if reply.kind == "start":
        contacts.opt_in(session, sender.phone)
        return Answer(reply_text("started"))
    if reply.kind == "help":
        return Answer(help_text(reply.text, longest))
    if reply.kind == "oncall":
        return Answer(sms_console.oncall(pager, sender.person, reply.text, now))
    if reply.kind == "status":
        pages = incidents.open_incidents_paged_to(session, sender.phone, sender.via)
        return Answer(sms_console.status(pages, sender.timezone, now))
    if reply.kind == "unknown" or reply.problem is not None:
        text = (
            problem_text(reply.kind, reply.problem, longest)
            if reply.problem is not None
            else reply_text("not_understood")
        )
        named = _named(session, sender, reply.code)
        _heard(session, named, sender, body, now)
        return Answer(text, incidents=named)
    return _on_incident(pager, session, sender, reply, body, now)


def _named(session: Session, sender: Sender, code: str | None) -> tuple[Incident, ...]:
    """The incident a command not understood is about: the open page its code names, else
    the sender's only open page; none when that is not clear."""
    pages = incidents.open_incidents_paged_to(session, sender.phone, sender.via)
    if code is not None:
        return tuple(i for i in pages if same_code(i.ack_code, code))[:1]
    return tuple(pages) if len(pages) == 1 else ()


def _on_incident(
    pager: Pager, session: Session, sender: Sender, reply: Reply, body: str, now: datetime
) -> Answer:
    phone = sender.phone
    if contacts.count_since(session, phone, "wrong_code", now - LOCK_WINDOW) >= WRONG_CODES_ALLOWED:
        log.warning("event=reply_locked from=%s", mask(phone))
        return Answer(reply_text("locked", minutes=int(LOCK_WINDOW.total_seconds() // 60)))
    pages = list(incidents.open_incidents_paged_to(session, phone, sender.via))
    if reply.everything:
        return _on_all(session, pages, sender, reply, body, now)
    if reply.code is None:
        if not pages:
            return Answer(reply_text("nothing_open"))
        if len(pages) > 1:
            return Answer(which_one([i.ack_code for i in pages], _WITH_A_CODE[reply.kind]))
        incident = pages[0]
    else:
        found = next((i for i in pages if same_code(i.ack_code, reply.code)), None)
        if found is None:
            contacts.record(session, phone, "wrong_code", now)
            log.warning("event=reply_wrong_code from=%s", mask(phone))
            return Answer(reply_text("unknown_code", code=reply.code))
        incident = found
    _heard(session, (incident,), sender, body, now)
    by = sender.name_on(session, incident)
    command = _Command(pager, session, incident, by, sender.timezone, reply, now)
    text, changed = _ACTIONS[reply.kind](command)
    wake = changed and reply.kind == "escalate"
    return Answer(text, changed, (incident,), wake)


def _heard(
    session: Session, on: tuple[Incident, ...], sender: Sender, body: str, now: datetime
) -> None:
    """The command on each incident's timeline, as sent (the start of it), before it acts."""
    shown = " ".join(body.split())[:40]
    for incident in on:
        said = f"{sender.name_on(session, incident)} ({mask(sender.phone)}) replied '{shown}'"
        incidents.add_timeline(session, incident.id, now, "reply", said)


def _on_all(
    session: Session,
    pages: list[Incident],
    sender: Sender,
    reply: Reply,
    body: str,
    now: datetime,
) -> Answer:
    """ACK ALL / RES ALL, which digests offer: every open page of this sender."""
    if not pages:
        return Answer(reply_text("nothing_open"))
    _heard(session, tuple(pages), sender, body, now)
    changed = 0
    for incident in pages:
        name = sender.name_on(session, incident)
        done = acknowledge_in if reply.kind == "ack" else resolve_in
        changed += done(session, incident, name, VIA, now)
    kind = "acknowledged_all" if reply.kind == "ack" else "resolved_all"
    return Answer(reply_text(kind, count=changed), changed > 0, tuple(pages))


@dataclass(frozen=True)
class _Command:
    """A command on one incident, as its action sees it."""

    pager: Pager
    session: Session
    incident: Incident
    by: str  # the sender, as the incident's pages name them
    timezone: str  # the sender's, for the times in the answer
    reply: Reply
    now: datetime


def _acknowledge(c: _Command) -> tuple[str, bool]:
    incident = c.incident
    if acknowledge_in(c.session, incident, c.by, VIA, c.now):
        if incident.test_of is not None:  # resolved with the ack (flows.people)
            return reply_text("test_acknowledged", number=incident.id), True
        return reply_text("acknowledged", **_facts(incident), code=incident.ack_code), True
    return _already(incident)


def _resolve(c: _Command) -> tuple[str, bool]:
    if resolve_in(c.session, c.incident, c.by, VIA, c.now):
        return reply_text("resolved", **_facts(c.incident)), True
    return reply_text("already_resolved", number=c.incident.id), False


def _escalate(c: _Command) -> tuple[str, bool]:
    """ESC: the next step now (the runner is woken after the commit), told in words."""
    incident = c.incident
    if incident.status == IncidentState.ACKNOWLEDGED:
        by = incident.acknowledged_by or "someone"
        return reply_text("not_escalating", number=incident.id, by=by), False
    if incident.status != IncidentState.TRIGGERED:
        return _already(incident)
    if not escalate_now_in(c.session, incident, c.by, VIA, c.now):
        return reply_text("escalation_over", number=incident.id), False
    step = upcoming_step(c.pager, incident)
    if step is None or step.number is None:
        return reply_text("escalation_over", number=incident.id), True
    return reply_text("escalated", number=incident.id, step=_in_words(step)), True


def _snooze(c: _Command) -> tuple[str, bool]:
    """SNOOZE: acknowledged now, escalating again after the snooze unless resolved."""
    incident, length = c.incident, c.reply.snooze
    assert length is not None  # parse_reply gives a SNOOZE without a time a problem
    longest = c.pager.settings.sms_console.max_snooze
    if length > longest:
        return reply_text("snooze_too_long", longest=format_duration(longest)), False
    was = incident.status
    if not snooze_in(c.session, incident, c.by, VIA, length, c.now):
        if was == IncidentState.TRIGGERED:  # a test page: resolved once acknowledged (flows.people)
            return reply_text("test_acknowledged", number=incident.id), True
        return reply_text("already_resolved", number=incident.id), False
    until = local_time(c.now + length, c.timezone, c.now)
    facts = _facts(incident)
    return reply_text("snoozed", **facts, until=until, code=incident.ack_code), True


def _note(c: _Command) -> tuple[str, bool]:
    add_note_in(c.session, c.incident, c.reply.text, c.by, VIA, c.now)
    return reply_text("noted", **_facts(c.incident)), True


_ACTIONS: dict[str, Callable[[_Command], tuple[str, bool]]] = {
    "ack": _acknowledge,
    "resolve": _resolve,
    "escalate": _escalate,
    "snooze": _snooze,
    "note": _note,
}
# How to write each command with a code, for someone with several open pages.
_WITH_A_CODE = {
    "ack": "ACK <code>",
    "resolve": "RES <code>",
    "escalate": "ESC <code>",
    "snooze": "SNOOZE <code> 30m",
    "note": "NOTE <code> <text>",
}
_DOING = {"sms": "texting", "voice": "calling"}


def _in_words(step: UpcomingStep) -> str:
    """ "step 2 of 3, calling Bob Example now": what the escalation does at once."""
    names = list(dict.fromkeys(name for _, found in step.targets for name in found or ()))
    head = f"step {step.number} of {step.steps}"
    if not names:
        return f"{head}: nobody on call to page, so the next step follows"
    doing = " and ".join(_DOING.get(channel, channel) for channel in step.channels) or "paging"
    return f"{head}, {doing} {', '.join(names)} now"


def _already(incident: Incident) -> tuple[str, bool]:
    if incident.status == IncidentState.RESOLVED:
        return reply_text("already_resolved", number=incident.id), False
    by = incident.acknowledged_by or "someone"
    return reply_text("already_acknowledged", number=incident.id, by=by), False


def _facts(incident: Incident) -> dict[str, object]:
    return dict(number=incident.id, service=incident.service, title=incident.title)
