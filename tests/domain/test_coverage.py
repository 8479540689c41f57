"""Coverage: when a service's first escalation step would page nobody."""

from datetime import UTC, datetime, time, timedelta

from pager.domain.coverage import Gap, service_gaps
from pager.domain.layers import Layer, Restriction, Window
from pager.domain.rotations import (
    Override,
    Person,
    Policy,
    Rotation,
    Schedule,
    Service,
    Step,
    Target,
)

PEOPLE = {
    name: Person(name, name.title(), f"+4477009001{n:02d}", "UTC")
    for n, name in enumerate(["alice", "bob", "carol"])
}
WEEK = timedelta(weeks=1)
LON, NYC = "Europe/London", "America/New_York"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def office(rotation: str, zone: str, person: str, start: str, end: str) -> Rotation:
    """`person` on call every weekday from `start` to `end` local time."""
    hours = Window(frozenset(range(5)), time.fromisoformat(start), time.fromisoformat(end))
    layer = Layer(zone, datetime(2026, 1, 5, 0, 0), WEEK, (person,), (Restriction(zone, (hours,)),))
    return Rotation(rotation, zone, (layer,))


def schedule_of(*first_step: str, overrides: tuple[Override, ...] = ()) -> Schedule:
    rotations = [office("london", LON, "alice", "09:00", "17:00"),
                 office("new-york", NYC, "bob", "09:00", "17:00")]  # fmt: skip
    step = Step(tuple(Target.parse(t) for t in first_step), ("sms",), timedelta(minutes=5))
    policies = {
        "first": Policy("first", 0, (step,)),
        "london-only": Policy("london-only", 0, (Step((Target("rotation", "london"),), (), WEEK),)),
    }
    return Schedule(
        people=PEOPLE,
        rotations={rotation.id: rotation for rotation in rotations},
        overrides=overrides,
        policies=policies,
        services={"payments": Service("payments", "first")},
    )


# Tuesday 6 January 2026, all day (UTC); London is on GMT, New York on EST (UTC-5).
TUESDAY = (utc("2026-01-06T00:00"), utc("2026-01-07T00:00"))


def test_it_finds_the_hours_a_rotation_leaves_uncovered_within_the_span():
    assert service_gaps(schedule_of("rotation:london"), *TUESDAY) == [
        Gap("payments", utc("2026-01-06T00:00"), utc("2026-01-06T09:00"), LON),
        Gap("payments", utc("2026-01-06T17:00"), utc("2026-01-07T00:00"), LON),
    ]


def test_it_counts_every_rotation_of_the_first_step_together():
    # London 09:00-17:00 UTC, New York 14:00-22:00 UTC.
    assert service_gaps(schedule_of("rotation:new-york", "rotation:london"), *TUESDAY) == [
        Gap("payments", utc("2026-01-06T00:00"), utc("2026-01-06T09:00"), NYC),
        Gap("payments", utc("2026-01-06T22:00"), utc("2026-01-07T00:00"), NYC),
    ]


def test_it_follows_a_policy_target_to_that_policys_first_step():
    assert service_gaps(schedule_of("policy:london-only"), *TUESDAY) == service_gaps(
        schedule_of("rotation:london"), *TUESDAY
    )


def test_it_counts_overrides_as_cover():
    evening = Override("london", "carol", utc("2026-01-06T17:00"), utc("2026-01-07T00:00"))

    assert service_gaps(schedule_of("rotation:london", overrides=(evening,)), *TUESDAY) == [
        Gap("payments", utc("2026-01-06T00:00"), utc("2026-01-06T09:00"), LON),
    ]


def test_it_finds_no_gap_when_the_first_step_pages_a_person():
    assert service_gaps(schedule_of("rotation:london", "person:carol"), *TUESDAY) == []


def test_it_describes_a_gap_in_local_time():
    gap = Gap("payments", utc("2026-03-28T00:00"), utc("2026-03-29T23:00"), LON)

    assert gap.describe() == (
        "service 'payments' has nobody on call from Sat 2026-03-28 00:00 "
        "to Mon 2026-03-30 00:00 (Europe/London)"
    )
