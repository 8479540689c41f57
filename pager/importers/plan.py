"""What an importer found, in pager's terms: the rotation files to write and the notes on what
could not be carried over. Frozen dataclasses; `writing` turns them into YAML.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo, available_timezones

from pager.domain.layers import Layer, Restriction, Window
from pager.domain.notify_rules import NotifyRules
from pager.domain.phones import mask, parse_e164
from pager.domain.rotations import Override, Rotation, Schedule

DAY = timedelta(days=1)
WEEK = timedelta(weeks=1)
_NOT_ID = re.compile(r"[^a-z0-9._-]+")


@dataclass(frozen=True)
class Note:
    """Something of `subject` (`schedule 'Primary' (PI7DH85)`) that was left out or changed."""

    subject: str
    text: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.text}"


@dataclass(frozen=True)
class PlannedPerson:
    id: str
    name: str
    phone: str  # E.164
    timezone: str
    notify: NotifyRules = NotifyRules()


@dataclass(frozen=True)
class PlannedLayer:
    """Turns of `members` from `start` (naive, local to `timezone`), inside `windows` (none:
    always)."""

    timezone: str
    start: datetime
    shift: timedelta
    members: tuple[str, ...]
    windows: tuple[Window, ...] = ()


@dataclass(frozen=True)
class PlannedRotation:
    """Layers, the last listed winning, all limited to `windows` (on the rotation's clock;
    none: always); `source` names the vendor's schedule."""

    id: str
    timezone: str
    layers: tuple[PlannedLayer, ...]
    source: str = ""
    windows: tuple[Window, ...] = ()


@dataclass(frozen=True)
class PlannedOverride:
    rotation: str
    person: str
    start: datetime  # aware
    end: datetime


@dataclass(frozen=True)
class PlannedStep:
    targets: tuple[str, ...]  # `rotation:<id>`, `person:<id>`, `policy:<id>`
    wait: timedelta
    round_robin: bool = False


@dataclass(frozen=True)
class PlannedPolicy:
    id: str
    repeat: int
    steps: tuple[PlannedStep, ...]
    source: str = ""


@dataclass(frozen=True)
class PlannedService:
    id: str
    policy: str
    source: str = ""


@dataclass(frozen=True)
class VendorShift:
    """Who the vendor itself says is on call for (our) `rotation` from `start` to `end`
    (aware); None: nobody. Used to check the import. When one vendor schedule became
    several rotations (`also`), `person` must be on call in one of them (None: in none)."""

    rotation: str
    person: str | None
    start: datetime
    end: datetime
    also: tuple[str, ...] = ()

    @property
    def rotations(self) -> tuple[str, ...]:
        return (self.rotation, *self.also)


@dataclass(frozen=True)
class Plan:
    vendor: str  # as people write it: "PagerDuty"
    people: tuple[PlannedPerson, ...] = ()
    rotations: tuple[PlannedRotation, ...] = ()
    overrides: tuple[PlannedOverride, ...] = ()
    policies: tuple[PlannedPolicy, ...] = ()
    services: tuple[PlannedService, ...] = ()
    notes: tuple[Note, ...] = ()
    vendor_shifts: tuple[VendorShift, ...] = ()


@dataclass(frozen=True)
class Options:
    """What the user gave besides the answers: the instant of the import, and phone numbers
    by e-mail address or username (`--phones`) for people the vendor has none for."""

    now: datetime
    phones: Mapping[str, str] = field(default_factory=dict)

    def phone_of(self, *keys: str | None) -> str | None:
        return next((self.phones[key] for key in keys if key and key in self.phones), None)


@dataclass
class Ids:
    """Readable, unique pager ids from vendor names (`Alice Example` -> `alice-example`)."""

    taken: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def make(self, kind: str, *names: str | None) -> str:
        """The first of `names` that makes a usable id, made unique among `kind`'s ids."""
        base = next((slug for name in names if name and (slug := _slug(name))), kind)
        candidate, n = base, 1
        while candidate in self.taken[kind]:
            n += 1
            candidate = f"{base}-{n}"
        self.taken[kind].add(candidate)
        return candidate


UserT = TypeVar("UserT")
ScheduleT = TypeVar("ScheduleT")
PolicyT = TypeVar("PolicyT")
ServiceT = TypeVar("ServiceT")


class Planner(Generic[UserT, ScheduleT, PolicyT, ServiceT]):
    """What each product's planner shares: unique ids, the notes, time zones, numbers, and the
    order of the work (`plan`): people, then schedules with their overrides and the vendor's
    own shifts, then policies, then services. Each product fills in the steps."""

    def __init__(self, vendor: str, options: Options) -> None:
        self.vendor, self.options, self.now = vendor, options, options.now
        self.ids = Ids()
        self.notes: list[Note] = []
        self.people: dict[str, PlannedPerson] = {}  # by the vendor's user id
        self.rotations: dict[str, PlannedRotation] = {}  # keyed as each product says
        self.policies: dict[str, PlannedPolicy] = {}  # by the vendor's policy id
        self.names: dict[str, str] = {}  # the vendor's user id -> how the report names them

    def plan(
        self,
        users: Iterable[UserT],
        schedules: Iterable[ScheduleT],
        policies: Iterable[PolicyT],
        services: Iterable[ServiceT],
    ) -> Plan:
        """The plan: people first (the rest refers to them), then schedules, policies and
        services, each noting what it leaves out."""
        for user in users:
            self.person(user)
        self.people_planned()
        overrides: list[PlannedOverride] = []
        shifts: list[VendorShift] = []
        for schedule in schedules:
            self.schedule(schedule, overrides, shifts)
        self.schedules_planned(overrides)
        for policy in policies:
            self.policy(policy)
        planned = [service for service in map(self.service, services) if service]
        return self.finish(
            self.people.values(),
            self.rotations.values(),
            overrides,
            self.policies.values(),
            planned,
            shifts,
        )

    def person(self, user: UserT) -> None:
        """Add the user to `people`, if pager can page them."""
        raise NotImplementedError

    def people_planned(self) -> None:
        """Once every person is planned (nothing by default)."""

    def schedule(
        self, schedule: ScheduleT, overrides: list[PlannedOverride], shifts: list[VendorShift]
    ) -> None:
        """Add what the schedule becomes to `rotations`, its overrides and the vendor's
        shifts (to check the import with) to `overrides` and `shifts`."""
        raise NotImplementedError

    def schedules_planned(self, overrides: list[PlannedOverride]) -> None:
        """Once every schedule is planned: overrides the vendor keeps apart (none by default)."""

    def policy(self, policy: PolicyT) -> None:
        """Add the policy to `policies`, if pager can carry it."""
        raise NotImplementedError

    def service(self, service: ServiceT) -> PlannedService | None:
        """The service, or None if it is left out."""
        raise NotImplementedError

    def note(self, subject: str, text: str) -> None:
        self.notes.append(Note(subject, text))

    def zone_or_utc(self, zone: str | None, subject: str) -> str:
        """`zone` if pager knows it, else UTC (noted)."""
        if zone and known_zone(zone):
            return zone
        said = f"time zone {zone!r} is not a tz database name" if zone else "no time zone"
        self.note(subject, f"{said}: UTC instead")
        return "UTC"

    def zone_known(self, zone: str | None, subject: str) -> bool:
        """Whether pager knows `zone`; if not, noted: what is in it is left out."""
        if zone and known_zone(zone):
            return True
        self.note(subject, f"time zone {zone!r} is not a tz database name: left out")
        return False

    def add_person(
        self,
        user_id: str,
        id_from: tuple[str, str],
        name: str,
        phone: str,
        zone: str,
        rules: NotifyRules,
    ) -> None:
        """Plan the vendor's user `user_id`, their pager id made from the first of `id_from`."""
        person_id = self.ids.make("person", *id_from)
        self.people[user_id] = PlannedPerson(person_id, name, phone, zone, rules)

    def other_contacts(self, subject: str, others: Iterable[str], what: str) -> None:
        """Notes the kinds of contact (`what`: "contact methods") pager does not page by."""
        if found := sorted(set(others)):
            self.note(
                subject,
                f"{', '.join(found)} {what} are not carried over: pager pages by SMS and voice",
            )

    def other_number(self, subject: str, said: str, phone: str, other: str | None) -> None:
        """Notes a rule (`said`: "voice after 5 min") that pages a number not `phone`."""
        if other and other != phone:
            self.note(
                subject,
                f"{said} goes to pager's one number for them, {mask(phone)}, not {mask(other)}",
            )

    def ended(self, end: datetime | None, subject: str) -> bool:
        """Whether what ends at `end` (None: never) is over at the import (noted)."""
        if end is not None and end <= self.now:
            self.note(subject, f"ended {end.isoformat()}: left out")
            return True
        return False

    def members(self, members: tuple[str, ...], subject: str) -> tuple[str, ...]:
        """`members`, noted when there is nobody left to take turns."""
        if not members:
            self.note(subject, "nobody left to take turns: left out")
        return members

    def left_out_override(self, subject: str, who: str | None, start: datetime) -> None:
        self.note(
            subject, f"the override by {who} from {start.isoformat()} is left out (not imported)"
        )

    def add_policy(
        self, policy_id: str, name: str, repeat: int, steps: Iterable[PlannedStep]
    ) -> PlannedPolicy:
        """Plan the vendor's policy `policy_id` (`name`) with `steps`."""
        planned = PlannedPolicy(self.ids.make("policy", name), repeat, tuple(steps), name)
        self.policies[policy_id] = planned
        return planned

    def add_service(self, name: str, policy: PlannedPolicy) -> PlannedService:
        """The service `name` the vendor has, paging `policy`."""
        return PlannedService(self.ids.make("service", name), policy.id, name)

    def finish(
        self,
        people: Iterable[PlannedPerson],
        rotations: Iterable[PlannedRotation],
        overrides: Iterable[PlannedOverride],
        policies: Iterable[PlannedPolicy],
        services: Iterable[PlannedService],
        shifts: Iterable[VendorShift],
    ) -> Plan:
        return Plan(
            vendor=self.vendor,
            people=tuple(people),
            rotations=tuple(rotations),
            overrides=tuple(overrides),
            policies=tuple(policies),
            services=tuple(services),
            notes=tuple(self.notes),
            vendor_shifts=tuple(shifts),
        )


@dataclass(frozen=True)
class Rendered:
    """One entry of the vendor's rendered schedule; `compared` False: its person is not
    imported, so it is not compared (but it still closes the gap before it)."""

    start: datetime
    end: datetime
    person: str | None  # pager's id; None: nobody
    compared: bool = True


def rendered_shifts(
    rotation: str, entries: Iterable[Rendered], one_at_a_time: bool = False
) -> list[VendorShift]:
    """The vendor's rendered entries for `rotation` in order, the gaps between them as
    nobody's; `one_at_a_time`: an entry starting before the previous one ends is skipped."""
    shifts: list[VendorShift] = []
    for entry in sorted(entries, key=lambda e: e.start):
        if one_at_a_time and shifts and entry.start < shifts[-1].end:
            continue
        if shifts and shifts[-1].end < entry.start:
            shifts.append(VendorShift(rotation, None, shifts[-1].end, entry.start))
        if entry.compared:
            shifts.append(VendorShift(rotation, entry.person, entry.start, entry.end))
    return shifts


def e164(written: str) -> str | None:
    """A number as the products write it (`+447700900101`, `44-7700900101`) in E.164, or None
    when it is not a valid one."""
    digits = "".join(ch for ch in written if ch.isdigit())
    try:
        return parse_e164(f"+{digits}") if digits else None
    except ValueError:
        return None


def after_text(delay: timedelta) -> str:
    """` after 5 min` for a delay, nothing for none: how the report says a rule's delay."""
    return f" after {int(delay.total_seconds() // 60)} min" if delay else ""


def _slug(name: str) -> str:
    return _NOT_ID.sub("-", name.strip().lower()).strip("-._")


def known_zone(name: str | None) -> bool:
    """Whether `name` is a tz database name pager accepts."""
    return bool(name) and name in _zone_names()


def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def local(at: datetime, zone: str) -> datetime:
    """The wall-clock time (naive) of the aware instant `at` in `zone`."""
    return at.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def span_windows(weekday: int | None, start: time, length: timedelta) -> tuple[Window, ...]:
    """Windows for a span opening at `start` (on `weekday`, 0 Monday; None: every day) and
    lasting `length` of wall-clock time; () when that covers all of the time anyway."""
    days = frozenset(range(7)) if weekday is None else frozenset({weekday})
    period = DAY if weekday is None else WEEK
    if length >= period:
        return ()
    windows: list[Window] = []
    offset = timedelta(0)
    while offset < length:
        piece = min(DAY, length - offset)
        end = (datetime.combine(datetime.min, start) + piece).time()
        shifted = frozenset((day + offset // DAY) % 7 for day in days)
        windows.append(Window(shifted, start, end))
        offset += piece
    return tuple(windows)


def joined(windows: list[Window]) -> tuple[Window, ...]:
    """`windows` with those of the same hours on different days written as one."""
    by_hours: dict[tuple[time, time], set[int]] = defaultdict(set)
    for window in windows:
        by_hours[(window.start, window.end)] |= window.days
    return tuple(Window(frozenset(days), a, b) for (a, b), days in by_hours.items())


def as_rotation(rotation: PlannedRotation) -> Rotation:
    """The rotation as pager's domain holds it, to ask who is on call."""
    outer = (Restriction(rotation.timezone, rotation.windows),) if rotation.windows else ()
    layers = tuple(
        Layer(
            layer.timezone,
            layer.start,
            layer.shift,
            layer.members,
            ((Restriction(layer.timezone, layer.windows),) if layer.windows else ()) + outer,
        )
        for layer in rotation.layers
    )
    return Rotation(rotation.id, rotation.timezone, layers)


def agreeing(
    rotation: PlannedRotation, overrides: Iterable[PlannedOverride], shifts: Iterable[VendorShift]
) -> int:
    """At how many instants (the start and middle of each of `shifts`) `rotation` with
    `overrides` puts the same person on call as the vendor."""
    schedule = Schedule(
        rotations={rotation.id: as_rotation(rotation)},
        overrides=tuple(
            Override(o.rotation, o.person, o.start, o.end)
            for o in overrides
            if o.rotation == rotation.id
        ),
    )
    return sum(
        schedule.shift_at(rotation.id, at).person == shift.person
        for shift in shifts
        for at in sample_instants(shift)
    )


def sample_instants(shift: VendorShift) -> tuple[datetime, ...]:
    """Where a vendor's shift is compared with ours: its start and its middle."""
    return tuple(dict.fromkeys((shift.start, shift.start + (shift.end - shift.start) / 2)))
