"""The load a rotation set puts on people: past incidents replayed against it.

Pure: `simulate(schedule, incidents, start, end, ack_after)` takes everything it needs. Each
incident's escalation runs as `flows.escalate` would have run it with this set in force: the
service's policy as it is snapshotted when an incident opens, who is on call at each step
(`Schedule.resolve`), round robin, a step that pages nobody handing on at once, low urgency
waiting for the morning of whoever it would wake, each person's notification rules, and a
planned maintenance window of the set holding the first step until it ends. A step due once
the incident was acknowledged or resolved pages nobody; where the history does not say when it
was acknowledged, it is taken as acknowledged `ack_after` after its first page.

Not replayed: silences made on the dashboard or API (they are not in the rotation files), an
ack timeout escalating again, and someone escalating by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from pager.domain.coverage import Gap, service_gaps
from pager.domain.escalation import in_turn, people_paged, quiet_until, step_to_run
from pager.domain.layers import DAY, Interval, clip, intersect, local_to_utc, merge
from pager.domain.notify_rules import PlannedPage, plan_pages
from pager.domain.rotations import Person, Policy, Schedule
from pager.domain.urgency import morning_after

SATURDAY = 5
# Low urgency waits for a morning, and a morning may find someone else asleep on call; a few
# holds in a row at most in any real set, a bound against a hand-built one that never ends.
_MAX_HOLDS = 8


@dataclass(frozen=True)
class HistoricIncident:
    """An incident as the history tells it (aware UTC instants)."""

    number: int  # the incident's id in the database, or its place in a history file
    service: str
    opened_at: datetime
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    urgency: str = "high"


@dataclass(frozen=True)
class Page:
    """`person` paged by step `step` (1-based, across repeats) of incident `incident` at `at`."""

    incident: int
    person: str
    at: datetime
    step: int
    channels: tuple[str, ...]
    night: bool  # `at` is in 22:00-08:00 of the person's own time zone


@dataclass(frozen=True)
class PersonLoad:
    """What the set asks of one person over the window."""

    person: str
    pages: int
    night_pages: int
    on_call: timedelta  # time on call for any rotation, each instant counted once
    weekend: timedelta  # the part of it on Saturday or Sunday in their own time zone
    longest: timedelta  # the longest unbroken time on call inside the window


@dataclass(frozen=True)
class RotationGap:
    """Nobody on call for `rotation` from `start` to `end` (inside the window)."""

    rotation: str
    start: datetime
    end: datetime
    timezone: str


@dataclass(frozen=True)
class Load:
    """One rotation set against the history, over [start, end)."""

    start: datetime
    end: datetime
    incidents: int
    people: tuple[PersonLoad, ...]  # in the set's order of people
    pages: tuple[Page, ...]
    unpaged: tuple[int, ...]  # incidents that paged nobody at all
    rotation_gaps: tuple[RotationGap, ...]
    service_gaps: tuple[Gap, ...]


def simulate(
    schedule: Schedule,
    incidents: Iterable[HistoricIncident],
    start: datetime,
    end: datetime,
    ack_after: timedelta,
) -> Load:
    """Replay the incidents opened in [start, end) against `schedule`: per person their pages,
    nights, hours on call, weekend hours and longest stretch; and the coverage gaps."""
    chosen = [i for i in incidents if start <= i.opened_at < end]
    pages: list[Page] = []
    unpaged: list[int] = []
    for incident in sorted(chosen, key=lambda i: (i.opened_at, i.number)):
        paged = replay(schedule, incident, ack_after)
        pages.extend(paged)
        if not paged:
            unpaged.append(incident.number)
    on_call = on_call_intervals(schedule, start, end)
    people = tuple(
        _person_load(person, pages, on_call.get(person.id, []))
        for person in schedule.people.values()
    )
    return Load(
        start,
        end,
        len(chosen),
        people,
        tuple(pages),
        tuple(unpaged),
        tuple(rotation_gaps(schedule, start, end)),
        tuple(service_gaps(schedule, start, end)),
    )


def replay(schedule: Schedule, incident: HistoricIncident, ack_after: timedelta) -> list[Page]:
    """The pages the incident's escalation would have sent with `schedule` in force."""
    service = schedule.services.get(incident.service)
    if service is None or service.policy not in schedule.policies:
        return []  # intake opens it with no policy: nobody is paged
    policy = Policy.from_snapshot(schedule.policy_snapshot(service.policy))
    at = _after_maintenance(schedule, incident.service, incident.opened_at)
    stop = _earliest(incident.acknowledged_at, incident.resolved_at)
    assumed = incident.acknowledged_at is None
    pages: list[Page] = []
    index, holds = 0, 0
    while (stop is None or at < stop) and (run := step_to_run(policy, index, at)) is not None:
        targets = run.step.targets
        if run.step.round_robin:
            targets = in_turn(schedule, targets, incident.number, at)
        people = people_paged(schedule, targets, at)
        quiet = quiet_until(people, at) if incident.urgency == "low" else None
        if quiet is not None and holds < _MAX_HOLDS:
            at, holds = quiet[0], holds + 1  # the step runs again then, for whoever is on then
            continue
        planned = {
            p.id: plan_pages(run.step.channels, p.notify, p.timezone, incident.urgency, at)
            for p in people
        }
        if assumed and not pages and planned:
            first = min(page.at for plan in planned.values() for page in plan)
            stop = _earliest(first + ack_after, incident.resolved_at)
        for person in people:
            page = _page(incident.number, person, planned[person.id], stop, index + 1)
            pages.extend([page] if page else [])
        at = run.next_due if people else at
        index += 1
    return pages


def _page(
    incident: int, person: Person, plan: Sequence[PlannedPage], stop: datetime | None, step: int
) -> Page | None:
    """The step's page of `person`: what of `plan` goes out before `stop`; None if nothing."""
    sent = [page for page in plan if stop is None or page.at < stop]
    if not sent:
        return None
    channels = tuple(dict.fromkeys(page.channel for page in sent))
    return Page(incident, person.id, sent[0].at, step, channels, _night(person, sent[0].at))


def on_call_intervals(
    schedule: Schedule, start: datetime, end: datetime
) -> dict[str, list[Interval]]:
    """Per person, when they are on call for any rotation inside [start, end), merged."""
    found: dict[str, list[Interval]] = {}
    for rotation in schedule.rotations:
        for shift in schedule.shifts(rotation, start, end):
            if shift.person is not None:
                found.setdefault(shift.person, []).extend(
                    clip([(shift.start, shift.end)], start, end)
                )
    return {person: merge(intervals) for person, intervals in found.items()}


def rotation_gaps(schedule: Schedule, start: datetime, end: datetime) -> list[RotationGap]:
    """For each rotation, in order, the parts of [start, end) with nobody on call."""
    gaps: list[RotationGap] = []
    for rotation in schedule.rotations.values():
        nobody = [
            (s.start, s.end) for s in schedule.shifts(rotation.id, start, end) if s.person is None
        ]
        gaps.extend(
            RotationGap(rotation.id, a, b, rotation.timezone)
            for a, b in clip(merge(nobody), start, end)
        )
    return gaps


def weekends(zone: str, start: datetime, end: datetime) -> list[Interval]:
    """The parts of [start, end) that are Saturday or Sunday on the wall clock of `zone`."""
    tz = ZoneInfo(zone)
    first = start.astimezone(tz).date() - DAY
    days = (end.astimezone(tz).date() - first).days + 1
    saturdays = (first + n * DAY for n in range(days))
    found = [
        (
            local_to_utc(datetime.combine(day, time(0)), tz),
            local_to_utc(datetime.combine(day + 2 * DAY, time(0)), tz),
        )
        for day in saturdays
        if day.weekday() == SATURDAY
    ]
    return clip(merge(found), start, end)


def _person_load(person: Person, pages: Sequence[Page], on_call: list[Interval]) -> PersonLoad:
    mine = [page for page in pages if page.person == person.id]
    if on_call:
        weekend = intersect(on_call, weekends(person.timezone, on_call[0][0], on_call[-1][1]))
    else:
        weekend = []
    return PersonLoad(
        person.id,
        len(mine),
        sum(1 for page in mine if page.night),
        _total(on_call),
        _total(weekend),
        max((b - a for a, b in on_call), default=timedelta(0)),
    )


def _night(person: Person, at: datetime) -> bool:
    return morning_after(person.timezone, at) is not None


def _total(intervals: Iterable[Interval]) -> timedelta:
    return sum((b - a for a, b in intervals), timedelta(0))


def _after_maintenance(schedule: Schedule, service: str, at: datetime) -> datetime:
    """When the first step runs: at the end of the planned windows covering `at`, if any."""
    for _ in range(len(schedule.maintenance) + 1):
        window = schedule.maintenance_at(service, at)
        if window is None:
            break
        at = window.end
    return at


def _earliest(*instants: datetime | None) -> datetime | None:
    return min((at for at in instants if at is not None), default=None)
