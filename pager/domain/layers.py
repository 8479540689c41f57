"""Layers of a rotation: turns handed off in local wall time, limited to weekly windows.

Pure: no clock; every question takes instants (timezone-aware UTC).

Every local time becomes an instant by one rule, `local_to_utc`: the first instant at which
the wall clock reads that time or later. Handoff k is the local time `start + k * shift`, and a
window is the local times from its `start` to its `end` on each of its days, so a 09:00 handoff
or a 09:00-18:00 window stays 09:00 local across DST changes in both directions. Hence:

- an ambiguous time (the repeated hour when clocks go back) is its first occurrence, as with
  zoneinfo's `fold=0`: 01:30 on 2026-10-25 in Europe/London is 00:30 UTC (01:30 BST);
- a time that does not exist (the hour skipped when clocks go forward) is the instant of the
  jump: 01:30 on 2026-03-29 in Europe/London is 01:00 UTC (02:00 BST). zoneinfo's `fold=0`
  would give 01:30 UTC (02:30 BST), later than the 02:00 handoff that follows a 30-minute
  shift, so handoffs could run backwards; ours never do. A shift or window lying wholly inside
  the skipped hour lasts no time at all and nobody is paged for it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

Interval = tuple[datetime, datetime]  # [start, end), aware UTC

DAY = timedelta(days=1)
# How far to look for the next (or last) time a layer applies. Windows repeat every week in
# local time, but two zones' DST rules can make windows in both meet only some weeks a year.
_LOOK_AHEAD = timedelta(weeks=106)


@functools.lru_cache(maxsize=16384)  # pure, and asked for the same handoffs again and again
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
class Window:
    """On each of `days` (0 is Monday), local time from `start` to `end`: the next day when
    `end` is not after `start`, so 22:00-06:00 crosses midnight and 00:00-00:00 is a whole day."""

    days: frozenset[int]
    start: time
    end: time

    def on(self, day: date, zone: ZoneInfo) -> Interval:
        """The instants of the window that opens on `day` (whatever weekday it is)."""
        end_day = day if self.end > self.start else day + DAY
        return (
            local_to_utc(datetime.combine(day, self.start), zone),
            local_to_utc(datetime.combine(end_day, self.end), zone),
        )


@dataclass(frozen=True)
class Restriction:
    """Weekly windows in a time zone; a layer applies only inside one of them."""

    timezone: str
    windows: tuple[Window, ...]

    def covers(self, start: datetime, end: datetime) -> list[Interval]:
        """The parts of [start, end) inside a window, merged, in order."""
        zone = ZoneInfo(self.timezone)
        # A window opening the day before may still be open; a DST change moves instants by
        # an hour or so: a day more each side is plenty.
        first = start.astimezone(zone).date() - 2 * DAY
        days = (end.astimezone(zone).date() - first).days + 2
        found = [
            window.on(day, zone)
            for day in (first + n * DAY for n in range(days))
            for window in self.windows
            if day.weekday() in window.days
        ]
        return clip(merge(found), start, end)


@dataclass(frozen=True)
class Layer:
    """Members take turns, one shift each, handing off at `start + k * shift` local time; the
    layer applies only inside every one of its `restrictions` (none: always)."""

    timezone: str
    start: datetime  # naive, local to `timezone`: the first handoff
    shift: timedelta
    members: tuple[str, ...]
    restrictions: tuple[Restriction, ...] = ()

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

    def on_call(self, start: datetime, end: datetime) -> list[tuple[str, datetime, datetime]]:
        """(member, from, to) for each part of a turn the layer applies in, for every turn
        that overlaps [start, end): whole parts, not cut at `start` or `end`."""
        turns = []
        k = max(0, self.shift_index(start))
        handoff, following = self.handoff(k), self.handoff(k + 1)
        while handoff < end:
            turns.append((self.members[k % len(self.members)], handoff, following))
            k, handoff, following = k + 1, following, self.handoff(k + 2)
        if not turns:
            return []
        parts = self.applies(turns[0][1], turns[-1][2])
        found: list[tuple[str, datetime, datetime]] = []
        first = 0
        for person, turn_start, turn_end in turns:
            # Both lists are in order: parts that end before this turn end before the next.
            while first < len(parts) and parts[first][1] <= turn_start:
                first += 1
            index = first
            while index < len(parts) and parts[index][0] < turn_end:
                a, b = parts[index]
                found.append((person, max(a, turn_start), min(b, turn_end)))
                index += 1
        return found

    def applies(self, start: datetime, end: datetime) -> list[Interval]:
        """The parts of [start, end) in which the layer applies (from its first handoff on)."""
        found = clip([(self.handoff(0), max(end, self.handoff(0)))], start, end)
        for restriction in self.restrictions:
            found = intersect(found, restriction.covers(start, end))
        return found

    def applied_until(self, at: datetime) -> datetime | None:
        """The last instant up to `at` at which the layer stopped applying; None: not since
        `_LOOK_AHEAD` before `at`, or never."""
        if at <= self.handoff(0):
            return None
        span = timedelta(weeks=1)
        while span <= 2 * _LOOK_AHEAD:
            parts = self.applies(at - span, at)
            if parts:
                return parts[-1][1]
            if at - span < self.handoff(0):
                return None
            span *= 2
        return None

    def applies_from(self, at: datetime) -> datetime | None:
        """The first instant from `at` on at which the layer applies; None: not within
        `_LOOK_AHEAD`, so never (the windows repeat)."""
        at = max(at, self.handoff(0))
        span = timedelta(weeks=1)
        while span <= 2 * _LOOK_AHEAD:
            parts = self.applies(at, at + span)
            if parts:
                return parts[0][0]
            span *= 2
        return None


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """The union of `intervals`, as disjoint intervals in order; touching ones become one."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def clip(intervals: Iterable[Interval], start: datetime, end: datetime) -> list[Interval]:
    """The non-empty parts of `intervals` inside [start, end)."""
    clipped = ((max(a, start), min(b, end)) for a, b in intervals)
    return [(a, b) for a, b in clipped if a < b]


def intersect(first: list[Interval], second: list[Interval]) -> list[Interval]:
    """The instants in both lists of disjoint, ordered intervals."""
    return merge((max(a, c), min(b, d)) for a, b in first for c, d in second if a < d and c < b)


def uncovered(intervals: Iterable[Interval], start: datetime, end: datetime) -> list[Interval]:
    """The parts of [start, end) in none of `intervals`, in order."""
    gaps = []
    for a, b in clip(merge(intervals), start, end):
        if start < a:
            gaps.append((start, a))
        start = b
    return [*gaps, (start, end)] if start < end else gaps
