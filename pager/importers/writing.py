"""A `Plan` as a rotation file, checked the way `pager check` checks it, and the report of
what was not carried over (with any instant where pager and the vendor disagree on who is on
call)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from pager.domain.durations import format_duration
from pager.domain.layers import Window, local_to_utc
from pager.domain.rotation_fields import DAY_NAMES
from pager.domain.rotation_schema import parse_schedule
from pager.domain.rotations import Schedule
from pager.domain.yamldoc import Problem
from pager.importers.plan import (
    Note,
    Plan,
    PlannedLayer,
    PlannedOverride,
    PlannedPerson,
    PlannedRotation,
    local,
    sample_instants,
)

# At most this many disagreements with the vendor's own shifts are listed per rotation.
_DISAGREEMENTS_SHOWN = 5


@dataclass(frozen=True)
class Written:
    """The rotation file's text, the schedule it reads as (None if it does not: a bug of
    ours, with the problems) and every note, those of the checks included."""

    text: str
    schedule: Schedule | None
    problems: tuple[Problem, ...]
    notes: tuple[Note, ...]


def write(plan: Plan, filename: str, stamp: str) -> Written:
    """The file for `plan` (named `filename` in problems), read back with pager's own loader
    and compared with the vendor's shifts; `stamp` says when it was made, for its header."""
    notes = list(plan.notes)
    document: dict[str, Any] = {
        "people": {person.id: _person(person) for person in plan.people},
        "rotations": {rotation.id: _rotation(rotation) for rotation in plan.rotations},
        "overrides": _overrides(plan, notes),
        "policies": {
            policy.id: {
                "repeat": policy.repeat,
                "steps": [
                    {"targets": list(step.targets), "wait": format_duration(step.wait)}
                    | ({"round_robin": True} if step.round_robin else {})
                    for step in policy.steps
                ],
            }
            for policy in plan.policies
        },
        "services": {service.id: {"policy": service.policy} for service in plan.services},
    }
    body = {key: value for key, value in document.items() if value}
    text = _header(plan, stamp) + (
        yaml.dump(body, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
        if body
        else ""
    )
    schedule, problems = parse_schedule([(filename, text)])
    if schedule is not None:
        notes.extend(disagreements(plan, schedule))
    return Written(text, schedule, tuple(problems), tuple(notes))


class _Dumper(yaml.SafeDumper):
    """Lists of names on one line (`members: [alice, bob]`), times of day and phone numbers
    in quotes, as docs/rotations.md writes them."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.Node:
    quoted = _QUOTED.fullmatch(text) is not None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style='"' if quoted else None)


def _represent_list(dumper: yaml.SafeDumper, items: list[Any]) -> yaml.Node:
    flow = all(isinstance(item, str) for item in items)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=flow)


_QUOTED = re.compile(r"\d\d:\d\d|\+\d+")
_Dumper.add_representer(str, _represent_text)
_Dumper.add_representer(list, _represent_list)


def _header(plan: Plan, stamp: str) -> str:
    return (
        f"# Imported from {plan.vendor} by `pager import` at {stamp}.\n"
        "# What could not be carried over is in the import report; check the whole set with\n"
        "# `pager check`.\n"
    )


def _person(person: PlannedPerson) -> dict[str, Any]:
    found: dict[str, Any] = {
        "name": person.name,
        "phone": person.phone,
        "timezone": person.timezone,
    }
    rules = person.notify
    if rules.high and rules.high == rules.low:
        found["notify"] = [str(rule) for rule in rules.high]
    elif rules.high or rules.low:
        found["notify"] = {
            urgency: [str(rule) for rule in chosen]
            for urgency, chosen in (("high", rules.high), ("low", rules.low))
            if chosen
        }
    return found


def _rotation(rotation: PlannedRotation) -> dict[str, Any]:
    first = rotation.layers[0]
    if len(rotation.layers) == 1 and first.timezone == rotation.timezone:
        if not rotation.windows:
            return {"timezone": rotation.timezone, **_layer(first, rotation.timezone)}
        if not first.windows:  # the rotation's windows are the one layer's
            return {
                "timezone": rotation.timezone,
                **_layer(replace(first, windows=rotation.windows), rotation.timezone),
            }
    found: dict[str, Any] = {"timezone": rotation.timezone}
    if rotation.windows:
        found["restrict"] = [_window(window) for window in rotation.windows]
    found["layers"] = [_layer(layer, rotation.timezone) for layer in rotation.layers]
    return found


def _layer(layer: PlannedLayer, zone: str) -> dict[str, Any]:
    found: dict[str, Any] = {} if layer.timezone == zone else {"timezone": layer.timezone}
    found |= {
        "start": _local_text(layer.start),
        "shift": format_duration(layer.shift),
        "members": list(layer.members),
    }
    if layer.windows:
        found["restrict"] = [_window(window) for window in layer.windows]
    return found


def _window(window: Window) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if len(window.days) < 7:
        found["days"] = _days(window.days)
    if window.start != time(0) or window.end != time(0):
        found["from"] = window.start.strftime("%H:%M")
        found["to"] = "24:00" if window.end == time(0) else window.end.strftime("%H:%M")
    return found


def _days(days: frozenset[int]) -> str | list[str]:
    """`mon-fri` for a run of three days or more, else a list: `[mon, wed]`."""
    first, last = min(days), max(days)
    if len(days) >= 3 and last - first + 1 == len(days):
        return f"{DAY_NAMES[first]}-{DAY_NAMES[last]}"
    return [DAY_NAMES[day] for day in sorted(days)]


def _local_text(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M")


def _overrides(plan: Plan, notes: list[Note]) -> list[dict[str, str]]:
    """The overrides, written in their rotation's zone; a later one overlapping an earlier
    one on the same rotation is left out (pager refuses overlaps)."""
    zones = {rotation.id: rotation.timezone for rotation in plan.rotations}
    kept: list[PlannedOverride] = []
    for override in sorted(plan.overrides, key=lambda o: (o.rotation, o.start)):
        clash = next((k for k in kept if _overlap(k, override)), None)
        if clash is None:
            kept.append(override)
            continue
        notes.append(
            Note(
                _subject(override),
                f"{_span(override)} overlaps the override by '{clash.person}' "
                f"({_span(clash)}), and pager overrides must not overlap: left out",
            )
        )
    return [_override(override, zones[override.rotation], notes) for override in kept]


def _override(override: PlannedOverride, zone: str, notes: list[Note]) -> dict[str, str]:
    """An override as written, local to `zone` to the minute; noted where that is another
    instant than the vendor's."""
    start, end = _minute(override.start, zone), _minute(override.end, zone)
    for label, at, wall in (("from", override.start, start), ("to", override.end, end)):
        if local_to_utc(wall, ZoneInfo(zone)) != at:
            notes.append(
                Note(
                    _subject(override),
                    f"'{label}' {at.isoformat()} is written {_local_text(wall)} {zone}, which "
                    "is another instant (seconds, or the repeated hour of a DST change)",
                )
            )
    return {
        "rotation": override.rotation,
        "person": override.person,
        "from": _local_text(start),
        "to": _local_text(end),
    }


def _overlap(one: PlannedOverride, other: PlannedOverride) -> bool:
    return one.rotation == other.rotation and one.start < other.end and other.start < one.end


def _subject(override: PlannedOverride) -> str:
    return f"override of rotation '{override.rotation}' by '{override.person}'"


def _minute(at: datetime, zone: str) -> datetime:
    return local(at, zone).replace(second=0, microsecond=0)


def _span(override: PlannedOverride) -> str:
    return f"{override.start.isoformat()} to {override.end.isoformat()}"


def disagreements(plan: Plan, schedule: Schedule) -> Iterable[Note]:
    """Where pager puts someone else on call than the vendor's own rendered shifts say, at
    the start and the middle of each of those shifts."""
    found: dict[tuple[str, ...], list[str]] = {}
    for shift in plan.vendor_shifts:
        if not all(rotation in schedule.rotations for rotation in shift.rotations):
            continue
        for at in sample_instants(shift):
            ours = on_call(schedule, shift.rotations, at)
            if (shift.person in ours) if shift.person else not ours:
                continue
            found.setdefault(shift.rotations, []).append(
                f"at {at.isoformat()} pager has {', '.join(ours) or 'nobody'} on call, "
                f"{plan.vendor} {shift.person or 'nobody'}"
            )
    for rotations, differences in found.items():
        more = len(differences) - _DISAGREEMENTS_SHOWN
        listed = "; ".join(differences[:_DISAGREEMENTS_SHOWN])
        named = ", ".join(f"'{rotation}'" for rotation in rotations)
        yield Note(
            f"rotation{'s' if len(rotations) > 1 else ''} {named}",
            f"differs from {plan.vendor}'s own schedule: {listed}"
            + (f" (and {more} more)" if more > 0 else ""),
        )


def on_call(schedule: Schedule, rotations: tuple[str, ...], at: datetime) -> list[str]:
    """Everyone on call in any of `rotations` at `at`, each once."""
    found = (schedule.shift_at(rotation, at).person for rotation in rotations)
    return list(dict.fromkeys(person for person in found if person))


def report(plan: Plan, written: Written, filename: str) -> str:
    """The import report: what was written, then every note, grouped by subject."""
    counts = ", ".join(
        f"{len(items)} {singular if len(items) == 1 else plural}"
        for items, singular, plural in (
            (plan.people, "person", "people"),
            (plan.rotations, "rotation", "rotations"),
            (plan.overrides, "override", "overrides"),
            (plan.policies, "policy", "policies"),
            (plan.services, "service", "services"),
        )
    )
    lines = [f"Imported from {plan.vendor} into {filename}: {counts}."]
    if not written.notes:
        lines.append("Everything was carried over.")
    else:
        lines.append(f"Not carried over, or changed ({len(written.notes)}):")
        by_subject: dict[str, list[str]] = {}
        for note in written.notes:
            by_subject.setdefault(note.subject, []).append(note.text)
        for subject, texts in by_subject.items():
            lines.append(f"- {subject}:")
            lines.extend(f"    - {text}" for text in texts)
    return "\n".join(lines) + "\n"
