"""The dashboard's schedule pages: one per rotation (who now, who next, the next two weeks
with overrides and gaps, in the rotation's time zone) and the services with their policies in
words. Pages of the dashboard blueprint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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


@dataclass(frozen=True)
class Stretch:
    """A part of a day in the grid: who is on call from `x` for `width` minutes after the
    day's local midnight (`colour` None: nobody, a gap)."""

    x: int
    width: int
    person: str | None
    colour: int | None
    override: bool


@dataclass(frozen=True)
class Day:
    label: str  # "Mon 07 Dec"
    minutes: int  # 1440, or 1380 / 1500 on the days the clocks change
    stretches: tuple[Stretch, ...]


def two_weeks(
    schedule: Schedule, rotation_id: str, now: datetime, zone: ZoneInfo
) -> tuple[list[Day], list[tuple[str, int]]]:
    """The grid of the rotation page: 14 days from today's local midnight, each day the
    stretches of who is on call (overrides marked, gaps left uncoloured); and the legend, each
    person's name and colour."""
    midnight = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    starts = [(midnight.replace(tzinfo=None) + timedelta(days=n)) for n in range(15)]
    bounds = [start.replace(tzinfo=zone).astimezone(UTC) for start in starts]
    shifts = schedule.shifts(rotation_id, bounds[0], bounds[-1])
    people = sorted({shift.person for shift in shifts if shift.person})
    days = []
    for label, begin, end in zip(starts, bounds, bounds[1:], strict=False):
        stretches = tuple(
            Stretch(
                x=int((max(shift.start, begin) - begin).total_seconds() // 60),
                width=int((min(shift.end, end) - max(shift.start, begin)).total_seconds() // 60),
                person=schedule.name_of(shift.person),
                colour=people.index(shift.person) % 6 if shift.person else None,
                override=shift.override,
            )
            for shift in shifts
            if shift.start < end and begin < shift.end
        )
        minutes = int((end - begin).total_seconds() // 60)
        days.append(Day(label.strftime("%a %d %b"), minutes, stretches))
    legend = [(schedule.name_of(handle) or handle, n % 6) for n, handle in enumerate(people)]
    return days, legend


@blueprint.get("/rotations/<rotation_id>")
def rotation_page(rotation_id: str) -> ResponseReturnValue:
    schedule = _schedule()
    if rotation_id not in schedule.rotations:
        abort(404, f"There is no rotation '{rotation_id}'.")
    now = utcnow()
    zone = ZoneInfo(schedule.rotations[rotation_id].timezone)
    days, legend = two_weeks(schedule, rotation_id, now, zone)
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
        days=days,
        legend=legend,
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
