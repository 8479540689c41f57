"""The rotation page's two-week grid (`flows.on_call.two_weeks`), a pure function of the
schedule and `now`: who covers each stretch of each local day, overrides marked, gaps left as
nobody, and the day the clocks change one hour shorter."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from pager.domain.rotation_schema import parse_schedule
from pager.flows.on_call import two_weeks

LONDON = ZoneInfo("Europe/London")
TEAM = """\
people:
  alice: {name: Alice, phone: "+447700900101", timezone: Europe/London}
  bob: {name: Bob, phone: "+447700900102", timezone: Europe/London}
  carol: {name: Carol, phone: "+447700900103", timezone: Europe/London}
rotations:
  office:
    timezone: Europe/London
    start: 2026-03-23
    handoff: "09:00"
    shift: 1d
    members: [alice, bob]
    restrict:
      - {days: mon-fri, from: "09:00", to: "18:00"}
overrides:
  - {rotation: office, person: carol, from: 2026-03-24T12:00, to: 2026-03-24T14:00}
policies:
  p: {steps: [{targets: [rotation:office], wait: 5m}]}
services:
  s: {policy: p}
"""


def test_it_draws_each_day_with_overrides_gaps_and_a_short_dst_day() -> None:
    schedule, problems = parse_schedule([("team.yaml", TEAM)])
    assert schedule is not None, problems
    now = datetime(2026, 3, 23, 10, 30, tzinfo=UTC)  # Monday; the clocks go forward on the 29th
    days, legend = two_weeks(schedule, "office", now, LONDON)

    assert len(days) == 14 and days[0].label == "Mon 23 Mar" and days[-1].label == "Sun 05 Apr"
    monday = days[0]
    assert [(s.x, s.width, s.person) for s in monday.stretches] == [
        (0, 540, None),  # nobody until 09:00
        (540, 540, "Alice"),
        (1080, 360, None),
    ]
    tuesday = days[1]
    assert [(s.x, s.width, s.person, s.override) for s in tuesday.stretches] == [
        (0, 540, None, False),
        (540, 180, "Bob", False),
        (720, 120, "Carol", True),  # the override, 12:00 to 14:00
        (840, 240, "Bob", False),
        (1080, 360, None, False),
    ]
    saturday, sunday = days[5], days[6]
    assert [(s.width, s.person) for s in saturday.stretches] == [(1440, None)]
    assert sunday.minutes == 1380 and [(s.width, s.person) for s in sunday.stretches] == [
        (1380, None)
    ]
    assert sum(s.width for s in days[7].stretches) == 1440
    assert legend == [("Alice", 0), ("Bob", 1), ("Carol", 2)]
    colours = {s.person: s.colour for day in days for s in day.stretches}
    assert colours == {None: None, "Alice": 0, "Bob": 1, "Carol": 2}
