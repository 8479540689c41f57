"""Who is on call, as the dashboard shows it: each rotation now (and who comes next), one
rotation's next two weeks (its shifts, and a grid of each local day), and the services'
policies in words. All from the rotation set in force, at the `now` given."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from pager.domain.durations import format_duration
from pager.domain.rotations import END_OF_TIME, Policy, Schedule, Step

SHOWN = timedelta(days=14)  # how far ahead a rotation's page looks


@dataclass(frozen=True)
class OnCall:
    """Who holds one rotation now, and until when in the rotation's own time zone."""

    rotation: str
    person: str | None  # display name; None: nobody is on call
    override: bool
    until: datetime | None  # None: no end in sight
    until_local: str
    next_person: str | None


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


@dataclass(frozen=True)
class RotationAhead:
    """One rotation's page: its shifts for the next two weeks, and the grid of those days."""

    timezone: str
    rows: list[ShiftRow]
    days: list[Day]
    legend: list[tuple[str, int]]  # each person's name and colour in the grid

    @property
    def gaps(self) -> int:
        return sum(row.person is None for row in self.rows)


def on_call_now(schedule: Schedule | None, now: datetime) -> list[OnCall]:
    """Each rotation, by name: who holds it at `now`, until when, and who takes over then."""
    if schedule is None:
        return []
    rows = []
    for rotation_id in sorted(schedule.rotations):
        shift = schedule.shift_at(rotation_id, now)
        ends = shift.end != END_OF_TIME
        after = schedule.shift_at(rotation_id, shift.end) if ends else None
        zone = ZoneInfo(schedule.rotations[rotation_id].timezone)
        rows.append(
            OnCall(
                rotation=rotation_id,
                person=schedule.name_of(shift.person),
                override=shift.override,
                until=shift.end if ends else None,
                until_local=_local(shift.end, zone) if ends else "",
                next_person=schedule.name_of(after.person) if after else None,
            )
        )
    return rows


def rotation_ahead(schedule: Schedule, rotation_id: str, now: datetime) -> RotationAhead:
    """The next two weeks of `rotation_id` (one of the schedule's), in its own time zone."""
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
    return RotationAhead(zone.key, rows, days, legend)


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


def services_in_words(schedule: Schedule) -> list[tuple[str, str, list[str]]]:
    """Each service with a policy, by name: (service, policy, the policy in words)."""
    return [
        (service.id, service.policy, policy_in_words(schedule.policies[service.policy]))
        for service in sorted(schedule.services.values(), key=lambda s: s.id)
        if service.policy in schedule.policies
    ]


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


def _local(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%a %d %b %H:%M %Z")
