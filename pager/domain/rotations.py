"""Who is on call when: people, rotations, overrides, escalation policies and services.

Pure: no file I/O and no clock; every question takes the instant `at` (timezone-aware).

Handoffs happen in the rotation's local wall time. Handoff k is the local time
`start + k * shift`, so a 09:00 handoff stays 09:00 local across DST changes in both
directions, for any shift length; a weekly shift that spans a change is simply an hour shorter
or longer in real time. `local_to_utc` turns a local time into an instant with one rule: the
first instant at which the wall clock reads that time or later. Hence:

- an ambiguous time (the repeated hour when clocks go back) is its first occurrence, as with
  zoneinfo's `fold=0`: 01:30 on 2026-10-25 in Europe/London is 00:30 UTC (01:30 BST);
- a time that does not exist (the hour skipped when clocks go forward) is the instant of the
  jump: 01:30 on 2026-03-29 in Europe/London is 01:00 UTC (02:00 BST). zoneinfo's `fold=0`
  would give 01:30 UTC (02:30 BST), later than the 02:00 handoff that follows a 30-minute
  shift, so handoffs could run backwards; ours never do. A shift lying wholly inside the
  skipped hour lasts no time at all and nobody is paged for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

CHANNELS = ("sms", "voice")
TARGET_KINDS = ("rotation", "person", "policy")

# The start of the "nobody on call" shift before a rotation's first handoff.
BEGINNING_OF_TIME = datetime.min.replace(tzinfo=UTC)


def local_to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """The first instant at which the wall clock in `zone` reads `local` (naive) or later."""
    first = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == local:
        return first
    # `local` is skipped when the clocks go forward. The jump lies between the two readings
    # zoneinfo offers (fold=1 is before it, fold=0 after it); find it to the second.
    before = int(local.replace(tzinfo=zone, fold=1).astimezone(UTC).timestamp())
    after = int(first.timestamp())
    offset_before = _utcoffset(before, zone)
    while after - before > 1:
        middle = (before + after) // 2
        if _utcoffset(middle, zone) == offset_before:
            before = middle
        else:
            after = middle
    return datetime.fromtimestamp(after, UTC)


def _utcoffset(timestamp: int, zone: ZoneInfo) -> timedelta | None:
    return datetime.fromtimestamp(timestamp, zone).utcoffset()


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    phone: str  # E.164, e.g. +447700900101
    timezone: str


@dataclass(frozen=True)
class Rotation:
    """Members take turns, one shift each, handing off at `start + k * shift` local time."""

    id: str
    timezone: str
    start: datetime  # naive, local to `timezone`: the first handoff
    shift: timedelta
    members: tuple[str, ...]

    def handoff(self, k: int) -> datetime:
        """The instant (UTC) of handoff k; handoff 0 is the start."""
        return local_to_utc(self.start + k * self.shift, ZoneInfo(self.timezone))

    def shift_index(self, at: datetime) -> int:
        """The k with handoff(k) <= at < handoff(k + 1), or -1 before the start."""
        if at < self.handoff(0):
            return -1
        wall = at.astimezone(ZoneInfo(self.timezone)).replace(tzinfo=None)
        # The wall clock is off from elapsed time only by DST changes: a few steps at most.
        k = max(0, (wall - self.start) // self.shift)
        while self.handoff(k) > at:
            k -= 1
        while self.handoff(k + 1) <= at:
            k += 1
        return k


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
                f"bad target '{text}' (write rotation:<id>, person:<id> or policy:<id>)"
            )
        return cls(kind, name)


@dataclass(frozen=True)
class Step:
    targets: tuple[Target, ...]
    channels: tuple[str, ...]
    wait: timedelta


@dataclass(frozen=True)
class Policy:
    """Escalation steps, run in order; then the whole list again `repeat` more times."""

    id: str
    repeat: int
    steps: tuple[Step, ...]

    def to_snapshot(self) -> dict[str, Any]:
        """A JSON-able copy to store on an incident when it opens."""
        return {
            "id": self.id,
            "repeat": self.repeat,
            "steps": [
                {
                    "targets": [str(target) for target in step.targets],
                    "channels": list(step.channels),
                    "wait_seconds": int(step.wait.total_seconds()),
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
                channels=tuple(step["channels"]),
                wait=timedelta(seconds=step["wait_seconds"]),
            )
            for step in data["steps"]
        )
        return cls(id=data["id"], repeat=data["repeat"], steps=steps)


@dataclass(frozen=True)
class Service:
    id: str
    policy: str


@dataclass(frozen=True)
class Shift:
    """`person` (None: nobody) is on call for `rotation` from `start` to `end` (aware UTC)."""

    rotation: str
    person: str | None
    start: datetime
    end: datetime
    override: bool


@dataclass(frozen=True)
class Schedule:
    """A validated set of rotation files (see `rotation_schema.parse_schedule`)."""

    people: Mapping[str, Person] = field(default_factory=dict)
    rotations: Mapping[str, Rotation] = field(default_factory=dict)
    overrides: tuple[Override, ...] = ()
    policies: Mapping[str, Policy] = field(default_factory=dict)
    services: Mapping[str, Service] = field(default_factory=dict)

    def shift_at(self, rotation_id: str, at: datetime) -> Shift:
        """The shift of `rotation_id` that holds the instant `at`; overrides win."""
        at = _as_utc(at)
        overrides = self._override_shifts(rotation_id)
        for shift in overrides:
            if shift.start <= at < shift.end:
                return shift
        rotation = self.rotations[rotation_id]
        turn = _turn(rotation, rotation.shift_index(at))
        return next(piece for piece in _cut(turn, overrides) if piece.start <= at < piece.end)

    def shifts(self, rotation_id: str, start: datetime, end: datetime) -> list[Shift]:
        """The shifts of `rotation_id` that overlap [start, end), in order, with their full
        bounds; overrides split the turns they fall in."""
        start, end = _as_utc(start), _as_utc(end)
        rotation = self.rotations[rotation_id]
        overrides = self._override_shifts(rotation_id)
        found = [shift for shift in overrides if shift.start < end and start < shift.end]
        k = rotation.shift_index(start)
        while (turn := _turn(rotation, k)).start < end:
            found.extend(
                piece for piece in _cut(turn, overrides) if piece.start < end and start < piece.end
            )
            k += 1
        return sorted(found, key=lambda shift: shift.start)

    def oncall(self, rotation_id: str, at: datetime) -> list[Person]:
        """Who is on call for `rotation_id` at `at`: one person, or nobody."""
        person = self.shift_at(rotation_id, at).person
        return [] if person is None else [self.people[person]]

    def resolve(self, target: Target, at: datetime) -> list[Person]:
        """The people `target` pages at `at`, each once, in order."""
        unique = {person.id: person for person in self._expand(target, at, frozenset())}
        return list(unique.values())

    def _expand(self, target: Target, at: datetime, seen: frozenset[str]) -> list[Person]:
        if target.kind == "person":
            return [self.people[target.name]]
        if target.kind == "rotation":
            return self.oncall(target.name, at)
        # A policy means whoever its first step pages. parse_schedule rejects cycles; `seen`
        # keeps a hand-built schedule from looping all the same.
        policy = self.policies[target.name]
        if target.name in seen or not policy.steps:
            return []
        inner = seen | {target.name}
        return [person for t in policy.steps[0].targets for person in self._expand(t, at, inner)]

    def policy_snapshot(self, policy_id: str) -> dict[str, Any]:
        """The policy as an incident keeps it when it opens: `policy:` targets are replaced by
        what they page now, so a later edit of that other policy leaves open incidents alone."""
        policy = self.policies[policy_id]
        steps = tuple(
            replace(step, targets=self._flatten(step.targets, frozenset({policy_id})))
            for step in policy.steps
        )
        return replace(policy, steps=steps).to_snapshot()

    def knows(self, target: Target) -> bool:
        """Whether `target` names someone or something in this set (edits remove names)."""
        table = {"person": self.people, "rotation": self.rotations, "policy": self.policies}
        return target.name in table.get(target.kind, {})

    def _flatten(self, targets: tuple[Target, ...], seen: frozenset[str]) -> tuple[Target, ...]:
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
                taken.extend(_cut(whole, taken))
        return sorted(taken, key=lambda shift: shift.start)


def _turn(rotation: Rotation, k: int) -> Shift:
    """Turn k of the rotation, ignoring overrides; turn -1 is nobody's, before the start."""
    members = rotation.members
    person = members[k % len(members)] if k >= 0 and members else None
    start = rotation.handoff(k) if k >= 0 else BEGINNING_OF_TIME
    return Shift(rotation.id, person, start, rotation.handoff(k + 1), override=False)


def _cut(shift: Shift, holes: Iterable[Shift]) -> list[Shift]:
    """What is left of `shift` outside `holes`, as non-empty pieces."""
    pieces = [shift] if shift.start < shift.end else []
    for hole in holes:
        pieces = [
            part
            for piece in pieces
            for part in (
                replace(piece, end=min(piece.end, hole.start)),
                replace(piece, start=max(piece.start, hole.end)),
            )
            if part.start < part.end
        ]
    return pieces


def _as_utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware instant, got {at.isoformat()}")
    return at.astimezone(UTC)
