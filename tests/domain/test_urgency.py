from __future__ import annotations

from datetime import UTC, datetime

from pager.domain.urgency import morning_after


def test_it_lets_daytime_through() -> None:
    assert morning_after("Europe/London", datetime(2026, 11, 25, 12, 0, tzinfo=UTC)) is None
    assert morning_after("Europe/London", datetime(2026, 11, 25, 8, 0, tzinfo=UTC)) is None


def test_it_waits_for_eight_oclock_local_after_a_night_alert() -> None:
    # 03:00 UTC is 03:00 in London (winter) and 22:00 the evening before in New York.
    at = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    assert morning_after("Europe/London", at) == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    assert morning_after("America/New_York", at) == datetime(2026, 11, 25, 13, 0, tzinfo=UTC)


def test_it_waits_for_the_next_morning_from_a_late_evening() -> None:
    at = datetime(2026, 7, 1, 21, 30, tzinfo=UTC)  # 22:30 BST
    assert morning_after("Europe/London", at) == datetime(2026, 7, 2, 7, 0, tzinfo=UTC)
