"""An alert history file for `pager simulate`: JSON Lines, or one JSON array, of incidents.

Each incident is an object:

    {"service": "payments", "opened_at": "2026-03-18T03:00:00Z",
     "acknowledged_at": "2026-03-18T03:04:00Z", "resolved_at": "2026-03-18T03:40:00Z",
     "urgency": "high", "id": 812, "title": "Payments API 5xx"}

`service` and `opened_at` are required; the rest may be left out or null. Instants are ISO 8601
with an offset or `Z`. `urgency` is high (the default) or low. `id` (a whole number) is the
incident's number, which round robin takes turns by; without it, its place in the file (1, 2...).
`title` is only for people reading the file. Pure: takes the file's name and text; every
problem is located (file:line) and says what to change.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from pager.domain.notify_rules import URGENCIES
from pager.domain.simulate import HistoricIncident
from pager.domain.yamldoc import Problem, Where

REQUIRED = ("service", "opened_at")
OPTIONAL = ("acknowledged_at", "resolved_at", "urgency", "id", "title")


def parse_history(filename: str, text: str) -> tuple[list[HistoricIncident], list[Problem]]:
    """The incidents in the file, or the problems (then no incidents)."""
    incidents: list[HistoricIncident] = []
    problems: list[Problem] = []
    try:
        items = list(_items(filename, text))
    except Problem as problem:
        return [], [problem]
    for place, (line, value) in enumerate(items, start=1):
        try:
            incidents.append(_incident(value, place, Where(filename, line)))
        except Problem as problem:
            problems.append(problem)
    return ([] if problems else incidents), problems


def _items(filename: str, text: str) -> Iterator[tuple[int, Any]]:
    """(line, value) of each incident: the elements of a JSON array, or each non-blank line."""
    if text.lstrip().startswith("["):
        yield from _array(filename, text)
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as error:
                raise Problem(Where(filename, number, error.colno), _json_error(error)) from None


def _array(filename: str, text: str) -> Iterator[tuple[int, Any]]:
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        raise Problem(Where(filename, error.lineno, error.colno), _json_error(error)) from None
    # Valid: walk it again element by element, to know the line each one starts on.
    decoder = json.JSONDecoder()
    at = text.index("[") + 1
    while True:
        at = _skip(text, at, " \t\r\n,")
        if text[at] == "]":
            return
        value, end = decoder.raw_decode(text, at)
        yield text.count("\n", 0, at) + 1, value
        at = end


def _skip(text: str, at: int, characters: str) -> int:
    while text[at] in characters:
        at += 1
    return at


def _json_error(error: json.JSONDecodeError) -> str:
    return f"not JSON: {error.msg} (write one incident object per line, or a JSON array)"


def _incident(value: Any, place: int, where: Where) -> HistoricIncident:
    if not isinstance(value, dict):
        raise Problem(where, f"expected an incident object like {_EXAMPLE}")
    unknown = sorted(set(value) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        allowed = ", ".join(REQUIRED + OPTIONAL)
        raise Problem(where, f"unknown key '{unknown[0]}' (allowed: {allowed})")
    for key in REQUIRED:
        if value.get(key) is None:
            raise Problem(where, f"missing '{key}' (e.g. {_EXAMPLE})")
    service = value["service"]
    if not isinstance(service, str) or not service:
        raise Problem(where, f"'service' must be a service id, got {service!r}")
    opened = _instant(value, "opened_at", where)
    assert opened is not None
    acknowledged = _instant(value, "acknowledged_at", where)
    resolved = _instant(value, "resolved_at", where)
    for key, at in (("acknowledged_at", acknowledged), ("resolved_at", resolved)):
        if at is not None and at < opened:
            raise Problem(where, f"'{key}' is before 'opened_at'")
    urgency = value.get("urgency") or "high"
    if urgency not in URGENCIES:
        raise Problem(where, f"'urgency' must be one of {', '.join(URGENCIES)}, got {urgency!r}")
    number = value.get("id", place)
    if isinstance(number, bool) or not isinstance(number, int):
        raise Problem(where, f"'id' must be a whole number, got {number!r}")
    return HistoricIncident(number, service, opened, acknowledged, resolved, urgency)


_EXAMPLE = '{"service": "payments", "opened_at": "2026-03-18T03:00:00Z"}'


def _instant(value: dict[str, Any], key: str, where: Where) -> datetime | None:
    raw = value.get(key)
    if raw is None:
        return None
    try:
        at = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        at = None
    if at is None or at.tzinfo is None or at.utcoffset() is None:
        raise Problem(
            where, f"'{key}' must be an ISO 8601 time with an offset, like 2026-03-18T03:00:00Z"
        )
    return at.astimezone(UTC)
