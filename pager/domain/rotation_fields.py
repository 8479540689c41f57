"""The fields of rotation files, one reader each, and `Checked`, which notes what is wrong.

A field reader takes a value as YAML gave it and returns it parsed, or raises ValueError with
a message a user can act on. `Checked` applies readers to an entry and turns each ValueError
into a located `Problem`, so one pass over the files finds every problem.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Collection
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pager.domain.durations import format_duration, parse_duration
from pager.domain.notify_rules import CHANNELS, unknown_channel
from pager.domain.phones import parse_e164
from pager.domain.yamldoc import Map, Problem, Seq, Where

T = TypeVar("T")

_LOCAL_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_LOCAL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MOST_NAMES_SHOWN = 12


def shown(value: Any) -> str:
    """`value` as a message should quote it."""
    return "nothing" if value is None else repr(value)


# Characters no name or reason needs, which would end a line or reorder text in what we
# write from it: an ICS event, a log line, an SMS (control characters, line and paragraph
# separators, bidirectional overrides).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected text, got {shown(value)}")
    for ch in value:
        if unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch in _BIDI_CONTROLS:
            raise ValueError(
                f"control character U+{ord(ch):04X} in {shown(value[:40])}: write plain text"
            )
    return value


def phone(value: Any) -> str:
    """The number in E.164 form (+447700900101)."""
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(f'write the number in quotes, like "+{value}"')
    return parse_e164(text(value))


def zone_name(value: Any) -> str:
    """A time zone name zoneinfo knows, like Europe/London."""
    name = text(value)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        close = difflib.get_close_matches(name, _zone_names(), n=1)
        hint = f"did you mean '{close[0]}'?" if close else "use a name like Europe/London"
        raise ValueError(f"unknown time zone '{name}' ({hint})") from None
    return name


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def local_time(value: Any) -> datetime:
    """A naive local time written YYYY-MM-DDTHH:MM."""
    if not isinstance(value, str) or not _LOCAL_TIME.fullmatch(value):
        raise ValueError(f"expected a local time like 2026-01-05T09:00, got {shown(value)}")
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M")
    except ValueError:
        raise ValueError(f"'{value}' is not a real date and time") from None


def start_date_or_time(value: Any) -> tuple[datetime, bool]:
    """A local time written YYYY-MM-DDTHH:MM, or a date YYYY-MM-DD; and whether it has a time."""
    if isinstance(value, str) and _LOCAL_DATE.fullmatch(value):
        try:
            return datetime.combine(date.fromisoformat(value), time(0)), False
        except ValueError:
            raise ValueError(f"'{value}' is not a real date") from None
    if isinstance(value, str) and _LOCAL_TIME.fullmatch(value):
        return local_time(value), True
    raise ValueError(
        f"expected a date like 2026-01-05 or a local time like 2026-01-05T09:00, got {shown(value)}"
    )


def clock_time(value: Any) -> time:
    """A time of day written "HH:MM"."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1440:
        # YAML 1.1 reads an unquoted 18:00 as the number 1080 (base 60).
        raise ValueError(f'write the time in quotes, like "{value // 60:02d}:{value % 60:02d}"')
    match = _CLOCK.fullmatch(value) if isinstance(value, str) else None
    hours, minutes = (int(match[1]), int(match[2])) if match else (-1, -1)
    if not 0 <= hours < 24 or not 0 <= minutes < 60:
        raise ValueError(f'expected a time of day like "09:00", got {shown(value)}')
    return time(hours, minutes)


def window_end(value: Any) -> time:
    """Where a window ends: a time of day, or "24:00", the midnight that ends the day."""
    return time(0) if value == "24:00" else clock_time(value)


def weekday(name: str) -> int:
    """0 for mon or monday, ... 6 for sun or sunday (any case)."""
    lowered = name.strip().lower()
    for names in (DAY_NAMES, _FULL_DAY_NAMES):
        if lowered in names:
            return names.index(lowered)
    raise ValueError(f"unknown day '{name}' (write {', '.join(DAY_NAMES)})")


def weekdays(value: Any) -> frozenset[int]:
    """Days written `mon-fri` (a range, which may wrap: `fri-mon`), `sat`, or a list of those."""
    items = value if isinstance(value, list) else [value]
    days: set[int] = set()
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise ValueError(f"expected days like mon-fri or [mon, wed], got {shown(item)}")
        first, dash, last = item.partition("-")
        start = weekday(first)
        end = weekday(last) if dash else start
        days.update((start + n) % 7 for n in range((end - start) % 7 + 1))
    if not days:
        raise ValueError("must not be empty")
    return frozenset(days)


def handoff(value: Any) -> tuple[int | None, time]:
    """A handoff written "09:00" (every day) or "mon 09:00": the weekday (or None) and time."""
    if isinstance(value, str) and " " in value.strip():
        day, _, clock = value.strip().partition(" ")
        return weekday(day), clock_time(clock.strip())
    return None, clock_time(value)


# Handoffs, the calendar and coverage walk shifts over weeks: a 1s shift is millions of them.
MIN_SHIFT = timedelta(hours=1)


def shift_length(value: Any) -> timedelta:
    """A rotation's shift: at least MIN_SHIFT."""
    delta = parse_duration(value)
    if delta < MIN_SHIFT:
        raise ValueError(f"must be at least {format_duration(MIN_SHIFT)}, like 8h, 1d or 1w")
    return delta


def flag(value: Any) -> bool:
    """true or false."""
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {shown(value)}")
    return value


def repeat_count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"expected a whole number, 0 or more, got {shown(value)}")
    return value


def non_empty_list(value: Any) -> Seq:
    if not isinstance(value, Seq):
        raise ValueError(f"expected a list, got {shown(value)}")
    if not value:
        raise ValueError("must not be empty")
    return value


def unknown_name(kind: str, name: str, known: Collection[str]) -> str:
    """`unknown person 'bob' ...` with a close match, or the names there are."""
    close = difflib.get_close_matches(name, list(known), n=1)
    if close:
        return f"unknown {kind} '{name}' (did you mean '{close[0]}'?)"
    if not known:
        return f"unknown {kind} '{name}' (none defined)"
    names = sorted(known)
    listed = ", ".join(names[:_MOST_NAMES_SHOWN])
    more = len(names) - _MOST_NAMES_SHOWN
    return f"unknown {kind} '{name}' (known: {listed}{f' and {more} more' if more > 0 else ''})"


class Checked:
    """Reads the fields of entries, noting each problem in `problems` instead of stopping."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems

    def keys(
        self,
        body: Any,
        where: Where,
        context: str,
        required: tuple[str, ...],
        optional: tuple[str, ...] = (),
        shown_as: tuple[str, ...] = (),
    ) -> Map | None:
        """`body` if it is a mapping (unknown and missing keys noted), else None. Messages
        list the allowed keys as `shown_as` orders them (default: required, then optional)."""
        allowed = ", ".join(shown_as or (*required, *optional))
        if not isinstance(body, Map):
            self.problems.append(
                Problem(where, f"{context} must be a mapping with the keys {allowed}")
            )
            return None
        for key in body:
            if key not in required and key not in optional:
                message = f"unknown key '{key}' in {context} (allowed: {allowed})"
                self.problems.append(Problem(body.at(key), message))
        missing = [f"'{key}'" for key in required if key not in body]
        if missing:
            self.problems.append(Problem(where, f"{context} is missing {', '.join(missing)}"))
        return body

    def value(self, body: Map, key: str, read: Callable[[Any], T]) -> T | None:
        """`body[key]` read by `read`; None if missing (noted by `keys`) or wrong."""
        if key not in body:
            return None
        try:
            return read(body[key])
        except ValueError as error:
            self.problems.append(Problem(body.at(key), f"{key}: {error}"))
            return None

    def items(
        self, body: Map, key: str, read: Callable[[Any, Where], T | None]
    ) -> tuple[T, ...] | None:
        """Each item of the non-empty list `body[key]` read by `read`; None if any is wrong."""
        listed = self.value(body, key, non_empty_list)
        if listed is None:
            return None
        found = [read(item, listed.at(index)) for index, item in enumerate(listed)]
        return tuple(item for item in found if item is not None) if None not in found else None

    def known(self, name: str, where: Where, kind: str, known: Collection[str]) -> bool:
        if name in known:
            return True
        self.problems.append(Problem(where, unknown_name(kind, name, known)))
        return False

    def name(self, body: Map, key: str, kind: str, known: Collection[str]) -> str | None:
        """`body[key]`, the id of a `kind` that must be among `known`."""
        name = self.value(body, key, text)
        return name if name is not None and self.known(name, body.at(key), kind, known) else None

    def names(
        self, body: Map, key: str, kind: str, known: Collection[str]
    ) -> tuple[str, ...] | None:
        """`body[key]`, a non-empty list of ids of `kind`, each among `known`."""
        return self.items(body, key, lambda item, where: self._known_id(item, where, kind, known))

    def channel(self, value: Any, where: Where) -> str | None:
        if value in CHANNELS:
            return str(value)
        self.problems.append(Problem(where, unknown_channel(value)))
        return None

    def _known_id(self, value: Any, where: Where, kind: str, known: Collection[str]) -> str | None:
        if not isinstance(value, str):
            self.problems.append(Problem(where, f"expected a {kind} id, got {shown(value)}"))
            return None
        return value if self.known(value, where, kind, known) else None
