"""Rotation files (`rotations/*.yaml`) to a `Schedule`, with every problem found at once.

Pure: takes the files' names and texts, returns the schedule or the problems, each located
(file, line and column) with a message saying what to change. The files are merged into one
set; a name may be defined in only one of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pager.domain import rotation_fields as fields
from pager.domain.durations import parse_duration
from pager.domain.layer_schema import read_rotation
from pager.domain.layers import local_to_utc
from pager.domain.notify_rules import NotifyRules
from pager.domain.notify_schema import read_notify
from pager.domain.rotation_fields import Checked, unknown_name
from pager.domain.rotations import (
    Maintenance,
    Override,
    Person,
    Policy,
    Schedule,
    Service,
    Step,
    Target,
)
from pager.domain.templates import read_templates, template_places
from pager.domain.yamldoc import Map, Problem, Seq, Where, load

SECTIONS = ("people", "rotations", "overrides", "policies", "services", "maintenance", "admins")
_NOUNS = {
    "people": "person",
    "rotations": "rotation",
    "overrides": "override",
    "policies": "policy",
    "services": "service",
}
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_STEP_KEYS = ("targets", "channels", "wait", "round_robin")  # in the order messages list them

T = TypeVar("T")


@dataclass(frozen=True)
class _Entry:
    """One definition as written: its id (if any), its body, and where it starts."""

    id: str
    body: Any
    where: Where


@dataclass
class _Sources:
    """Every definition from every file, before its fields are checked."""

    people: dict[str, _Entry] = field(default_factory=dict)
    rotations: dict[str, _Entry] = field(default_factory=dict)
    policies: dict[str, _Entry] = field(default_factory=dict)
    services: dict[str, _Entry] = field(default_factory=dict)
    overrides: list[_Entry] = field(default_factory=list)
    maintenance: list[_Entry] = field(default_factory=list)
    admins: list[_Entry] = field(default_factory=list)  # person ids, from any file

    def named(self, kind: str) -> dict[str, _Entry]:
        """The definitions a `kind:name` target may name."""
        named = {"person": self.people, "rotation": self.rotations, "policy": self.policies}
        return named["rotation" if kind == "members" else kind]


@dataclass(frozen=True)
class ParsedSchedule:
    """The schedule (None if there is any problem), the problems, and where each person,
    rotation, policy and service is defined, by `kind:id` (`service:payments`)."""

    schedule: Schedule | None
    problems: list[Problem]
    places: Mapping[str, Where]


def parse_schedule(files: list[tuple[str, str]]) -> tuple[Schedule | None, list[Problem]]:
    """Read (filename, text) pairs into one `Schedule`; None and the problems if any."""
    parsed = read_schedule(files)
    return parsed.schedule, parsed.problems


def read_schedule(files: list[tuple[str, str]]) -> ParsedSchedule:
    """Read (filename, text) pairs into one `Schedule`, noting where each name is defined."""
    problems: list[Problem] = []
    sources = _gather(files, problems)
    check = Checked(problems)
    people = _each(sources.people, lambda e: _person(e, check))
    rotations = _each(
        sources.rotations, lambda e: read_rotation(e.id, e.body, e.where, sources.people, check)
    )
    overrides = [_override(entry, sources, check) for entry in sources.overrides]
    _report_overlaps(
        [(e, o) for e, o in zip(sources.overrides, overrides, strict=True) if o], problems
    )
    policies = _each(sources.policies, lambda e: _policy(e, sources, check))
    _report_policy_cycles(sources.policies, problems)
    services = _each(sources.services, lambda e: _service(e, sources, check))
    maintenance = [_maintenance(entry, sources, check) for entry in sources.maintenance]
    admins = _admins(sources, problems)
    places = {
        f"{_NOUNS[section]}:{name}": entry.where
        for section in ("people", "rotations", "policies", "services")
        for name, entry in getattr(sources, section).items()
    }
    for name, entry in sources.services.items():
        places.update(template_places(name, entry.body))
    if problems:
        order = {filename: index for index, (filename, _) in enumerate(files)}
        problems.sort(key=lambda p: (order.get(p.where.file, 0), p.where.line, p.where.column))
        return ParsedSchedule(None, problems, places)
    schedule = Schedule(
        people={k: v for k, v in people.items() if v},
        rotations={k: v for k, v in rotations.items() if v},
        overrides=tuple(o for o in overrides if o),
        policies={k: v for k, v in policies.items() if v},
        services={k: v for k, v in services.items() if v},
        maintenance=tuple(m for m in maintenance if m),
        admins=admins,
    )
    return ParsedSchedule(schedule, [], places)


def _admins(sources: _Sources, problems: list[Problem]) -> frozenset[str]:
    """`admins: [alice]`: people who may also manage silences, tokens and others' sessions."""
    found = set()
    for entry in sources.admins:
        if not isinstance(entry.body, str) or entry.body not in sources.people:
            name = entry.body if isinstance(entry.body, str) else repr(entry.body)
            problems.append(
                Problem(entry.where, f"admins: {unknown_name('person', name, sources.people)}")
            )
        else:
            found.add(entry.body)
    return frozenset(found)


def _each(entries: dict[str, _Entry], build: Callable[[_Entry], T | None]) -> dict[str, T | None]:
    return {name: build(entry) for name, entry in entries.items()}


def _gather(files: list[tuple[str, str]], problems: list[Problem]) -> _Sources:
    """Load every file and file each definition under its section; report clashes."""
    sources = _Sources()
    for filename, text in files:
        try:
            document = load(text, filename)
        except Problem as problem:
            problems.append(problem)
            continue
        if document is None:
            continue
        if not isinstance(document, Map):
            message = f"expected a mapping with the keys {', '.join(SECTIONS)}"
            problems.append(Problem(Where(filename, 1), message))
            continue
        for section, value in document.items():
            where = document.at(section)
            if section not in SECTIONS:
                message = f"unknown top-level key '{section}' (allowed: {', '.join(SECTIONS)})"
                problems.append(Problem(where, message))
            elif value is None:
                continue
            elif section in ("overrides", "maintenance", "admins"):
                if isinstance(value, Seq):
                    getattr(sources, section).extend(
                        _Entry("", item, value.at(i)) for i, item in enumerate(value)
                    )
                else:
                    problems.append(Problem(where, f"{section} must be a list"))
            else:
                _gather_section(section, value, where, getattr(sources, section), problems)
    return sources


def _gather_section(
    section: str, value: Any, where: Where, into: dict[str, _Entry], problems: list[Problem]
) -> None:
    noun = _NOUNS[section]
    if not isinstance(value, Map):
        problems.append(Problem(where, f"{section} must be a mapping of id to {noun}"))
        return
    for name, body in value.items():
        at = value.at(name)
        if not _ID.fullmatch(name):
            message = f"bad {noun} id '{name}': use letters, digits, '.', '_' and '-'"
            problems.append(Problem(at, message))
        elif name in into:
            problems.append(
                Problem(at, f"{noun} '{name}' is already defined at {into[name].where}")
            )
        else:
            into[name] = _Entry(name, body, at)


def _person(entry: _Entry, check: Checked) -> Person | None:
    context = f"person '{entry.id}'"
    required = ("name", "phone", "timezone")
    optional = ("handoff_notices", "notify", "require_totp")
    body = check.keys(entry.body, entry.where, context, required, optional)
    if body is None:
        return None
    name = check.value(body, "name", fields.text)
    phone = check.value(body, "phone", fields.phone)
    zone = check.value(body, "timezone", fields.zone_name)
    notices = (
        check.value(body, "handoff_notices", fields.flag) if "handoff_notices" in body else True
    )
    notify = read_notify(body, context, check) if "notify" in body else NotifyRules()
    totp = check.value(body, "require_totp", fields.flag) if "require_totp" in body else False
    if name is None or phone is None or zone is None or notices is None or notify is None:
        return None
    return Person(entry.id, name, phone, zone, notices, notify, bool(totp))


def _override(entry: _Entry, sources: _Sources, check: Checked) -> Override | None:
    required = ("rotation", "person", "from", "to")
    body = check.keys(entry.body, entry.where, "override", required)
    if body is None:
        return None
    rotation = check.name(body, "rotation", "rotation", sources.rotations)
    person = check.name(body, "person", "person", sources.people)
    start = check.value(body, "from", fields.local_time)
    end = check.value(body, "to", fields.local_time)
    zone = _rotation_zone(sources.rotations.get(rotation or ""))
    if rotation is None or person is None or start is None or end is None or zone is None:
        return None
    override = Override(rotation, person, local_to_utc(start, zone), local_to_utc(end, zone))
    if override.start >= override.end:
        message = f"'from' must be before 'to' (from {body['from']}, to {body['to']})"
        check.problems.append(Problem(body.at("from"), message))
        return None
    return override


def _maintenance(entry: _Entry, sources: _Sources, check: Checked) -> Maintenance | None:
    required, optional = ("service", "from", "to", "timezone"), ("reason",)
    body = check.keys(entry.body, entry.where, "maintenance window", required, optional)
    if body is None:
        return None
    service = check.name(body, "service", "service", sources.services)
    start = check.value(body, "from", fields.local_time)
    end = check.value(body, "to", fields.local_time)
    zone = check.value(body, "timezone", fields.zone_name)
    reason = check.value(body, "reason", fields.text) if "reason" in body else ""
    if service is None or start is None or end is None or zone is None or reason is None:
        return None
    tz = ZoneInfo(zone)
    window = Maintenance(service, local_to_utc(start, tz), local_to_utc(end, tz), reason)
    if window.start >= window.end:
        message = f"'from' must be before 'to' (from {body['from']}, to {body['to']})"
        check.problems.append(Problem(body.at("from"), message))
        return None
    return window


def _rotation_zone(entry: _Entry | None) -> ZoneInfo | None:
    """The rotation's time zone if it is written right (else that is reported on its own)."""
    body = entry.body if entry else None
    if not isinstance(body, Map) or "timezone" not in body:
        return None
    try:
        return ZoneInfo(fields.zone_name(body["timezone"]))
    except ValueError:
        return None


def _report_overlaps(overrides: list[tuple[_Entry, Override]], problems: list[Problem]) -> None:
    for index, (entry, override) in enumerate(overrides):
        for earlier_entry, earlier in overrides[:index]:
            if (
                earlier.rotation == override.rotation
                and earlier.start < override.end
                and override.start < earlier.end
            ):
                message = (
                    f"override overlaps the override at {earlier_entry.where} "
                    f"on rotation '{override.rotation}'"
                )
                problems.append(Problem(entry.where, message))


def _policy(entry: _Entry, sources: _Sources, check: Checked) -> Policy | None:
    context = f"policy '{entry.id}'"
    body = check.keys(entry.body, entry.where, context, ("steps",), ("repeat", "ack_timeout"))
    if body is None:
        return None
    repeat = check.value(body, "repeat", fields.repeat_count) if "repeat" in body else 0
    ack_timeout = (
        check.value(body, "ack_timeout", parse_duration) if "ack_timeout" in body else None
    )
    steps_value = check.value(body, "steps", fields.non_empty_list)
    if steps_value is None:
        return None
    steps = [
        _step(item, steps_value.at(i), f"step {i + 1} of {context}", sources, check)
        for i, item in enumerate(steps_value)
    ]
    if repeat is None or None in steps or ("ack_timeout" in body and ack_timeout is None):
        return None
    return Policy(entry.id, repeat, tuple(s for s in steps if s), ack_timeout)


def _step(value: Any, where: Where, context: str, sources: _Sources, check: Checked) -> Step | None:
    body = check.keys(
        value, where, context, ("targets", "wait"), ("channels", "round_robin"), _STEP_KEYS
    )
    if body is None:
        return None
    targets = check.items(body, "targets", lambda item, at: _target(item, at, sources, check))
    # Without channels, each person is paged by their own notification rules (`notify_rules`).
    channels = check.items(body, "channels", check.channel) if "channels" in body else ()
    wait = check.value(body, "wait", parse_duration)
    round_robin = check.value(body, "round_robin", fields.flag) if "round_robin" in body else False
    if targets is None or channels is None or wait is None or round_robin is None:
        return None
    return Step(targets, channels, wait, round_robin)


def _target(value: Any, where: Where, sources: _Sources, check: Checked) -> Target | None:
    try:
        target = Target.parse(fields.text(value))
    except ValueError as error:
        check.problems.append(Problem(where, str(error)))
        return None
    known = sources.named(target.kind)
    return target if check.known(target.name, where, target.kind, known) else None


def _first_step_policies(entry: _Entry, policies: dict[str, _Entry]) -> list[tuple[str, Where]]:
    """The policies the first step of `entry` targets (a policy target means exactly that)."""
    steps = entry.body.get("steps") if isinstance(entry.body, Map) else None
    first = steps[0] if isinstance(steps, Seq) and steps else None
    targets = first.get("targets") if isinstance(first, Map) else None
    if not isinstance(targets, Seq):
        return []
    found = []
    for index, item in enumerate(targets):
        kind, _, name = str(item).partition(":")
        if kind == "policy" and name in policies:
            found.append((name, targets.at(index)))
    return found


def _report_policy_cycles(policies: dict[str, _Entry], problems: list[Problem]) -> None:
    """Report each loop of policy targets once, as the chain, where it closes."""
    edges = {name: _first_step_policies(entry, policies) for name, entry in policies.items()}
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        for target, where in edges[name]:
            if target in path:
                chain = [*path[path.index(target) :], target]
                problems.append(Problem(where, f"policy cycle: {' -> '.join(chain)}"))
            elif target not in done:
                visit(target, [*path, target])
        done.add(name)

    for name in edges:
        if name not in done:
            visit(name, [name])


def _service(entry: _Entry, sources: _Sources, check: Checked) -> Service | None:
    context = f"service '{entry.id}'"
    body = check.keys(entry.body, entry.where, context, ("policy",), ("templates",))
    if body is None:
        return None
    policy = check.name(body, "policy", "policy", sources.policies)
    templates = read_templates(body, context, check) if "templates" in body else {}
    return None if policy is None or templates is None else Service(entry.id, policy, templates)
