"""Who is on call when: people, rotations, overrides, escalation policies and services.

Pure: no file I/O and no clock; every question takes the instant `at` (timezone-aware).

A rotation is one or more layers (see `layers`); where several apply, the last listed wins,
and an override wins over every layer. Where none applies and no override covers, nobody is
on call: that is a shift too, with person None, so shifts tile time with no gap or overlap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pager.domain.layers import Layer, uncovered
from pager.domain.notify_rules import NotifyRules

TARGET_KINDS = ("rotation", "members", "person", "policy")

# The bounds of a "nobody on call" shift before anyone ever is, or after anyone ever will be.
BEGINNING_OF_TIME = datetime.min.replace(tzinfo=UTC)
END_OF_TIME = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    phone: str  # E.164, e.g. +447700900101
    timezone: str
    handoff_notices: bool = True  # an SMS when their shift starts
    # How a step without `channels` pages them, per urgency (see `notify_rules`).
    notify: NotifyRules = NotifyRules()
    # Once enrolled in an authenticator app, signs in with it only (SMS codes are exposed to
    # SIM swaps and SS7 interception).
    require_totp: bool = False


@dataclass(frozen=True)
class Rotation:
    """Layers of turns; where several apply at once, the last listed wins."""

    id: str
    timezone: str  # overrides are written in it, and shifts shown in it
    layers: tuple[Layer, ...]


@dataclass(frozen=True)
class Override:
    """`person` covers `rotation` from `start` to `end` (aware UTC), whoever's turn it is."""

    rotation: str
    person: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Target:
    """Who a step pages: `rotation:<id>`, `person:<id>` or `policy:<id>`."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"

    @classmethod
    def parse(cls, text: str) -> Target:
        """Read `kind:name`; raise ValueError with a message a user can act on."""
        kind, colon, name = text.partition(":")
        if not colon or kind not in TARGET_KINDS or not name:
            raise ValueError(
                f"bad target '{text}' (write rotation:<id>, members:<rotation>, person:<id> "
                "or policy:<id>)"
            )
        return cls(kind, name)


@dataclass(frozen=True)
class Step:
    targets: tuple[Target, ...]
    # Empty: each person is paged by their own notification rules (or SMS), see `notify_rules`.
    channels: tuple[str, ...]
    wait: timedelta
    # Page one of the targets per incident, taking turns across incidents, not all of them.
    round_robin: bool = False


@dataclass(frozen=True)
class Policy:
    """Escalation steps, run in order; then the whole list again `repeat` more times."""

    id: str
    repeat: int
    steps: tuple[Step, ...]
    # An acknowledgement not followed by a resolve within this long escalates again.
    ack_timeout: timedelta | None = None

    def to_snapshot(self) -> dict[str, Any]:
        """A JSON-able copy to store on an incident when it opens."""
        timeout = self.ack_timeout
        return {
            "id": self.id,
            "repeat": self.repeat,
            "ack_timeout_seconds": int(timeout.total_seconds()) if timeout else None,
            "steps": [
                {
                    "targets": [str(target) for target in step.targets],
                    "channels": list(step.channels),
                    "wait_seconds": int(step.wait.total_seconds()),
                    "round_robin": step.round_robin,
                }
                for step in self.steps
            ],
        }

    @classmethod
    def from_snapshot(cls, data: Mapping[str, Any]) -> Policy:
        """The policy as `to_snapshot` stored it."""
        steps = tuple(
            Step(
                targets=tuple(Target.parse(text) for text in step["targets"]),
                channels=tuple(step.get("channels", ())),
                wait=timedelta(seconds=step["wait_seconds"]),
                round_robin=bool(step.get("round_robin", False)),
            )
            for step in data["steps"]
        )
        timeout = data.get("ack_timeout_seconds")
        ack_timeout = timedelta(seconds=timeout) if timeout else None
        return cls(id=data["id"], repeat=data["repeat"], steps=steps, ack_timeout=ack_timeout)


@dataclass(frozen=True)
class Maintenance:
    """A planned maintenance window from the rotation files: alerts are kept, nobody paged."""

    service: str
    start: datetime  # aware UTC
    end: datetime
    reason: str


@dataclass(frozen=True)
class Service:
    id: str
    policy: str
    # Channel ("sms", "voice") -> the Jinja2 template of its pages (see `domain.templates`).
    templates: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Shift:
    """`person` (None: nobody) is on call for `rotation` from `start` to `end` (aware UTC)."""

    rotation: str
    person: str | None
    start: datetime
    end: datetime
    override: bool


@dataclass(frozen=True)
class Handoff:
    """`person` comes on call for `rotation` at `start` (aware UTC), and stays until `until`;
    None when they are still on call `HANDOFF_HORIZON` later."""

    rotation: str
    person: str
    start: datetime
    until: datetime | None


# How far ahead `Schedule.handoffs` looks for the end of someone's time on call.
HANDOFF_HORIZON = timedelta(weeks=8)


@dataclass(frozen=True)
class Schedule:
    """A validated set of rotation files (see `rotation_schema.parse_schedule`)."""

    people: Mapping[str, Person] = field(default_factory=dict)
    rotations: Mapping[str, Rotation] = field(default_factory=dict)
    overrides: tuple[Override, ...] = ()
    policies: Mapping[str, Policy] = field(default_factory=dict)
    services: Mapping[str, Service] = field(default_factory=dict)
    maintenance: tuple[Maintenance, ...] = ()
    admins: frozenset[str] = frozenset()  # person ids who may also manage others' sessions

    def name_of(self, person_id: str | None) -> str | None:
        """The display name of `person_id` (the id itself if unknown); None for nobody."""
        person = self.people.get(person_id) if person_id else None
        return person.name if person else person_id

    def maintenance_at(self, service: str, at: datetime) -> Maintenance | None:
        """The planned window covering `service` at `at` (the one ending last), if any."""
        covering = [m for m in self.maintenance if m.service == service and m.start <= at < m.end]
        return max(covering, key=lambda m: m.end, default=None)

    def shift_at(self, rotation_id: str, at: datetime) -> Shift:
        """The shift of `rotation_id` that holds the instant `at`."""
        at = _as_utc(at)
        return self.shifts(rotation_id, at, at + timedelta(microseconds=1))[0]

    def shifts(self, rotation_id: str, start: datetime, end: datetime) -> list[Shift]:
        """The shifts of `rotation_id` that overlap [start, end), in order, with their full
        bounds. A shift is a turn of one layer, cut where the layer does not apply, where a
        later layer does, and where an override does; nobody's shifts fill what is left."""
        start, end = _as_utc(start), _as_utc(end)
        rotation = self.rotations[rotation_id]
        overrides = self._override_shifts(rotation_id)
        found = [shift for shift in overrides if shift.start < end and start < shift.end]
        found.extend(
            shift
            for shift in _outside(_layered(rotation, start, end), overrides)
            if shift.start < end and start < shift.end
        )
        for gap_start, gap_end in uncovered(((s.start, s.end) for s in found), start, end):
            found.append(
                Shift(
                    rotation_id,
                    None,
                    _covered_until(rotation, overrides, start) if gap_start == start else gap_start,
                    _covered_from(rotation, overrides, end) if gap_end == end else gap_end,
                    override=False,
                )
            )
        return sorted(found, key=_start)

    def handoffs(self, rotation_id: str, after: datetime, until: datetime) -> list[Handoff]:
        """Who comes on call for `rotation_id` in (after, until]: each shift that starts then
        with someone who was not on call just before (an override of a person's own shift, or
        their next turn straight after this one, is no handoff)."""
        after, until = _as_utc(after), _as_utc(until)
        # One pass over the shifts from `after` to a horizon past `until`: each shift's end of
        # its person's run comes from the shift after it (worked out from the last backwards).
        shifts = self.shifts(rotation_id, after, until + HANDOFF_HORIZON)
        run_ends: list[datetime | None] = [None] * len(shifts)
        for i in range(len(shifts) - 2, -1, -1):
            following = shifts[i + 1]
            changes = following.person != shifts[i].person
            run_ends[i] = following.start if changes else run_ends[i + 1]
        # Shifts tile time and the first holds `after`: each later one has the one before it.
        return [
            Handoff(rotation_id, shift.person, shift.start, _within_horizon(shift, run_ends[i]))
            for i, shift in enumerate(shifts)
            if i > 0
            and shift.person is not None
            and shift.person != shifts[i - 1].person
            and after < shift.start <= until
        ]

    def oncall(self, rotation_id: str, at: datetime) -> list[Person]:
        """Who is on call for `rotation_id` at `at`: one person, or nobody."""
        person = self.shift_at(rotation_id, at).person
        return [] if person is None else [self.people[person]]

    def resolve(self, target: Target, at: datetime) -> list[Person]:
        """The people `target` pages at `at`, each once, in order; a policy means whoever its
        first step pages."""
        targets = self.first_step_targets(target.name) if target.kind == "policy" else (target,)
        people = (
            [self.people[t.name]]
            if t.kind == "person"
            else self.members(t.name)
            if t.kind == "members"
            else self.oncall(t.name, at)
            for t in targets
        )
        return list({person.id: person for group in people for person in group}.values())

    def policy_snapshot(self, policy_id: str) -> dict[str, Any]:
        """The policy as an incident keeps it when it opens: `policy:` targets are replaced by
        what they page now, so a later edit of that other policy leaves open incidents alone."""
        policy = self.policies[policy_id]
        steps = tuple(
            replace(step, targets=self._flatten(step.targets, frozenset({policy_id})))
            for step in policy.steps
        )
        return replace(policy, steps=steps).to_snapshot()

    def first_step_targets(self, policy_id: str) -> tuple[Target, ...]:
        """Who the first step of `policy_id` pages: `policy:` targets replaced by theirs."""
        policy = self.policies[policy_id]
        first = policy.steps[0].targets if policy.steps else ()
        return self._flatten(first, frozenset({policy_id}))

    def members(self, rotation_id: str) -> list[Person]:
        """Everyone in the rotation's layers, in order: "page all members"."""
        ids = dict.fromkeys(
            m for layer in self.rotations[rotation_id].layers for m in layer.members
        )
        return [self.people[person] for person in ids]

    def knows(self, target: Target) -> bool:
        """Whether `target` names someone or something in this set (edits remove names)."""
        table = {
            "person": self.people,
            "rotation": self.rotations,
            "members": self.rotations,
            "policy": self.policies,
        }
        return target.name in table.get(target.kind, {})

    def _flatten(self, targets: tuple[Target, ...], seen: frozenset[str]) -> tuple[Target, ...]:
        # parse_schedule rejects policy cycles; `seen` keeps a hand-built schedule from looping.
        flat: list[Target] = []
        for target in targets:
            inner = self.policies.get(target.name) if target.kind == "policy" else None
            if target.kind != "policy":
                flat.append(target)
            elif inner is not None and target.name not in seen and inner.steps:
                flat.extend(self._flatten(inner.steps[0].targets, seen | {target.name}))
        return tuple(dict.fromkeys(flat))

    def _override_shifts(self, rotation_id: str) -> list[Shift]:
        """This rotation's overrides as shifts, in time order; where two overlap (only in a
        hand-built schedule) the one listed first wins."""
        taken: list[Shift] = []
        for override in self.overrides:
            if override.rotation == rotation_id:
                whole = Shift(rotation_id, override.person, override.start, override.end, True)
                taken = sorted([*taken, *_outside([whole], taken)], key=_start)
        return taken


def _layered(rotation: Rotation, start: datetime, end: datetime) -> list[Shift]:
    """The shifts the layers give (no overrides, no gaps), including all that overlap
    [start, end) with their full bounds."""
    # A later layer cuts an earlier one's turn anywhere in it, so look at the whole of each
    # turn that overlaps [start, end).
    overlapping = [part for layer in rotation.layers for part in layer.on_call(start, end)]
    start = min([start, *(part[1] for part in overlapping)])
    end = max([end, *(part[2] for part in overlapping)])
    shifts: list[Shift] = []
    for layer in rotation.layers:
        mine = [Shift(rotation.id, who, a, b, False) for who, a, b in layer.on_call(start, end)]
        shifts = sorted([*_outside(shifts, mine), *mine], key=_start)
    return shifts


def _within_horizon(first: Shift, run_end: datetime | None) -> datetime | None:
    """When the person of `first` stops being on call; None if not within HANDOFF_HORIZON."""
    return run_end if run_end is not None and run_end < first.start + HANDOFF_HORIZON else None


def _covered_until(rotation: Rotation, overrides: list[Shift], at: datetime) -> datetime:
    """When someone was last on call up to `at`, where nobody is; or the beginning of time."""
    ends = [shift.end for shift in overrides if shift.end <= at]
    ends.extend(end for layer in rotation.layers if (end := layer.applied_until(at)))
    return max(ends, default=BEGINNING_OF_TIME)


def _covered_from(rotation: Rotation, overrides: list[Shift], at: datetime) -> datetime:
    """When someone is next on call from `at` on; or the end of time."""
    starts = [shift.start for shift in overrides if shift.start >= at]
    starts.extend(start for layer in rotation.layers if (start := layer.applies_from(at)))
    return min(starts, default=END_OF_TIME)


def _outside(shifts: list[Shift], holes: list[Shift]) -> list[Shift]:
    """The parts of `shifts` outside `holes`: both in time order, neither overlapping itself."""
    found = []
    first = 0
    for shift in shifts:
        while first < len(holes) and holes[first].end <= shift.start:
            first += 1  # and so before every later shift too
        start, index = shift.start, first
        while index < len(holes) and holes[index].start < shift.end:
            if start < holes[index].start:
                found.append(replace(shift, start=start, end=holes[index].start))
            start, index = max(start, holes[index].end), index + 1
        if start < shift.end:
            found.append(replace(shift, start=start))
    return found


def _start(shift: Shift) -> datetime:
    return shift.start


def _as_utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware instant, got {at.isoformat()}")
    return at.astimezone(UTC)
