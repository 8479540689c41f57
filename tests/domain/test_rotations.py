"""Who is on call when: handoffs in local wall time across DST, overrides, policy targets."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pager.domain.layers import Layer, local_to_utc
from pager.domain.rotations import (
    BEGINNING_OF_TIME,
    Override,
    Person,
    Policy,
    Rotation,
    Schedule,
    Shift,
    Step,
    Target,
)

PEOPLE = {
    "alice": Person("alice", "Alice Example", "+447700900101", "Europe/London"),
    "bob": Person("bob", "Bob Example", "+447700900102", "America/New_York"),
    "carol": Person("carol", "Carol Example", "+447700900103", "Europe/Berlin"),
}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text)


def schedule_of(
    timezone: str, start: str, shift: timedelta, *overrides: Override, members=("alice", "bob")
) -> Schedule:
    rotation = Rotation("r", timezone, (Layer(timezone, local(start), shift, tuple(members)),))
    return Schedule(people=PEOPLE, rotations={"r": rotation}, overrides=overrides)


def shift(person, start: str, end: str, override: bool = False) -> Shift:
    return Shift("r", person, utc(start), utc(end), override)


WEEK, DAY, HALF_DAY = timedelta(weeks=1), timedelta(days=1), timedelta(hours=12)
LON, NYC = "Europe/London", "America/New_York"


# --- Handoffs stay at the same local time across DST changes ---------------------------------


@pytest.mark.parametrize(
    ("timezone", "length", "at", "expected"),
    [
        # London, clocks forward on 2026-03-29: 09:00 GMT on the 23rd, 09:00 BST on the 30th.
        (LON, WEEK, "2026-03-29T12:00", ("bob", "2026-03-23T09:00", "2026-03-30T08:00")),
        (LON, WEEK, "2026-03-30T08:00", ("alice", "2026-03-30T08:00", "2026-04-06T08:00")),
        # London, clocks back on 2026-10-25: 09:00 BST on the 19th, 09:00 GMT on the 26th.
        (LON, WEEK, "2026-10-25T12:00", ("bob", "2026-10-19T08:00", "2026-10-26T09:00")),
        # New York, clocks forward on 2026-03-08: 09:00 EST, then 09:00 EDT.
        (NYC, WEEK, "2026-03-08T12:00", ("alice", "2026-03-02T14:00", "2026-03-09T13:00")),
        # New York, clocks back on 2026-11-01: the shift from 09:00 EDT on Monday 2026-10-26.
        (NYC, WEEK, "2026-11-01T12:00", ("alice", "2026-10-26T13:00", "2026-11-02T14:00")),
        # Daily: the 23-hour and 25-hour days themselves.
        (LON, DAY, "2026-03-29T07:59", ("alice", "2026-03-28T09:00", "2026-03-29T08:00")),
        (LON, DAY, "2026-03-29T08:00", ("bob", "2026-03-29T08:00", "2026-03-30T08:00")),
        (LON, DAY, "2026-10-25T08:30", ("alice", "2026-10-24T08:00", "2026-10-25T09:00")),
        (NYC, DAY, "2026-03-08T12:59", ("bob", "2026-03-07T14:00", "2026-03-08T13:00")),
        (NYC, DAY, "2026-11-01T13:30", ("bob", "2026-10-31T13:00", "2026-11-01T14:00")),
    ],
)
def test_it_hands_off_at_0900_local_across_dst(timezone, length, at, expected):
    schedule = schedule_of(timezone, "2026-01-05T09:00", length)

    found = schedule.shift_at("r", utc(at))

    assert found == shift(*expected)
    assert found.start.astimezone(ZoneInfo(timezone)).strftime("%H:%M") == "09:00"
    assert found.end.astimezone(ZoneInfo(timezone)).strftime("%H:%M") == "09:00"


def test_it_shortens_the_12h_shift_that_spans_the_spring_change():
    schedule = schedule_of(LON, "2026-03-28T08:00", HALF_DAY)

    assert schedule.shifts("r", utc("2026-03-28T08:00"), utc("2026-03-29T19:00")) == [
        shift("alice", "2026-03-28T08:00", "2026-03-28T20:00"),
        shift("bob", "2026-03-28T20:00", "2026-03-29T07:00"),  # 20:00 GMT to 08:00 BST: 11h
        shift("alice", "2026-03-29T07:00", "2026-03-29T19:00"),
    ]


def test_it_lengthens_the_12h_shift_that_spans_the_autumn_change():
    schedule = schedule_of(NYC, "2026-10-31T08:00", HALF_DAY)

    assert schedule.shifts("r", utc("2026-10-31T12:00"), utc("2026-11-01T13:00")) == [
        shift("alice", "2026-10-31T12:00", "2026-11-01T00:00"),
        shift("bob", "2026-11-01T00:00", "2026-11-01T13:00"),  # 20:00 EDT to 08:00 EST: 13h
    ]


@pytest.mark.parametrize(
    ("timezone", "wall", "expected"),
    [
        (LON, "2026-03-29T01:30", "2026-03-29T01:00"),  # skipped: the jump, 02:00 BST
        (LON, "2026-03-29T02:00", "2026-03-29T01:00"),
        (LON, "2026-10-25T01:30", "2026-10-25T00:30"),  # twice: the first, in BST
        (NYC, "2026-03-08T02:30", "2026-03-08T07:00"),  # skipped: 03:00 EDT
        (NYC, "2026-11-01T01:30", "2026-11-01T05:30"),  # twice: the first, in EDT
        (LON, "2026-07-01T09:00", "2026-07-01T08:00"),
    ],
)
def test_it_turns_a_local_time_into_the_first_instant_the_clock_reads_it(timezone, wall, expected):
    assert local_to_utc(local(wall), ZoneInfo(timezone)) == utc(expected)


def test_it_moves_a_handoff_in_the_skipped_hour_to_the_moment_the_clocks_jump():
    schedule = schedule_of(LON, "2026-03-27T01:30", DAY)

    assert schedule.shifts("r", utc("2026-03-28T12:00"), utc("2026-03-29T12:00")) == [
        shift("bob", "2026-03-28T01:30", "2026-03-29T01:00"),
        shift("alice", "2026-03-29T01:00", "2026-03-30T00:30"),
    ]


def test_it_skips_shifts_that_lie_wholly_in_the_skipped_hour():
    members = ("alice", "bob", "carol", "dave", "erin")
    schedule = schedule_of(LON, "2026-03-29T00:00", timedelta(minutes=30), members=members)

    # Local 01:00 and 01:30 never happen that night: carol's and dave's turns last no time.
    assert schedule.shifts("r", utc("2026-03-29T00:00"), utc("2026-03-29T01:30")) == [
        shift("alice", "2026-03-29T00:00", "2026-03-29T00:30"),
        shift("bob", "2026-03-29T00:30", "2026-03-29T01:00"),
        shift("erin", "2026-03-29T01:00", "2026-03-29T01:30"),
    ]


def test_it_gives_the_shift_ending_in_the_repeated_hour_all_of_it():
    schedule = schedule_of(LON, "2026-10-25T00:00", timedelta(minutes=30))

    # 01:30 local is first at 00:30 UTC (BST); 02:00 local is 02:00 UTC (GMT).
    assert schedule.shift_at("r", utc("2026-10-25T01:45")) == shift(
        "bob", "2026-10-25T00:30", "2026-10-25T02:00"
    )


# --- Before the start, overrides -------------------------------------------------------------


def test_it_has_nobody_on_call_before_the_rotation_starts():
    schedule = schedule_of(LON, "2026-01-05T09:00", WEEK)

    assert schedule.shift_at("r", utc("2026-01-05T08:59")) == Shift(
        "r", None, BEGINNING_OF_TIME, utc("2026-01-05T09:00"), False
    )
    assert schedule.oncall("r", utc("2026-01-05T08:59")) == []
    assert schedule.oncall("r", utc("2026-01-05T09:00")) == [PEOPLE["alice"]]


CHRISTMAS = Override("r", "carol", utc("2026-12-24T09:00"), utc("2026-12-27T09:00"))


def test_it_lets_an_override_win_inside_its_bounds():
    schedule = schedule_of(LON, "2026-01-05T09:00", WEEK, CHRISTMAS)

    assert schedule.shift_at("r", utc("2026-12-24T09:00")) == shift(
        "carol", "2026-12-24T09:00", "2026-12-27T09:00", override=True
    )
    assert schedule.oncall("r", utc("2026-12-27T08:59")) == [PEOPLE["carol"]]


def test_it_ends_and_resumes_the_turn_an_override_falls_in():
    schedule = schedule_of(LON, "2026-01-05T09:00", WEEK, CHRISTMAS)

    assert schedule.shift_at("r", utc("2026-12-24T08:59")) == shift(
        "alice", "2026-12-21T09:00", "2026-12-24T09:00"
    )
    assert schedule.shift_at("r", utc("2026-12-27T09:00")) == shift(
        "alice", "2026-12-27T09:00", "2026-12-28T09:00"
    )


def test_it_lists_the_shifts_between_two_instants_with_overrides_splitting_turns():
    schedule = schedule_of(LON, "2026-01-05T09:00", WEEK, CHRISTMAS)

    assert schedule.shifts("r", utc("2026-12-22T00:00"), utc("2026-12-29T00:00")) == [
        shift("alice", "2026-12-21T09:00", "2026-12-24T09:00"),
        shift("carol", "2026-12-24T09:00", "2026-12-27T09:00", override=True),
        shift("alice", "2026-12-27T09:00", "2026-12-28T09:00"),
        shift("bob", "2026-12-28T09:00", "2027-01-04T09:00"),
    ]


def test_it_keeps_an_override_across_a_handoff_as_one_shift():
    override = Override("r", "carol", utc("2026-01-10T00:00"), utc("2026-01-14T00:00"))
    schedule = schedule_of(LON, "2026-01-05T09:00", WEEK, override)

    assert schedule.shifts("r", utc("2026-01-11T00:00"), utc("2026-01-13T00:00")) == [
        shift("carol", "2026-01-10T00:00", "2026-01-14T00:00", override=True),
    ]


def test_it_applies_an_override_before_the_rotation_starts():
    override = Override("r", "carol", utc("2026-01-01T00:00"), utc("2026-01-02T00:00"))
    schedule = schedule_of(LON, "2026-01-05T09:00", WEEK, override)

    assert schedule.shifts("r", utc("2025-12-31T00:00"), utc("2026-01-06T00:00")) == [
        Shift("r", None, BEGINNING_OF_TIME, utc("2026-01-01T00:00"), False),
        shift("carol", "2026-01-01T00:00", "2026-01-02T00:00", override=True),
        shift(None, "2026-01-02T00:00", "2026-01-05T09:00"),
        shift("alice", "2026-01-05T09:00", "2026-01-12T09:00"),
    ]


def test_it_refuses_a_naive_instant():
    schedule = schedule_of(LON, "2026-01-05T09:00", WEEK)

    with pytest.raises(ValueError, match="timezone-aware"):
        schedule.shift_at("r", datetime(2026, 1, 6, 12, 0))


# --- Targets and policies ----------------------------------------------------------------------


def step(*targets: str, channels=("sms",), wait=timedelta(minutes=5)) -> Step:
    return Step(tuple(Target.parse(t) for t in targets), channels, wait)


def test_it_resolves_each_kind_of_target_once_in_order():
    rotation = Rotation("r", LON, (Layer(LON, local("2026-01-05T09:00"), WEEK, ("alice", "bob")),))
    policies = {
        "primary": Policy("primary", 0, (step("rotation:r", "person:alice", "person:carol"),)),
        "outer": Policy("outer", 0, (step("policy:primary", "person:bob"), step("person:carol"))),
    }
    schedule = Schedule(people=PEOPLE, rotations={"r": rotation}, policies=policies)
    monday = utc("2026-01-05T12:00")

    assert schedule.resolve(Target("person", "carol"), monday) == [PEOPLE["carol"]]
    assert schedule.resolve(Target("rotation", "r"), monday) == [PEOPLE["alice"]]
    assert schedule.resolve(Target("policy", "primary"), monday) == [
        PEOPLE["alice"],
        PEOPLE["carol"],
    ]
    assert schedule.resolve(Target("policy", "outer"), monday) == [
        PEOPLE["alice"],
        PEOPLE["carol"],
        PEOPLE["bob"],
    ]


def test_it_stops_at_a_policy_loop_in_a_hand_built_schedule():
    policies = {
        "a": Policy("a", 0, (step("policy:b", "person:alice"),)),
        "b": Policy("b", 0, (step("policy:a"),)),
    }
    schedule = Schedule(people=PEOPLE, policies=policies)

    assert schedule.resolve(Target("policy", "a"), utc("2026-01-05T12:00")) == [PEOPLE["alice"]]


def test_it_reads_targets_written_kind_colon_name():
    assert Target.parse("rotation:sre-primary") == Target("rotation", "sre-primary")
    assert str(Target("person", "carol")) == "person:carol"
    with pytest.raises(ValueError) as error:
        Target.parse("team:sre")
    assert (
        str(error.value)
        == "bad target 'team:sre' (write rotation:<id>, members:<rotation>, person:<id> "
        "or policy:<id>)"
    )


def test_it_snapshots_a_policy_as_json_and_back():
    policy = Policy(
        "sre",
        1,
        (
            step("rotation:sre-primary"),
            step("person:carol", channels=("sms", "voice"), wait=timedelta(minutes=10)),
        ),
    )

    snapshot = policy.to_snapshot()

    assert snapshot == {
        "id": "sre",
        "repeat": 1,
        "ack_timeout_seconds": None,
        "steps": [
            {
                "targets": ["rotation:sre-primary"],
                "channels": ["sms"],
                "wait_seconds": 300,
                "round_robin": False,
            },
            {
                "targets": ["person:carol"],
                "channels": ["sms", "voice"],
                "wait_seconds": 600,
                "round_robin": False,
            },
        ],
    }
    assert Policy.from_snapshot(snapshot) == policy


def test_it_reads_snapshots_stored_before_ack_timeouts_and_round_robin():
    old = {
        "id": "sre",
        "repeat": 0,
        "steps": [{"targets": ["person:carol"], "channels": ["sms"], "wait_seconds": 60}],
    }
    policy = Policy.from_snapshot(old)
    assert policy.ack_timeout is None and policy.steps[0].round_robin is False


# --- Properties ----------------------------------------------------------------------------------

# Lord Howe moves its clocks 30 minutes; Santiago moves them at midnight.
ZONES = [LON, NYC, "Australia/Lord_Howe", "America/Santiago", "Pacific/Chatham", "UTC"]
starts = st.datetimes(datetime(2000, 1, 1), datetime(2035, 1, 1)).map(
    lambda d: d.replace(second=0, microsecond=0)
)
shift_lengths = st.one_of(
    st.sampled_from([timedelta(minutes=30), HALF_DAY, DAY, WEEK, timedelta(weeks=2)]),
    st.integers(min_value=1, max_value=20_160).map(lambda m: timedelta(minutes=m)),
)
layers = st.builds(
    Layer,
    timezone=st.sampled_from(ZONES),
    start=starts,
    shift=shift_lengths,
    members=st.lists(st.sampled_from(list(PEOPLE)), min_size=1, max_size=4).map(tuple),
)
later = st.timedeltas(timedelta(0), timedelta(days=800))


def first_turn_at_or_before(layer: Layer, at: datetime) -> int:
    """Turn k with handoff(k) <= at < handoff(k + 1), found by bisection over handoffs."""
    low, high = 0, (at - layer.handoff(0) + DAY) // layer.shift + 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if layer.handoff(middle) <= at else (low, middle)
    return low


def assert_tiles(listed: list[Shift], start: datetime, end: datetime) -> None:
    """`listed` covers [start, end) from end to end, each shift starting where the last ends."""
    assert listed[0].start <= start < listed[0].end
    assert listed[-1].start < end <= listed[-1].end
    for shift_, next_ in zip(listed, listed[1:]):
        assert shift_.start < shift_.end == next_.start


def one_layer(layer: Layer) -> dict[str, Rotation]:
    return {"r": Rotation("r", layer.timezone, (layer,))}


@settings(deadline=None)
@given(zone=st.sampled_from(ZONES), wall=starts)
def test_it_finds_the_first_instant_the_wall_clock_reads_a_local_time(zone, wall):
    instant = local_to_utc(wall, ZoneInfo(zone))

    def wall_at(t: datetime) -> datetime:
        return t.astimezone(ZoneInfo(zone)).replace(tzinfo=None)

    assert wall_at(instant) >= wall
    assert wall_at(instant - timedelta(seconds=1)) < wall


@settings(deadline=None)
@given(layer=layers, after=later)
def test_it_finds_the_turn_holding_any_instant_after_the_start(layer, after):
    at = layer.handoff(0) + after
    schedule = Schedule(people=PEOPLE, rotations=one_layer(layer))

    found = schedule.shift_at("r", at)
    following = schedule.shift_at("r", found.end)

    k = first_turn_at_or_before(layer, at)
    assert found.start <= at < found.end
    person = layer.members[k % len(layer.members)]
    assert found == Shift("r", person, layer.handoff(k), layer.handoff(k + 1), False)
    assert following.start == found.end  # no gap, no overlap


overrides = st.lists(
    st.tuples(
        st.sampled_from(list(PEOPLE)),
        later,
        st.timedeltas(timedelta(minutes=1), timedelta(days=10)),
    ),
    max_size=4,
)


@settings(deadline=None)
@given(
    layer=layers,
    written=overrides,
    after=later,
    span=st.timedeltas(timedelta(minutes=1), timedelta(days=14)),
)
def test_it_lists_shifts_that_tile_the_span_even_with_overrides(layer, written, after, span):
    base = layer.handoff(0)
    schedule = Schedule(
        people=PEOPLE,
        rotations=one_layer(layer),
        overrides=tuple(
            Override("r", p, base + at, base + at + length) for p, at, length in written
        ),
    )
    start = base + after - timedelta(days=1)

    listed = schedule.shifts("r", start, start + span)

    assert_tiles(listed, start, start + span)
    for shift_ in listed:
        assert schedule.shift_at("r", shift_.start) == shift_
