"""On-call shifts as iCalendar (RFC 5545), for people's calendar apps."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from pager.domain.rotations import Person, Shift

_PRODID = "-//pager//on-call schedule//EN"


def shifts_to_ics(
    name: str, shifts: Iterable[Shift], people: Mapping[str, Person], now: datetime
) -> str:
    """A calendar called `name` with one event per shift that has someone on call."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{_PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_escape(name)}",
    ]
    for shift in shifts:
        if shift.person is None:
            continue
        person = people[shift.person]
        kind = "override" if shift.override else "shift"
        lines += [
            "BEGIN:VEVENT",
            f"UID:{_escape(shift.rotation)}-{_stamp(shift.start)}-{_escape(shift.person)}@pager",
            f"DTSTAMP:{_stamp(now)}",
            f"DTSTART:{_stamp(shift.start)}",
            f"DTEND:{_stamp(shift.end)}",
            f"SUMMARY:{_escape(f'On call: {person.name} ({shift.rotation})')}",
            f"DESCRIPTION:{_escape(f'{person.name} is on call for {shift.rotation} ({kind}).')}",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _escape(text: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon and comma escaped, every line break
    (CR, LF, CRLF, U+2028/9) as `\\n`, other control characters dropped, so nothing in a name
    can end the property line and start one of its own."""
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    text = re.sub("\r\n|[\r\n\u2028\u2029]", "\\\\n", text)
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cc")


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space (RFC 5545 3.1)."""
    encoded = line.encode()
    if len(encoded) <= 75:
        return line
    parts: list[str] = []
    current = b""
    for char in line:
        piece = char.encode()
        if len(current) + len(piece) > (75 if not parts else 74):
            parts.append(current.decode())
            current = b""
        current += piece
    parts.append(current.decode())
    return "\r\n ".join(parts)
