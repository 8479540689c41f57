"""The SMS commands that only read: ONCALL (who is on call now and next) and STATUS (the
sender's open pages), with times in the sender's own time zone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pager.domain.reply_texts import (
    OnCallLine,
    StatusLine,
    oncall_text,
    reply_text,
    status_text,
    unknown_rotation,
)
from pager.domain.rotations import END_OF_TIME, Person, Schedule
from pager.domain.states import IncidentState
from pager.flows.context import Pager
from pager.store.models import Incident


def oncall(pager: Pager, person: Person | None, asked: str, now: datetime) -> str:
    """ONCALL: the rotations `person` is in (every rotation when none), or the one `asked`
    about (case aside), each with who holds it now, until when, and who comes next."""
    schedule = pager.rotations.schedule
    timezone = person.timezone if person else "UTC"
    if schedule is None or not schedule.rotations:
        return reply_text("no_rotations")
    known = sorted(schedule.rotations)
    if asked:
        chosen = [r for r in known if r.lower() == asked.lower()]
        if not chosen:
            return unknown_rotation(asked, known)
    else:
        chosen = [r for r in known if person and _member(schedule, r, person)] or known
    lines = [_line(schedule, rotation, now) for rotation in chosen]
    return oncall_text(lines, timezone, now)


def status(pages: Sequence[Incident], timezone: str, now: datetime) -> str:
    """STATUS: the sender's open pages, each with its code and state; an acknowledged one with
    when it escalates again (its ack timeout or snooze), if it will."""
    lines = [
        StatusLine(
            number=incident.id,
            service=incident.service,
            status=incident.status,
            code=incident.ack_code,
            by=incident.acknowledged_by,
            until=incident.escalation_due_at
            if incident.status == IncidentState.ACKNOWLEDGED
            else None,
        )
        for incident in pages
    ]
    return status_text(lines, timezone, now)


def _member(schedule: Schedule, rotation: str, person: Person) -> bool:
    return any(member.id == person.id for member in schedule.members(rotation))


def _line(schedule: Schedule, rotation: str, now: datetime) -> OnCallLine:
    shift = schedule.shift_at(rotation, now)
    if shift.end == END_OF_TIME:
        return OnCallLine(rotation, schedule.name_of(shift.person), None, None)
    after = schedule.shift_at(rotation, shift.end)
    return OnCallLine(
        rotation, schedule.name_of(shift.person), shift.end, schedule.name_of(after.person)
    )
