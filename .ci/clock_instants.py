"""Print the instants `.ci/run` moves the wall clock to, one a line.

A week from now: every weekly rotation is in its other week (who is on call flips). Three
minutes before Europe/London's next change of UTC offset: the run crosses a DST change.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def next_offset_change(after: datetime) -> datetime:
    """The first whole minute at or after which London's UTC offset differs from `after`'s."""
    offset = after.astimezone(LONDON).utcoffset()
    hour = after.replace(minute=0, second=0, microsecond=0)
    while (hour + timedelta(hours=1)).astimezone(LONDON).utcoffset() == offset:
        hour += timedelta(hours=1)
    minute = hour
    while minute.astimezone(LONDON).utcoffset() == offset:
        minute += timedelta(minutes=1)
    return minute


now = datetime.now(UTC).replace(microsecond=0)
print((now + timedelta(days=7)).isoformat())
print((next_offset_change(now) - timedelta(minutes=3)).isoformat())
