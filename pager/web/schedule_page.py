"""The dashboard's schedule pages: one per rotation (who now, who next, the next two weeks
with overrides and gaps, in the rotation's time zone) and the services with their policies in
words. Pages of the dashboard blueprint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import abort, render_template
from flask.typing import ResponseReturnValue

from pager.domain.durations import format_duration
from pager.domain.rotations import Policy, Schedule, Step
from pager.flows.context import utcnow
from pager.web.dashboard import blueprint
from pager.web.errors import pager

SHOWN = timedelta(days=14)


@dataclass(frozen=True)
class ShiftRow:
    person: str | None  # display name; None: nobody is on call (a gap)
    start_local: str
    end_local: str
    start: datetime
    override: bool
    now: bool


@blueprint.get("/rotations/<rotation_id>")
def rotation_page(rotation_id: str) -> ResponseReturnValue:
    schedule = _schedule()
    if rotation_id not in schedule.rotations:
        abort(404, f"There is no rotation '{rotation_id}'.")
    now = utcnow()
    zone = ZoneInfo(schedule.rotations[rotation_id].timezone)
    rows = [
        ShiftRow(
            person=schedule.name_of(shift.person),
            start_local=_local(shift.start, zone),
            end_local=_local(shift.end, zone),
            start=shift.start,
            override=shift.override,
            now=shift.start <= now < shift.end,
        )
        for shift in schedule.shifts(rotation_id, now, now + SHOWN)
    ]
    return render_template(
        "rotation.html",
        rotation=rotation_id,
        timezone=zone.key,
        rows=rows,
        gaps=sum(row.person is None for row in rows),
    )


@blueprint.get("/services")
def services_page() -> ResponseReturnValue:
    schedule = _schedule()
    services = [
        (service.id, service.policy, policy_in_words(schedule.policies[service.policy]))
        for service in sorted(schedule.services.values(), key=lambda s: s.id)
        if service.policy in schedule.policies
    ]
    return render_template("services.html", services=services, rotations=sorted(schedule.rotations))


def policy_in_words(policy: Policy) -> list[str]:
    """Each step as a person reads it: "SMS to rotation sre-primary; after 5m, the next step"."""
    lines = [_step_in_words(n, step) for n, step in enumerate(policy.steps, start=1)]
    if policy.repeat:
        lines.append(f"then all of it again, {policy.repeat} more time(s)")
    if policy.ack_timeout:
        lines.append(
            f"an acknowledgement not resolved within {format_duration(policy.ack_timeout)} "
            "escalates again"
        )
    return lines


def _step_in_words(number: int, step: Step) -> str:
    channels = " and ".join(c.upper() if c == "sms" else c for c in step.channels)
    how = channels or "each person's own notification rules"
    whom = ", ".join(f"{t.kind} {t.name}" for t in step.targets)
    turns = " (one of them, in turn)" if step.round_robin else ""
    return f"{number}. {how} to {whom}{turns}; {format_duration(step.wait)} to acknowledge"


def _schedule() -> Schedule:
    schedule = pager().rotations.schedule
    if schedule is None:
        abort(503, "No valid rotation set: nobody can be paged. Check the files with pager check.")
    return schedule


def _local(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%a %d %b %H:%M %Z")
