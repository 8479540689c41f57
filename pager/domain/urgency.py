"""Urgency: high pages at any hour; low waits for the morning of the person it would wake."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

QUIET_FROM = time(22, 0)
QUIET_TO = time(8, 0)


def morning_after(zone: str, at: datetime) -> datetime | None:
    """When quiet hours (22:00-08:00 local to `zone`) end, if `at` falls in them; else None."""
    tz = ZoneInfo(zone)
    local = at.astimezone(tz)
    clock = local.time()
    if QUIET_TO <= clock < QUIET_FROM:
        return None
    day = local.date() if clock < QUIET_TO else local.date() + timedelta(days=1)
    # 08:00 is clear of every DST change in the tz database (they happen around midnight-03:00).
    return datetime.combine(day, QUIET_TO, tzinfo=tz).astimezone(UTC)
