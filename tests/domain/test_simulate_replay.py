"""domain.simulate: one incident's escalation replayed, and the weekend arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pager.domain.incident_history import parse_history
from pager.domain.rotation_schema import parse_schedule
from pager.domain.rotations import Schedule
from pager.domain.simulate import HistoricIncident, replay, simulate, weekends

PEOPLE = """
people:
  alice: {name: Alice, phone: "+447700900101", timezone: Europe/London,
          notify: {high: [sms, voice after 2m]}}
  bob: {name: Bob, phone: "+447700900102", timezone: America/New_York}
rotations:
  one: {timezone: Europe/London, start: 2026-01-05T09:00, shift: 1w, members: [alice]}
  two: {timezone: Europe/London, start: 2026-01-05T09:00, shift: 1w, members: [bob]}
"""


def schedule(extra: str) -> Schedule:
    found, problems = parse_schedule([("team.yaml", PEOPLE + extra)])
    assert found is not None, problems
    return found


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_it_leaves_out_a_later_channel_when_the_ack_comes_before_it() -> None:
    team = schedule("""
policies:
  p: {steps: [{targets: [rotation:one], wait: 10m}]}
services:
  web: {policy: p}
""")
    opened = at("2026-03-04T12:00")
    quick = HistoricIncident(1, "web", opened, acknowledged_at=opened + timedelta(minutes=1))
    slow = HistoricIncident(2, "web", opened, acknowledged_at=opened + timedelta(minutes=3))
    assert [p.channels for p in replay(team, quick, timedelta(minutes=5))] == [("sms",)]
    assert [p.channels for p in replay(team, slow, timedelta(minutes=5))] == [("sms", "voice")]


def test_it_holds_the_first_step_until_a_planned_maintenance_window_ends() -> None:
    team = schedule("""
policies:
  p: {steps: [{targets: [rotation:one], channels: [sms], wait: 10m}]}
services:
  web: {policy: p}
maintenance:
  - {service: web, from: 2026-03-04T11:00, to: 2026-03-04T13:00, timezone: UTC}
""")
    held = HistoricIncident(1, "web", at("2026-03-04T12:00"))
    over = HistoricIncident(2, "web", at("2026-03-04T12:00"), resolved_at=at("2026-03-04T12:30"))
    assert [p.at for p in replay(team, held, timedelta(minutes=5))] == [at("2026-03-04T13:00")]
    assert replay(team, over, timedelta(minutes=5)) == []  # resolved inside the window


def test_it_takes_turns_by_incident_number_in_a_round_robin_step() -> None:
    team = schedule("""
policies:
  p: {steps: [{targets: [rotation:one, rotation:two], channels: [sms], wait: 10m,
               round_robin: true}]}
services:
  web: {policy: p}
""")
    opened = at("2026-03-04T12:00")
    paged = [replay(team, HistoricIncident(n, "web", opened), timedelta(minutes=5)) for n in (1, 2)]
    assert [[p.person for p in pages] for pages in paged] == [["bob"], ["alice"]]


def test_it_runs_a_repeated_policy_until_the_acknowledgement() -> None:
    team = schedule("""
policies:
  p: {repeat: 1, steps: [{targets: [rotation:two], channels: [sms], wait: 10m}]}
services:
  web: {policy: p}
""")
    opened = at("2026-03-04T12:00")
    late = HistoricIncident(1, "web", opened, acknowledged_at=opened + timedelta(hours=1))
    pages = replay(team, late, timedelta(minutes=5))
    # The step, its repeat 10 minutes later, and then the policy has run out.
    assert [(p.step, p.at) for p in pages] == [(1, opened), (2, opened + timedelta(minutes=10))]


def test_it_counts_a_weekend_by_the_persons_own_wall_clock_across_dst() -> None:
    # New York's clocks go forward on Sunday 8 March 2026: that weekend is 47 hours. The span
    # starts at Sunday 1 March 19:00 EST: five hours of that weekend are in it.
    found = weekends("America/New_York", at("2026-03-02T00:00"), at("2026-03-16T00:00"))
    assert found == [
        (at("2026-03-02T00:00"), at("2026-03-02T05:00")),
        (at("2026-03-07T05:00"), at("2026-03-09T04:00")),
        (at("2026-03-14T04:00"), at("2026-03-16T00:00")),  # cut at the end of the span
    ]


def test_it_leaves_out_incidents_opened_outside_the_window() -> None:
    team = schedule("""
policies:
  p: {steps: [{targets: [rotation:two], channels: [sms], wait: 10m}]}
services:
  web: {policy: p}
""")
    start, end = at("2026-03-02T00:00"), at("2026-03-09T00:00")
    incidents = [
        HistoricIncident(n, "web", start + timedelta(days=d)) for n, d in ((1, -1), (2, 0), (3, 7))
    ]
    load = simulate(team, incidents, start, end, timedelta(minutes=5))
    assert load.incidents == 1 and [p.incident for p in load.pages] == [2]


def test_it_reads_each_incident_of_a_json_array_at_its_line() -> None:
    text = (
        '[\n  {"service": "web", "opened_at": "2026-03-04T12:00:00+01:00"},\n  {"service": 3}\n]\n'
    )
    incidents, problems = parse_history("h.json", text)
    assert incidents == []
    assert [str(p).partition(" (e.g.")[0] for p in problems] == ["h.json:3: missing 'opened_at'"]
    good, none = parse_history("h.json", text.replace(',\n  {"service": 3}', ""))
    assert none == [] and good[0].opened_at == at("2026-03-04T11:00") and good[0].number == 1
