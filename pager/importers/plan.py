"""What an importer found, in pager's terms: the rotation files to write and the notes on what
could not be carried over. Frozen dataclasses; `writing` turns them into YAML.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

from pager.domain.layers import Layer, Restriction, Window
from pager.domain.notify_rules import NotifyRules
from pager.domain.phones import parse_e164
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
