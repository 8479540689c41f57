"""Layers and restriction windows: exact instants, midnight and DST, follow-the-sun, and
property tests against a brute-force reading of what the layers say."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from pager.domain.layers import Layer, Restriction, Window, local_to_utc
from pager.domain.rotations import (
    BEGINNING_OF_TIME,
    END_OF_TIME,
    Override,
    Person,
    Rotation,
    Schedule,
    Shift,
)
from tests.domain.test_rotations import assert_tiles

PEOPLE = {
    name: Person(name, name.title(), f"+4477009001{n:02d}", "UTC")
    for n, name in enumerate(["alice", "bob", "carol", "dave"])
}
LON, NYC, LA = "Europe/London", "America/New_York", "America/Los_Angeles"
WEEKDAYS, WEEKEND, EVERY_DAY = frozenset(range(5)), frozenset({5, 6}), frozenset(range(7))
FRI, SAT = frozenset({4}), frozenset({5})
DAY, WEEK = timedelta(days=1), timedelta(weeks=1)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def window(days: frozenset[int], start: str, end: str) -> Window:
    return Window(days, time.fromisoformat(start), time.fromisoformat(end))


def layer(zone, start, shift, members, *windows: Window, outer: Restriction | None = None):
    restrictions = (Restriction(zone, windows),) if windows else ()
    return Layer(
        zone,
        datetime.fromisoformat(start),
        shift,
        members,
        restrictions + ((outer,) if outer else ()),
    )


def schedule_of(*layers: Layer, overrides: tuple[Override, ...] = (), zone: str = "UTC"):
    return Schedule(
        people=PEOPLE, rotations={"r": Rotation("r", zone, layers)}, overrides=overrides
    )


def shift(person, start: str, end: str, override: bool = False) -> Shift:
    return Shift("r", person, utc(start), utc(end), override)


def nobody(start: str, end: str) -> Shift:
    return shift(None, start, end)


# --- Restrictions --------------------------------------------------------------------------


def test_it_puts_a_layer_on_call_only_inside_its_windows():
    office = layer(
        LON, "2026-01-05T09:00", WEEK, ("alice", "bob"), window(WEEKDAYS, "09:00", "18:00")
    )

    assert schedule_of(office).shifts("r", utc("2026-01-09T12:00"), utc("2026-01-12T10:00")) == [
        shift("alice", "2026-01-09T09:00", "2026-01-09T18:00"),
        nobody("2026-01-09T18:00", "2026-01-12T09:00"),  # the weekend
        shift("bob", "2026-01-12T09:00", "2026-01-12T18:00"),
    ]


def test_it_has_nobody_before_a_restricted_layer_first_applies():
    office = layer(LON, "2026-01-03T00:00", WEEK, ("alice",), window(WEEKDAYS, "09:00", "18:00"))

    # Saturday the 3rd is its start, but it first applies on Monday.
    assert schedule_of(office).shift_at("r", utc("2026-01-04T12:00")) == Shift(
        "r", None, BEGINNING_OF_TIME, utc("2026-01-05T09:00"), False
    )


def test_it_applies_a_window_across_midnight_on_the_days_it_opens():
    nights = layer(LON, "2026-01-05T00:00", WEEK, ("alice",), window(FRI, "22:00", "06:00"))

    assert schedule_of(nights).shifts("r", utc("2026-01-09T12:00"), utc("2026-01-10T12:00")) == [
        Shift("r", None, BEGINNING_OF_TIME, utc("2026-01-09T22:00"), False),
        shift("alice", "2026-01-09T22:00", "2026-01-10T06:00"),
        nobody("2026-01-10T06:00", "2026-01-16T22:00"),
    ]


def test_it_covers_weekends_and_lists_of_days():
    weekend = layer(LON, "2026-01-05T00:00", WEEK, ("alice",), window(WEEKEND, "00:00", "00:00"))
    mon_wed = layer(
        LON, "2026-01-05T00:00", WEEK, ("bob",), window(frozenset({0, 2}), "10:00", "11:00")
    )

    assert schedule_of(weekend).shifts("r", utc("2026-01-10T12:00"), utc("2026-01-10T13:00")) == [
        shift("alice", "2026-01-10T00:00", "2026-01-12T00:00")  # one shift: Saturday and Sunday
    ]
    assert [
        (s.person, s.start)
        for s in schedule_of(mon_wed).shifts("r", utc("2026-01-12T00:00"), utc("2026-01-18T00:00"))
        if s.person
    ] == [("bob", utc("2026-01-12T10:00")), ("bob", utc("2026-01-14T10:00"))]


def test_it_cuts_a_window_at_the_handoff_inside_it():
    office = layer(
        LON, "2026-01-05T12:00", WEEK, ("alice", "bob"), window(WEEKDAYS, "09:00", "18:00")
    )

    assert schedule_of(office).shifts("r", utc("2026-01-12T10:00"), utc("2026-01-12T13:00")) == [
        shift("alice", "2026-01-12T09:00", "2026-01-12T12:00"),
        shift("bob", "2026-01-12T12:00", "2026-01-12T18:00"),
    ]


# Saturday-night windows over the four DST changes of 2026: the window is 22:00 to 06:00 on the
# wall clock, so it lasts 7 hours when the clocks go forward and 9 when they go back.
DST_NIGHTS = [
    (LON, "2026-03-28T22:00", "2026-03-29T05:00"),  # 22:00 GMT to 06:00 BST
    (LON, "2026-10-24T21:00", "2026-10-25T06:00"),  # 22:00 BST to 06:00 GMT
    (NYC, "2026-03-08T03:00", "2026-03-08T10:00"),  # 22:00 EST to 06:00 EDT
    (NYC, "2026-11-01T02:00", "2026-11-01T11:00"),  # 22:00 EDT to 06:00 EST
]


def test_it_keeps_a_window_across_midnight_on_the_wall_clock_when_the_clocks_change():
    for zone, start, end in DST_NIGHTS:
        nights = layer(zone, "2026-01-03T00:00", WEEK, ("alice",), window(SAT, "22:00", "06:00"))

        found = schedule_of(nights).shift_at("r", utc(start))

        assert found == shift("alice", start, end), zone
        assert found.start.astimezone(ZoneInfo(zone)).strftime("%a %H:%M") == "Sat 22:00"
        assert found.end.astimezone(ZoneInfo(zone)).strftime("%a %H:%M") == "Sun 06:00"


def test_it_shrinks_a_window_in_the_skipped_hour_and_keeps_the_first_of_a_repeated_one():
    early = layer(
        LON, "2026-01-04T00:00", WEEK, ("alice",), window(frozenset({6}), "01:30", "02:30")
    )

    spring = schedule_of(early).shift_at("r", utc("2026-03-29T01:10"))
    autumn = schedule_of(early).shift_at("r", utc("2026-10-25T01:10"))

    assert spring == shift("alice", "2026-03-29T01:00", "2026-03-29T01:30")  # 02:00-02:30 BST
    assert autumn == shift("alice", "2026-10-25T00:30", "2026-10-25T02:30")  # 01:30 BST-02:30 GMT


def test_it_applies_a_rotation_wide_window_in_the_rotations_zone_too():
    # The layer: 09:00-18:00 New York (14:00-23:00 UTC); the rotation: until 20:00 London.
    outer = Restriction(LON, (window(EVERY_DAY, "08:00", "20:00"),))
    both = layer(
        NYC, "2026-01-05T09:00", WEEK, ("alice",), window(WEEKDAYS, "09:00", "18:00"), outer=outer
    )

    assert schedule_of(both).shifts("r", utc("2026-01-06T00:00"), utc("2026-01-07T00:00")) == [
        nobody("2026-01-05T20:00", "2026-01-06T14:00"),
        shift("alice", "2026-01-06T14:00", "2026-01-06T20:00"),
        nobody("2026-01-06T20:00", "2026-01-07T14:00"),
    ]


# --- Layers -----------------------------------------------------------------------------------


def test_it_lets_a_later_layer_win_where_it_applies():
    weekly = layer(LON, "2026-01-05T09:00", WEEK, ("alice", "bob"))
    office = layer(
        LON, "2026-01-05T09:00", DAY, ("carol", "dave"), window(WEEKDAYS, "10:00", "16:00")
    )

    assert schedule_of(weekly, office).shifts(
        "r", utc("2026-01-09T00:00"), utc("2026-01-12T12:00")
    ) == [
        shift("alice", "2026-01-08T16:00", "2026-01-09T10:00"),
        shift("carol", "2026-01-09T10:00", "2026-01-09T16:00"),  # Friday: turn 4 of the office
        shift("alice", "2026-01-09T16:00", "2026-01-12T09:00"),  # the weekend: no office
        shift("bob", "2026-01-12T09:00", "2026-01-12T10:00"),
        shift("dave", "2026-01-12T10:00", "2026-01-12T16:00"),
    ]


def test_it_lets_an_override_win_over_every_layer():
    weekly = layer(LON, "2026-01-05T09:00", WEEK, ("alice",))
    office = layer(LON, "2026-01-05T09:00", DAY, ("carol",), window(WEEKDAYS, "10:00", "16:00"))
    swap = Override("r", "bob", utc("2026-01-06T12:00"), utc("2026-01-06T14:00"))

    assert schedule_of(weekly, office, overrides=(swap,)).shifts(
        "r", utc("2026-01-06T11:00"), utc("2026-01-06T15:00")
    ) == [
        shift("carol", "2026-01-06T10:00", "2026-01-06T12:00"),
        shift("bob", "2026-01-06T12:00", "2026-01-06T14:00", override=True),
        shift("carol", "2026-01-06T14:00", "2026-01-06T16:00"),
    ]


def follow_the_sun() -> Schedule:
    """London 07:00-19:00, then Los Angeles 11:00-23:00: in winter 07-19 and 19-07 UTC."""
    london = layer(
        LON, "2026-01-05T07:00", WEEK, ("alice", "carol"), window(EVERY_DAY, "07:00", "19:00")
    )
    los_angeles = layer(
        LA, "2026-01-05T11:00", WEEK, ("bob", "dave"), window(EVERY_DAY, "11:00", "23:00")
    )
    return schedule_of(london, los_angeles, zone=LON)


def test_it_follows_the_sun_with_no_gap_in_winter():
    assert follow_the_sun().shifts("r", utc("2026-01-06T12:00"), utc("2026-01-07T12:00")) == [
        shift("alice", "2026-01-06T07:00", "2026-01-06T19:00"),
        shift("bob", "2026-01-06T19:00", "2026-01-07T07:00"),
        shift("alice", "2026-01-07T07:00", "2026-01-07T19:00"),
    ]


def test_it_opens_a_follow_the_sun_gap_while_only_america_has_changed_its_clocks():
    # From 8 March, 11:00-23:00 PDT is 18:00-06:00 UTC; London is still 07:00-19:00 GMT.
    assert follow_the_sun().shifts("r", utc("2026-03-10T12:00"), utc("2026-03-11T12:00")) == [
        shift("carol", "2026-03-10T07:00", "2026-03-10T18:00"),
        shift("dave", "2026-03-10T18:00", "2026-03-11T06:00"),
        nobody("2026-03-11T06:00", "2026-03-11T07:00"),
        shift("carol", "2026-03-11T07:00", "2026-03-11T18:00"),
    ]


def test_it_follows_the_sun_again_once_both_have_changed():
    # From 29 March: London 07:00-19:00 BST is 06:00-18:00 UTC; Los Angeles 18:00-06:00 UTC.
    assert follow_the_sun().shift_at("r", utc("2026-04-01T05:59")) == shift(
        "bob",
        "2026-03-31T18:00",
        "2026-04-01T06:00",  # turn 12 of each layer, from 30 March
    )
    assert follow_the_sun().shift_at("r", utc("2026-04-01T06:00")) == shift(
        "alice", "2026-04-01T06:00", "2026-04-01T18:00"
    )


def test_it_has_nobody_for_ever_when_no_layer_will_apply_again():
    never = Restriction(LON, (window(SAT, "09:00", "10:00"),))
    office = layer(
        LON, "2026-01-05T09:00", WEEK, ("alice",), window(WEEKDAYS, "09:00", "18:00"), outer=never
    )

    assert schedule_of(office).shift_at("r", utc("2026-02-01T00:00")) == Shift(
        "r", None, BEGINNING_OF_TIME, END_OF_TIME, False
    )


# --- Properties: what the layers say, by brute force ------------------------------------------


def covers(restriction: Restriction, at: datetime) -> bool:
    """Whether some window of `restriction`, opening on some day near `at`, holds `at`."""
    zone = ZoneInfo(restriction.timezone)
    today = at.astimezone(zone).date()
    for day in (today + n * DAY for n in range(-2, 2)):
        for w in restriction.windows:
            closing_day = day if w.end > w.start else day + DAY
            opens = local_to_utc(datetime.combine(day, w.start), zone)
            closes = local_to_utc(datetime.combine(closing_day, w.end), zone)
            if day.weekday() in w.days and opens <= at < closes:
                return True
    return False


def turn(layer_: Layer, at: datetime) -> int:
    """The turn of `layer_` at `at` (-1 before it starts), by bisection over its handoffs."""
    zone = ZoneInfo(layer_.timezone)

    def handoff(k: int) -> datetime:
        return local_to_utc(layer_.start + k * layer_.shift, zone)

    if at < handoff(0):
        return -1
    low, high = 0, 1
    while handoff(high) <= at:
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if handoff(middle) <= at else (low, middle)
    return low


def expected(schedule: Schedule, at: datetime) -> str | None:
    """An override holding `at`, else the highest layer that applies at `at`, else nobody."""
    for override in schedule.overrides:
        if override.start <= at < override.end:
            return override.person
    for layer_ in reversed(schedule.rotations["r"].layers):
        k = turn(layer_, at)
        if k >= 0 and all(covers(r, at) for r in layer_.restrictions):
            return layer_.members[k % len(layer_.members)]
    return None


ZONES = [LON, NYC, LA, "Australia/Lord_Howe", "UTC"]
minutes = st.integers(0, 47).map(lambda n: time(n // 2, n % 2 * 30))
windows = st.builds(
    Window, days=st.frozensets(st.integers(0, 6), min_size=1), start=minutes, end=minutes
)
restrictions = st.builds(
    Restriction,
    timezone=st.sampled_from(ZONES),
    windows=st.lists(windows, min_size=1, max_size=2).map(tuple),
)
layers = st.builds(
    Layer,
    timezone=st.sampled_from(ZONES),
    start=st.datetimes(datetime(2025, 10, 1), datetime(2026, 4, 1)).map(
        lambda d: d.replace(second=0, microsecond=0)
    ),
    shift=st.sampled_from([timedelta(minutes=30), timedelta(hours=8), DAY, WEEK]),
    members=st.lists(st.sampled_from(list(PEOPLE)), min_size=1, max_size=3).map(tuple),
    restrictions=st.lists(restrictions, max_size=2).map(tuple),
)
BASE = utc("2026-01-01T00:00")
offsets = st.timedeltas(timedelta(days=-120), timedelta(days=300))
override_lists = st.lists(
    st.builds(
        lambda person, at, length: Override("r", person, BASE + at, BASE + at + length),
        st.sampled_from(list(PEOPLE)),
        offsets,
        st.timedeltas(timedelta(minutes=1), timedelta(days=3)),
    ),
    max_size=2,
)
schedules = st.builds(
    lambda layers_, overrides: schedule_of(*layers_, overrides=tuple(overrides)),
    st.lists(layers, min_size=1, max_size=3),
    override_lists,
)


@settings(deadline=None, max_examples=150)
@given(schedule=schedules, offset=offsets)
def test_it_puts_on_call_exactly_whom_the_layers_say_at_any_instant(schedule, offset):
    at = BASE + offset

    found = schedule.shift_at("r", at)

    assert found.start <= at < found.end
    assert found.person == expected(schedule, at)
    assert expected(schedule, found.start) == found.person
    if found.end != END_OF_TIME:
        assert expected(schedule, found.end - timedelta(microseconds=1)) == found.person
    if found.person is None and found.start != BEGINNING_OF_TIME:
        assert expected(schedule, found.start - timedelta(microseconds=1)) is not None
    if found.person is None and found.end != END_OF_TIME:
        assert expected(schedule, found.end) is not None


@settings(deadline=None, max_examples=100)
@given(
    schedule=schedules, offset=offsets, span=st.timedeltas(timedelta(minutes=1), timedelta(days=10))
)
def test_it_lists_shifts_that_tile_time_with_no_gap_or_overlap(schedule, offset, span):
    start = BASE + offset

    listed = schedule.shifts("r", start, start + span)

    assert_tiles(listed, start, start + span)
    for shift_ in listed:
        assert shift_.person == expected(schedule, max(shift_.start, start))
        assert schedule.shift_at("r", max(shift_.start, start)) == shift_
