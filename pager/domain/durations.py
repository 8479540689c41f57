"""Durations as written in our files: `30s`, `5m`, `2h`, `1d`, `1w`, or combined: `1h30m`."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+)([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: object) -> timedelta:
    """Parse `5m`, `1h30m`, `2w`; raise ValueError with a message a user can act on."""
    if isinstance(text, bool) or not isinstance(text, str | int):
        raise ValueError(f"expected a duration like 30s, 5m, 2h, 1d or 1w, got {text!r}")
    if isinstance(text, int):
        raise ValueError(
            f"duration {text} needs a unit: {text}s, {text}m, {text}h, {text}d or {text}w"
        )
    compact = text.strip().replace(" ", "")
    parts = _PART.findall(compact)
    if not compact or "".join(n + u for n, u in parts) != compact:
        raise ValueError(f"expected a duration like 30s, 5m, 2h, 1d or 1w, got '{text}'")
    seconds = sum(int(n) * _UNITS[u] for n, u in parts)
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """The shortest of our duration strings for `delta` (whole seconds)."""
    seconds = int(delta.total_seconds())
    if seconds == 0:
        return "0s"
    out = []
    for unit in "wdhms":
        size = _UNITS[unit]
        if seconds >= size:
            out.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(out)
