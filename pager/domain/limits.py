"""How often one number may be paged, so carriers don't flag and block our numbers.

Limits are per recipient and per channel, each "at most N in any window of length W". What a
limit holds back is never dropped: it waits until the window allows, then goes out collapsed
into one digest. Carriers flag floods of one-way messages, not conversations: each SMS a
number sent us within a window lets one more of ours go to it in that window.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Limit:
    count: int  # at most this many...
    per: timedelta  # ...in any window this long


DEFAULT_LIMITS: Mapping[str, tuple[Limit, ...]] = {
    "sms": (Limit(5, timedelta(minutes=15)), Limit(11, timedelta(hours=1))),
    "voice": (Limit(3, timedelta(minutes=15)),),
}


def next_free(
    sent: Iterable[datetime],
    limits: Sequence[Limit],
    now: datetime,
    replies: Iterable[datetime] = (),
) -> datetime | None:
    """None when one more may go at `now`; else the first instant every limit allows one.

    `sent` are the times earlier pages to this number went out on this channel; `replies`
    the times that number texted us. A conversation is not a flood: each reply within a
    limit's window lets one more of ours through in that window.
    """
    times = sorted(t for t in sent if t <= now)
    answered = [t for t in replies if t <= now]
    free = now
    for limit in limits:
        in_window = [t for t in times if t > now - limit.per]
        allowed = limit.count + sum(1 for t in answered if t > now - limit.per)
        if len(in_window) >= allowed:
            # The oldest page that must leave the window for one more to fit.
            leaving = in_window[len(in_window) - allowed]
            free = max(free, leaving + limit.per)
    return None if free == now else free
