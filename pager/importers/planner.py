"""The base of each product's planner: it walks the vendor's users, schedules, policies and
services in that order (people first: the rest refers to them), and holds what they share:
unique ids, the notes, time zones, numbers, and the vendor's rendered shifts to check with.
Each product's `*_plan` module says what one user, schedule, policy and service becomes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from pager.domain.notify_rules import NotifyRules
from pager.domain.phones import mask
from pager.importers.plan import (
    Ids,
    Note,
    Options,
    Plan,
    PlannedOverride,
    PlannedPerson,
    PlannedPolicy,
    PlannedRotation,
    PlannedService,
    PlannedStep,
    VendorShift,
    known_zone,
)

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
