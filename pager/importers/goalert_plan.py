"""A GoAlert instance (`goalert.Account`) in pager's terms, and notes on the rest.

A GoAlert schedule puts everyone its targets (rotations and users, each within its rules) have
on call at once, while a pager rotation has one person at a time: so each target becomes a
rotation of its own (`<schedule>-<target>` when a schedule has several), limited to the
target's rules, and an escalation step that notifies the schedule pages all of them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pager.domain.layers import Window
from pager.domain.notify_rules import NotifyRule, NotifyRules
from pager.domain.rotations import Schedule
from pager.importers import goalert as ga
from pager.importers.plan import (
    DAY,
    WEEK,
    Options,
    Plan,
    PlannedLayer,
    PlannedOverride,
    PlannedPerson,
    PlannedRotation,
    PlannedService,
    PlannedStep,
    VendorShift,
    after_text,
    as_rotation,
    e164,
    joined,
    local,
)
from pager.importers.planner import Planner

_UNITS = {"hourly": timedelta(hours=1), "daily": DAY, "weekly": WEEK}
_CHANNELS = {"SMS": "sms", "VOICE": "voice"}


def plan(account: ga.Account, options: Options) -> Plan:
    """What to write for `account` as it stands at `options.now`."""
    return _Planner(account, options).plan(
        account.users, account.schedules, account.policies, account.services
    )


class _Planner(Planner[ga.User, ga.Schedule, ga.Policy, ga.Service]):
    def __init__(self, account: ga.Account, options: Options) -> None:
        super().__init__(ga.VENDOR, options)
        self.account = account  # rotations: by our rotation id; policies: by GoAlert's
        self.names = {user.id: user.name for user in account.users}
        self.of_schedule: dict[str, list[str]] = {}  # GoAlert schedule id -> our rotation ids
        self.direct: dict[str, str] = {}  # GoAlert rotation id -> our rotation id
        self.by_id = {rotation.id: rotation for rotation in account.rotations}

    def people_planned(self) -> None:
        if self.people:
            self.note(
                "users",
                "GoAlert users have no time zone: UTC for each (set their own: "
                "it is the zone of their handoff texts and quiet hours)",
            )

    def schedules_planned(self, overrides: list[PlannedOverride]) -> None:
        overrides.extend(o for item in self.account.overrides for o in self._override(item))

    def service(self, service: ga.Service) -> PlannedService | None:
        policy = self.policies.get(service.policy)
        if policy is None:
            self.note(
                f"service '{service.name}'", "its escalation policy is not imported: left out"
            )
            return None
        return self.add_service(service.name, policy)

    # People

    def person(self, user: ga.User) -> None:
        subject = f"user '{user.name}' ({user.email or user.id})"
        numbers = {c.id: e164(c.value) for c in user.contact_methods if c.type in _CHANNELS}
        phone = next(
            (
                numbers[c.id]
                for kind in _CHANNELS
                for c in user.contact_methods
                if c.type == kind and not c.disabled and numbers.get(c.id)
            ),
            None,
        ) or self.options.phone_of(user.email)
        if phone is None:
            self.note(
                subject,
                "no enabled SMS or voice contact method with a valid number: "
                "left out, and so out of every rotation and step",
            )
            return
        others = (c.type for c in user.contact_methods if c.type not in _CHANNELS)
        self.other_contacts(subject, others, "contact methods")
        rules = self._notify(user, numbers, phone, subject)
        id_from = (user.email.partition("@")[0], user.name)
        self.add_person(user.id, id_from, user.name, phone, "UTC", NotifyRules(rules, rules))

    def _notify(
        self, user: ga.User, numbers: dict[str, str | None], phone: str, subject: str
    ) -> tuple[NotifyRule, ...]:
        """Their notification rules by SMS and voice (for both urgencies: GoAlert has none)."""
        kinds = {c.id: c.type for c in user.contact_methods}
        found: list[NotifyRule] = []
        for rule in sorted(user.rules, key=lambda r: r.delay):
            channel = _CHANNELS.get(kinds.get(rule.contact_method, ""))
            after = after_text(rule.delay)
            if channel is None:
                kind = kinds.get(rule.contact_method, "an unknown contact method")
                self.note(subject, f"the rule by {kind}{after} is not carried over")
                continue
            self.other_number(subject, f"{channel}{after}", phone, numbers.get(rule.contact_method))
            if (carried := NotifyRule(channel, rule.delay)) not in found:
                found.append(carried)
        return tuple(found)

    # Rotations

    def _layer(self, rotation: ga.Rotation, subject: str) -> PlannedLayer | None:
        """The rotation as a layer starting at its current turn: GoAlert keeps whose turn it
        is (`activeUserIndex`), so the turns go on from there."""
        unit = _UNITS.get(rotation.type)
        if unit is None:
            self.note(
                subject,
                f"a {rotation.type} rotation, and pager's turns last hours, days "
                "or weeks: left out",
            )
            return None
        if not self.zone_known(rotation.time_zone, subject):
            return None
        zone, shift = rotation.time_zone, unit * rotation.shift_length
        anchor = local(rotation.start, zone).replace(second=0, microsecond=0)
        start = anchor + (local(self.now, zone) - anchor) // shift * shift
        index = rotation.active_index % len(rotation.users) if rotation.users else 0
        order = rotation.users[index:] + rotation.users[:index]
        members = tuple(self.people[u].id for u in order if u in self.people)
        left_out = [self.names.get(u, u) for u in order if u not in self.people]
        if left_out:
            self.note(
                subject,
                f"{', '.join(left_out)} left out of the turns (not imported), so "
                "the turns of the others differ from GoAlert's",
            )
        if not self.members(members, subject):
            return None
        return PlannedLayer(zone, start, shift, members)

    def schedule(
        self, schedule: ga.Schedule, overrides: list[PlannedOverride], shifts: list[VendorShift]
    ) -> None:
        """Its overrides come apart from schedules: see `schedules_planned`."""
        subject = f"schedule '{schedule.name}'"
        if not self.zone_known(schedule.time_zone, subject):
            return
        zone, several = schedule.time_zone, len(schedule.targets) > 1
        mine = self.of_schedule.setdefault(schedule.id, [])
        for target in schedule.targets:
            where = f"{subject}, {target.target.type} '{target.target.name}'"
            windows = _windows(target.rules)
            if windows is None:
                self.note(where, "no rules, so never on call: left out")
                continue
            layer = self._target_layer(target.target, zone, where)
            if layer is None:
                continue
            name = f"{schedule.name} {target.target.name}" if several else schedule.name
            rotation_id = self.ids.make("rotation", name)
            self.rotations[rotation_id] = PlannedRotation(
                rotation_id, zone, (layer,), name, windows
            )
            mine.append(rotation_id)
        for start, end in schedule.temporary:
            if end > self.now:
                self.note(
                    subject,
                    f"the temporary schedule from {start.isoformat()} to "
                    f"{end.isoformat()} is not carried over: write its shifts as "
                    "overrides",
                )
        if mine:
            shifts.extend(self._shifts(schedule, mine))

    def _target_layer(self, target: ga.Target, zone: str, subject: str) -> PlannedLayer | None:
        if target.type == "rotation" and target.id in self.by_id:
            return self._layer(self.by_id[target.id], subject)
        if target.type == "user" and target.id in self.people:
            today = local(self.now, zone).replace(hour=0, minute=0, second=0, microsecond=0)
            monday = today - today.weekday() * DAY
            return PlannedLayer(zone, monday, WEEK, (self.people[target.id].id,))
        self.note(subject, "not imported: left out")
        return None

    def _shifts(self, schedule: ga.Schedule, rotations: list[str]) -> list[VendorShift]:
        """GoAlert's shifts of the schedule: each person must be on call in one of its
        rotations; where nobody's shift runs, nobody may be."""
        first, *others = rotations
        found: list[VendorShift] = []
        covered_until: datetime | None = None
        for shift in sorted(schedule.shifts, key=lambda s: s.start):
            if covered_until is not None and covered_until < shift.start:
                found.append(VendorShift(first, None, covered_until, shift.start, tuple(others)))
            person = self.people.get(shift.user)
            if person is not None:
                found.append(VendorShift(first, person.id, shift.start, shift.end, tuple(others)))
            covered_until = max(covered_until or shift.end, shift.end)
        return found

    # Overrides, policies

    def _override(self, override: ga.Override) -> list[PlannedOverride]:
        if override.end <= self.now:
            return []
        subject = f"override from {override.start.isoformat()} to {override.end.isoformat()}"
        added, removed = self.people.get(override.add), self.people.get(override.remove)
        if override.target.type != "schedule" or override.target.id not in self.of_schedule:
            self.note(
                subject,
                f"on the {override.target.type} '{override.target.name}', not an "
                "imported schedule: left out",
            )
            return []
        if not (override.add and override.remove):
            what = "adds" if override.add else "removes"
            name = self.names.get(override.add or override.remove, "someone")
            self.note(
                subject,
                f"{what} {name}, and pager's rotations have one person at a "
                "time (an override replaces whoever is on call): left out",
            )
            return []
        if added is None or removed is None:
            self.note(subject, "its people are not imported: left out")
            return []
        found = [
            replaced
            for rotation_id in self.of_schedule[override.target.id]
            if (replaced := self._replace(override, rotation_id, added, removed, subject))
        ]
        if not found:
            self.note(subject, f"{removed.id} is not on call then: nothing to carry over")
        return found

    def _replace(
        self,
        override: ga.Override,
        rotation_id: str,
        added: PlannedPerson,
        removed: PlannedPerson,
        subject: str,
    ) -> PlannedOverride | None:
        """GoAlert replaces `removed` only while they are on call: where they are throughout,
        an override of ours is the same; where they never are, it does nothing."""
        rotation = self.rotations[rotation_id]
        on_call = Schedule(rotations={rotation_id: as_rotation(rotation)}).shifts(
            rotation_id, override.start, override.end
        )
        theirs = [shift.person == removed.id for shift in on_call]
        if not any(theirs):
            return None
        if not all(theirs):
            self.note(
                subject,
                f"replaces {removed.id} by {added.id} while {removed.id} is on "
                f"call; in pager {added.id} covers '{rotation_id}' for all of it",
            )
        return PlannedOverride(rotation_id, added.id, override.start, override.end)

    def policy(self, policy: ga.Policy) -> None:
        subject = f"escalation policy '{policy.name}'"
        steps = []
        for step in policy.steps:
            targets = [t for target in step.targets for t in self._targets(target, subject, step)]
            if not targets:
                self.note(subject, f"step {step.number + 1} pages nobody pager has: left out")
                continue
            steps.append(PlannedStep(tuple(dict.fromkeys(targets)), step.delay))
        if not steps:
            self.note(subject, "no step left: left out, with its services")
            return
        self.add_policy(policy.id, policy.name, policy.repeat, steps)

    def _targets(self, target: ga.Target, subject: str, step: ga.Step) -> list[str]:
        if target.type == "user" and target.id in self.people:
            return [f"person:{self.people[target.id].id}"]
        if target.type == "schedule" and self.of_schedule.get(target.id):
            return [f"rotation:{r}" for r in self.of_schedule[target.id]]
        if target.type == "rotation" and target.id in self.by_id:
            rotation_id = self._direct(self.by_id[target.id])
            if rotation_id:
                return [f"rotation:{rotation_id}"]
        why = (
            "not imported"
            if target.type in ("user", "schedule", "rotation")
            else ("pager pages people, not chat channels or webhooks")
        )
        self.note(
            subject,
            f"step {step.number + 1}: the {target.type} '{target.name}' is left out ({why})",
        )
        return []

    def _direct(self, rotation: ga.Rotation) -> str | None:
        """Our rotation for a GoAlert rotation a step notifies itself (not via a schedule)."""
        if rotation.id not in self.direct:
            layer = self._layer(rotation, f"rotation '{rotation.name}'")
            if layer is None:
                return None
            rotation_id = self.ids.make("rotation", rotation.name)
            self.rotations[rotation_id] = PlannedRotation(
                rotation_id, rotation.time_zone, (layer,), rotation.name
            )
            self.direct[rotation.id] = rotation_id
        return self.direct[rotation.id]


def _windows(rules: tuple[ga.Rule, ...]) -> tuple[Window, ...] | None:
    """The rules as windows: () when one is always active, None when there are none."""
    if not rules:
        return None
    if any(rule.start == rule.end and len(rule.weekdays) == 7 for rule in rules):
        return ()
    return joined([Window(rule.weekdays, rule.start, rule.end) for rule in rules if rule.weekdays])
