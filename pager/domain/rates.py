"""How fast one provider account may send (its messages per second), as a token bucket.

A rate `N/W` lets up to N messages go at once after a quiet spell, then one every W/N: a long
code at 1/s sends exactly one a second, a short code at 100/s a burst of 100 and then one every
10 ms. The bucket is one instant per provider, `next_free_at` (the generic cell rate algorithm):
the time the next message would be due if every message so far had gone out evenly spaced. It
lives in the database, so every process that shares the account shares the bucket.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timedelta

from pager.domain.limits import Limit


def spacing(rate: Limit) -> timedelta:
    """The time one message uses up at `rate`."""
    return rate.per / rate.count


def free_at(next_free_at: datetime | None, rate: Limit, now: datetime) -> datetime:
    """The first instant, `now` or later, at which the provider may take one more message."""
    if next_free_at is None:
        return now
    burst = rate.per - spacing(rate)  # how far ahead of even spacing a burst may run
    return max(now, next_free_at - burst)


def take(next_free_at: datetime | None, rate: Limit, now: datetime) -> datetime:
    """The provider's `next_free_at` once one more message went at `now` (which must be free)."""
    start = now if next_free_at is None else max(now, next_free_at)
    return start + spacing(rate)


def describe(rate: Limit) -> str:
    """`1/s`, `3/s`, `30/m` as a person reads them in the timeline."""
    seconds = rate.per.total_seconds()
    unit = {1: "s", 60: "m", 3600: "h"}.get(int(seconds)) if seconds.is_integer() else None
    return f"{rate.count}/{unit}" if unit else f"{rate.count} per {seconds:g}s"


# A provider API call takes about 150-300 ms (Twilio's), and up to its timeout of 10 s when the
# provider is slow: senders for a second of each account's rate keep every account at its
# rate through the usual latency, and the bounds keep a pool sane for a misconfigured rate.
SENDERS_PER_UNLIMITED = 64  # an account with no rate (the sandbox, or `rate` lifted)
FEWEST_SENDERS = 8
MOST_SENDERS = 256


def senders_for(account_rates: Iterable[Limit | None]) -> int:
    """How many provider calls a runner keeps in flight at once for accounts sending at
    `account_rates` (None: no rate): a second's worth of each one's messages."""
    total = 0
    for rate in account_rates:
        if rate is None:
            total += SENDERS_PER_UNLIMITED
        else:
            total += math.ceil(rate.count / rate.per.total_seconds())
    return max(FEWEST_SENDERS, min(MOST_SENDERS, total))
