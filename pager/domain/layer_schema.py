"""A rotation as written in a file: one layer (start, shift and members on the rotation itself)
or several (`layers`), each maybe limited to weekly windows (`restrict`).

Part of `rotation_schema`: takes a rotation's body as YAML gave it and returns the `Rotation`,
or None with every problem noted in `check`.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, time, timedelta
from typing import Any

from pager.domain import rotation_fields as fields
from pager.domain.durations import format_duration
from pager.domain.layers import Layer, Restriction, Window
from pager.domain.rotation_fields import Checked
from pager.domain.rotations import Rotation
from pager.domain.yamldoc import Map, Problem, Where

_LAYER_KEYS = ("start", "shift", "members")
_EVERY_DAY = frozenset(range(7))
_WEEK, _DAY = timedelta(weeks=1), timedelta(days=1)


def read_rotation(
    name: str, body: Any, where: Where, people: Collection[str], check: Checked
) -> Rotation | None:
    """The rotation `name` written as `body` at `where`; its members must be among `people`."""
    if isinstance(body, Map) and "layers" in body:
        return _layered(name, body, where, people, check)
    context = f"rotation '{name}'"
    checked = check.keys(
        body, where, context, ("timezone", *_LAYER_KEYS), ("handoff", "restrict", "layers")
    )
    if checked is None:
        return None
    zone = check.value(checked, "timezone", fields.zone_name)
    layer = _layer(checked, zone, (), people, check)
    return Rotation(name, zone, (layer,)) if zone is not None and layer is not None else None


def _layered(
    name: str, body: Map, where: Where, people: Collection[str], check: Checked
) -> Rotation | None:
    check.keys(body, where, f"rotation '{name}' with layers", ("timezone", "layers"), ("restrict",))
    zone = check.value(body, "timezone", fields.zone_name)
    windows = _windows(body, check)
    listed = check.value(body, "layers", fields.non_empty_list)
    if listed is None:
        return None
    outer = (Restriction(zone, windows),) if zone is not None and windows else ()
    layers = [
        _layer_entry(
            item,
            listed.at(index),
            f"layer {index + 1} of rotation '{name}'",
            zone,
            outer,
            people,
            check,
        )
        for index, item in enumerate(listed)
    ]
    if zone is None or windows is None or None in layers:
        return None
    return Rotation(name, zone, tuple(layer for layer in layers if layer))


def _layer_entry(
    value: Any,
    where: Where,
    context: str,
    zone: str | None,
    outer: tuple[Restriction, ...],
    people: Collection[str],
    check: Checked,
) -> Layer | None:
    body = check.keys(value, where, context, _LAYER_KEYS, ("handoff", "timezone", "restrict"))
    if body is None:
        return None
    own_zone = check.value(body, "timezone", fields.zone_name) if "timezone" in body else zone
    layer = _layer(body, own_zone, outer, people, check)
    if (
        layer is not None
        and len(layer.restrictions) > 1
        and not layer.applies_from(layer.handoff(0))
    ):
        message = f"{context} never applies: its restrict windows never meet the rotation's"
        check.problems.append(Problem(where, message))
        return None
    return layer


def _layer(
    body: Map,
    zone: str | None,
    outer: tuple[Restriction, ...],
    people: Collection[str],
    check: Checked,
) -> Layer | None:
    """The layer written in `body` (a rotation's or a layer's), in `zone`, also limited by
    the rotation's `outer` restriction."""
    shift = check.value(body, "shift", fields.shift_length)
    first = _first_handoff(body, shift, check)
    members = check.names(body, "members", "person", people)
    windows = _windows(body, check)
    if zone is None or first is None or shift is None or members is None or windows is None:
        return None
    own = (Restriction(zone, windows),) if windows else ()
    return Layer(zone, first, shift, members, own + outer)


def _first_handoff(body: Map, shift: timedelta | None, check: Checked) -> datetime | None:
    """`start`, a local time; or with `handoff`, the first handoff on or after `start`."""
    if "handoff" not in body:
        return check.value(body, "start", fields.local_time)
    written = check.value(body, "start", fields.start_date_or_time)
    handoff = check.value(body, "handoff", fields.handoff)
    if written is None or handoff is None:
        return None
    (start, has_time), (day, clock) = written, handoff
    mismatch = _handoff_needs(day, shift)
    if mismatch:
        check.problems.append(Problem(body.at("handoff"), f"handoff: {mismatch}"))
        return None
    first = datetime.combine(start.date(), clock)
    if day is not None:
        first += (day - first.weekday()) % 7 * _DAY
    if has_time and start != first:
        message = (
            f"start: {body['start']} is not at the handoff ({body['handoff']}); "
            f"write the date alone, like {start.date()}"
        )
        check.problems.append(Problem(body.at("start"), message))
        return None
    return first


def _handoff_needs(day: int | None, shift: timedelta | None) -> str | None:
    """What is wrong with a handoff at a fixed time (and weekday) for this shift, if anything."""
    if shift is None:
        return None
    length = format_duration(shift)
    if day is not None and shift % _WEEK:
        return f"a handoff weekday needs a shift of whole weeks, like 1w (shift is {length})"
    if shift % _DAY:
        return (
            f"a handoff time needs a shift of whole days, like 1d or 1w (shift is {length}); "
            "give the first handoff in start instead, like 2026-01-05T09:00"
        )
    return None


def _windows(body: Map, check: Checked) -> tuple[Window, ...] | None:
    """The windows of `restrict`: () if there is none, None if it is wrong."""
    if "restrict" not in body:
        return ()
    return check.items(body, "restrict", lambda item, where: _window(item, where, check))


def _window(value: Any, where: Where, check: Checked) -> Window | None:
    body = check.keys(value, where, "restrict window", (), ("days", "from", "to"))
    if body is None:
        return None
    if ("from" in body) != ("to" in body):
        message = "a restrict window needs both 'from' and 'to' (or neither: whole days)"
        check.problems.append(Problem(where, message))
        return None
    days = check.value(body, "days", fields.weekdays) if "days" in body else _EVERY_DAY
    start = check.value(body, "from", fields.clock_time) if "from" in body else time(0)
    end = check.value(body, "to", fields.window_end) if "to" in body else time(0)
    if days is None or start is None or end is None:
        return None
    return Window(days, start, end)
