from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from pager.domain.limits import DEFAULT_LIMITS, Limit, next_free

T0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def test_it_allows_pages_under_the_limit() -> None:
    sent = [T0 + i * MIN for i in range(4)]
    assert next_free(sent, DEFAULT_LIMITS["sms"], T0 + 5 * MIN) is None


def test_it_holds_the_sixth_sms_in_fifteen_minutes_until_the_first_leaves_the_window() -> None:
    sent = [T0 + i * MIN for i in range(5)]
    assert next_free(sent, DEFAULT_LIMITS["sms"], T0 + 6 * MIN) == T0 + 15 * MIN


def test_it_holds_the_twelfth_sms_in_an_hour_even_when_the_short_window_allows() -> None:
    sent = [T0 + i * 5 * MIN for i in range(11)]  # every 5 minutes: at most 3 per 15 minutes
    assert next_free(sent, DEFAULT_LIMITS["sms"], T0 + 55 * MIN) == T0 + 60 * MIN


def test_it_ignores_pages_that_left_every_window() -> None:
    sent = [T0 - timedelta(hours=2)] * 20
    assert next_free(sent, DEFAULT_LIMITS["sms"], T0) is None


@given(
    offsets=st.lists(st.integers(min_value=0, max_value=7200), max_size=40),
    now_offset=st.integers(min_value=0, max_value=7200),
    count=st.integers(min_value=1, max_value=6),
    per=st.integers(min_value=1, max_value=3600),
)
def test_it_frees_exactly_when_one_more_fits_every_window(offsets, now_offset, count, per) -> None:
    limits = [Limit(count, timedelta(seconds=per)), Limit(count * 2, timedelta(seconds=per * 3))]
    sent = [T0 + timedelta(seconds=o) for o in offsets]
    now = T0 + timedelta(seconds=now_offset)
    free = next_free(sent, limits, now)

    def fits(at: datetime) -> bool:
        past = [t for t in sent if t <= now]
        return all(sum(1 for t in past if t > at - lim.per) < lim.count for lim in limits)

    if free is None:
        assert fits(now)
    else:
        assert free > now and fits(free) and not fits(free - timedelta(seconds=1))
