"""The load report of a rotation change: base beside head, the differences marked.

Takes the two `Load`s (see `domain.simulate`) and the schedules they came from; returns text,
Markdown (for a pull request comment) or JSON. No I/O.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pager.cli.rotations import columns
from pager.domain.durations import format_duration
from pager.domain.rotations import Person, Schedule
from pager.domain.simulate import Load, PersonLoad

FORMATS = ("text", "markdown", "json")
GAPS_SHOWN = 10  # per side and rotation or service; the rest are counted


@dataclass(frozen=True)
class Side:
    """One rotation set: as the user named it, the commit it is at ("" for a folder), its load."""

    label: str
    commit: str
    schedule: Schedule
    load: Load

    def describe(self, code: Callable[[str], str] = str) -> str:
        return f"{code(self.label)} ({code(self.commit[:12])})" if self.commit else code(self.label)


@dataclass(frozen=True)
class Comparison:
    base: Side
    head: Side
    history: str  # the history file the incidents came from; "" for the database
    ack_after: timedelta


@dataclass(frozen=True)
class Metric:
    key: str
    title: str
    read: Callable[[PersonLoad], float]
    hours: bool


METRICS = (
    Metric("pages", "pages", lambda p: p.pages, False),
    Metric("night_pages", "night pages", lambda p: p.night_pages, False),
    Metric("on_call_hours", "on call h", lambda p: _hours(p.on_call), True),
    Metric("weekend_hours", "weekend h", lambda p: _hours(p.weekend), True),
    Metric("longest_hours", "longest h", lambda p: _hours(p.longest), True),
)


@dataclass(frozen=True)
class Row:
    person: Person  # as head has them, else as base had them
    base: PersonLoad | None  # None: not in that set
    head: PersonLoad | None

    def changed(self, metric: Metric) -> bool:
        return _value(self.base, metric) != _value(self.head, metric)


def rows(comparison: Comparison) -> list[Row]:
    """Everyone in either set: head's people in its order, then those only base has."""
    base, head = comparison.base, comparison.head
    people = {**base.schedule.people, **head.schedule.people}
    order = [
        *head.schedule.people,
        *(p for p in base.schedule.people if p not in head.schedule.people),
    ]
    by_base = {load.person: load for load in base.load.people}
    by_head = {load.person: load for load in head.load.people}
    return [Row(people[p], by_base.get(p), by_head.get(p)) for p in order]


def render(comparison: Comparison, output: str) -> str:
    if output == "json":
        return json.dumps(as_json(comparison), indent=2)
    return markdown(comparison) if output == "markdown" else text(comparison)


def _value(load: PersonLoad | None, metric: Metric) -> float | None:
    return None if load is None else metric.read(load)


def _hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 1)


def _number(value: float | None, hours: bool) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if hours else str(int(value))


def _difference(row: Row, metric: Metric, strong: Callable[[str], str] = str) -> str:
    """`3` when both sets agree; `3 -> 5 (+2)` when they do not (`-` for not in the set)."""
    base, head = _value(row.base, metric), _value(row.head, metric)
    if base == head:
        return _number(base, metric.hours)
    arrow = f"{_number(base, metric.hours)} -> {strong(_number(head, metric.hours))}"
    if base is None or head is None:
        return arrow
    change = head - base
    return f"{arrow} ({change:+.1f})" if metric.hours else f"{arrow} ({int(change):+d})"


def _window(load: Load) -> str:
    days = (load.end - load.start) / timedelta(days=1)
    return f"{_utc(load.start)} to {_utc(load.end)} UTC ({days:g} days)"


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def _assumption(comparison: Comparison) -> str:
    return (
        "an incident the history gives no acknowledgement time is taken as acknowledged "
        f"{format_duration(comparison.ack_after)} after its first page (--ack-after); "
        "a step due from then on pages nobody"
    )


def _heading(comparison: Comparison, code: Callable[[str], str]) -> list[str]:
    load = comparison.base.load
    return [
        f"{load.incidents} incidents opened {_window(load)}, from "
        + (code(comparison.history) if comparison.history else "the database"),
        f"base: {comparison.base.describe(code)}",
        f"head: {comparison.head.describe(code)}",
        f"assumed: {_assumption(comparison)}",
    ]


def text(comparison: Comparison) -> str:
    """A table for a terminal: `*` before a person whose numbers change."""
    table = [("", "person", "time zone", *(m.title for m in METRICS))]
    for row in rows(comparison):
        marked = "*" if any(row.changed(m) for m in METRICS) else ""
        cells = (_difference(row, m) for m in METRICS)
        table.append((marked, f"{row.person.id} ({row.person.name})", row.person.timezone, *cells))
    lines = ["pager simulate: " + _heading(comparison, str)[0], *_heading(comparison, str)[1:], ""]
    lines.append(columns(table))
    lines += ["", _unpaged(comparison, str), "", "coverage gaps (nobody would be paged):"]
    lines += [f"{'  ' * (depth + 1)}{line}" for depth, line in _gap_lines(comparison, str)]
    return "\n".join(lines)


def markdown(comparison: Comparison) -> str:
    """A pull request comment: changed values in bold, rows with changes named in bold."""

    def code(value: str) -> str:
        return f"`{value}`"

    def strong(value: str) -> str:
        return f"**{value}**"

    head, *facts = _heading(comparison, code)
    lines = ["### pager simulate: what this rotation change does to people", "", head + ".", ""]
    lines += [f"- {fact}" for fact in facts]
    titles = ("person", "time zone", *(m.title for m in METRICS))
    lines += ["", "| " + " | ".join(titles) + " |", "|---|---|" + "---:|" * len(METRICS)]
    for row in rows(comparison):
        name = f"{row.person.name} (`{row.person.id}`)"
        if any(row.changed(m) for m in METRICS):
            name = strong(name)
        cells = (_difference(row, m, strong) for m in METRICS)
        lines.append(f"| {name} | {row.person.timezone} | " + " | ".join(cells) + " |")
    lines += ["", _unpaged(comparison, code), "", "**Coverage gaps** (nobody would be paged):", ""]
    lines += [f"{'  ' * depth}- {line}" for depth, line in _gap_lines(comparison, code)]
    return "\n".join(lines)


def _unpaged(comparison: Comparison, code: Callable[[str], str]) -> str:
    def listed(side: Side) -> str:
        numbers = side.load.unpaged
        shown = ", ".join(f"#{n}" for n in numbers[:GAPS_SHOWN])
        more = f" and {len(numbers) - GAPS_SHOWN} more" if len(numbers) > GAPS_SHOWN else ""
        return f"{len(numbers)}" + (f" ({shown}{more})" if numbers else "")

    base, head = listed(comparison.base), listed(comparison.head)
    marked = "" if base == head else " *"
    return f"incidents that page nobody: base {base}, head {head}{marked}"


@dataclass(frozen=True)
class _Gap:
    kind: str  # rotation | service
    name: str
    start: datetime
    end: datetime
    timezone: str


def _gaps(load: Load) -> list[_Gap]:
    found = [_Gap("rotation", g.rotation, g.start, g.end, g.timezone) for g in load.rotation_gaps]
    found += [_Gap("service", g.service, g.start, g.end, g.timezone) for g in load.service_gaps]
    return found


def _gap_lines(comparison: Comparison, code: Callable[[str], str]) -> list[tuple[int, str]]:
    """(depth, line): a line per rotation and service with gaps in either set, `*` where the
    sets differ, then the gaps of each set (once, as `both`, where they are the same)."""
    base, head = _gaps(comparison.base.load), _gaps(comparison.head.load)
    names = dict.fromkeys((g.kind, g.name) for g in [*base, *head])
    if not names:
        return [(0, "none in either set")]
    lines = []
    for kind, name in names:
        sides = [[g for g in gaps if (g.kind, g.name) == (kind, name)] for gaps in (base, head)]
        same = [(g.start, g.end) for g in sides[0]] == [(g.start, g.end) for g in sides[1]]
        totals = f"base {_total(sides[0])}; head {_total(sides[1])}"
        lines.append((0, f"{kind} {code(name)}: {totals}{'' if same else ' *'}"))
        labelled = [("both", sides[0])] if same else list(zip(("base", "head"), sides, strict=True))
        for label, side in labelled:
            lines += [(1, f"{label}: {_span(g)}") for g in side[:GAPS_SHOWN]]
            if len(side) > GAPS_SHOWN:
                lines.append((1, f"{label}: ... and {len(side) - GAPS_SHOWN} more"))
    return lines


def _total(side: Sequence[_Gap]) -> str:
    if not side:
        return "none"
    hours = sum((g.end - g.start for g in side), timedelta(0))
    return f"{len(side)} gap{'s' if len(side) != 1 else ''}, {_hours(hours):.1f} h"


def _span(gap: _Gap) -> str:
    zone = ZoneInfo(gap.timezone)
    start, end = (at.astimezone(zone).strftime("%a %Y-%m-%d %H:%M") for at in (gap.start, gap.end))
    return f"{start} to {end} {gap.timezone} ({_hours(gap.end - gap.start):.1f} h)"


def as_json(comparison: Comparison) -> dict[str, Any]:
    """Everything the report shows, as numbers: hours as floats, instants in UTC."""
    load = comparison.base.load
    return {
        "window": {"start": _iso(load.start), "end": _iso(load.end)},
        "history": comparison.history or "database",
        "incidents": load.incidents,
        "ack_after_seconds": int(comparison.ack_after.total_seconds()),
        "assumption": _assumption(comparison),
        "base": _side_json(comparison.base),
        "head": _side_json(comparison.head),
        "people": [
            {
                "person": row.person.id,
                "name": row.person.name,
                "timezone": row.person.timezone,
                "base": _load_json(row.base),
                "head": _load_json(row.head),
                "changed": [m.key for m in METRICS if row.changed(m)],
            }
            for row in rows(comparison)
        ],
    }


def _side_json(side: Side) -> dict[str, Any]:
    load = side.load
    return {
        "label": side.label,
        "commit": side.commit or None,
        "unpaged_incidents": list(load.unpaged),
        "pages": [
            {
                "incident": p.incident,
                "person": p.person,
                "at": _iso(p.at),
                "step": p.step,
                "channels": list(p.channels),
                "night": p.night,
            }
            for p in load.pages
        ],
        "gaps": [
            {"kind": g.kind, "name": g.name, "start": _iso(g.start), "end": _iso(g.end)}
            for g in _gaps(load)
        ],
    }


def _load_json(load: PersonLoad | None) -> dict[str, Any] | None:
    return None if load is None else {m.key: m.read(load) for m in METRICS}


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
