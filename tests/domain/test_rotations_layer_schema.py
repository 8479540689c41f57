"""Rotation files with layers, handoffs and restriction windows; the documented examples."""

import re
from datetime import datetime, time, timedelta
from pathlib import Path
from textwrap import dedent

from pager.domain.layers import Layer, Restriction, Window
from pager.domain.rotation_schema import parse_schedule
from pager.domain.rotations import Rotation
from tests.domain.test_rotation_schema import EXAMPLE, PEOPLE, ROTATION, problems_in


def test_it_reads_layers_with_their_zones_handoffs_and_windows():
    schedule, found = parse_schedule(
        [
            ("people.yaml", PEOPLE),
            (
                "sun.yaml",
                dedent(
                    """\
                    rotations:
                      sun:
                        timezone: Europe/London
                        restrict: [{days: mon-fri}]
                        layers:
                          - start: 2026-01-05
                            handoff: mon 09:00
                            shift: 1w
                            members: [alice, carol]
                            restrict: [{days: mon-fri, from: "07:00", to: "19:00"}]
                          - timezone: America/Los_Angeles
                            start: 2026-01-01
                            handoff: "11:00"
                            shift: 1d
                            members: [bob]
                            restrict:
                              - {days: [mon, wed], from: "22:00", to: "06:00"}
                              - {days: sat-sun, from: "11:00", to: "24:00"}
                    """
                ),
            ),
        ]
    )

    assert found == []
    assert schedule is not None
    weekdays = Restriction("Europe/London", (Window(frozenset(range(5)), time(0), time(0)),))
    assert schedule.rotations["sun"] == Rotation(
        "sun",
        "Europe/London",
        (
            Layer(
                "Europe/London",
                datetime(2026, 1, 5, 9, 0),
                timedelta(weeks=1),
                ("alice", "carol"),
                (
                    Restriction("Europe/London", (Window(frozenset(range(5)), time(7), time(19)),)),
                    weekdays,
                ),
            ),
            Layer(
                "America/Los_Angeles",
                datetime(2026, 1, 1, 11, 0),
                timedelta(days=1),
                ("bob",),
                (
                    Restriction(
                        "America/Los_Angeles",
                        (
                            Window(frozenset({0, 2}), time(22), time(6)),
                            Window(frozenset({5, 6}), time(11), time(0)),
                        ),
                    ),
                    weekdays,
                ),
            ),
        ),
    )


def test_it_reads_a_handoff_weekday_and_a_window_on_a_single_layer_rotation():
    schedule, found = parse_schedule(
        [
            (
                "r.yaml",
                PEOPLE
                + dedent(
                    """\
                    rotations:
                      nights:
                        timezone: America/New_York
                        start: 2026-01-01
                        handoff: friday 18:00
                        shift: 2w
                        members: [bob]
                        restrict: [{days: fri-mon, from: "18:00", to: "09:00"}]
                    """
                ),
            )
        ]
    )

    assert found == []
    assert schedule is not None
    assert schedule.rotations["nights"] == Rotation(
        "nights",
        "America/New_York",
        (
            Layer(
                "America/New_York",
                datetime(2026, 1, 2, 18, 0),  # the first Friday from the 1st
                timedelta(weeks=2),
                ("bob",),
                (
                    Restriction(
                        "America/New_York",
                        (Window(frozenset({4, 5, 6, 0}), time(18), time(9)),),
                    ),
                ),
            ),
        ),
    )


def test_it_reports_bad_windows_and_handoffs_with_the_fix():
    assert problems_in(
        PEOPLE
        + dedent(
            """\
            rotations:
              a:
                timezone: UTC
                start: 2026-01-05
                handoff: mon 09:00
                shift: 1d
                members: [alice]
                restrict:
                  - {days: mon-fry, from: "09:00", to: 18:00}
                  - {days: sat, from: "25:00"}
                  - [sat]
              b:
                timezone: UTC
                start: 2026-01-05T10:00
                handoff: mon 09:00
                shift: 1w
                members: [alice]
              c: {timezone: UTC, start: 2026-01-05, handoff: "09:00", shift: 12h, members: [bob]}
              d: {timezone: UTC, start: 2026-01-05, shift: 1d, members: [bob]}
            """
        )
    ) == [
        "r.yaml:9: handoff: a handoff weekday needs a shift of whole weeks, like 1w (shift is 1d)",
        "r.yaml:13: days: unknown day 'fry' (write mon, tue, wed, thu, fri, sat, sun)",
        'r.yaml:13: to: write the time in quotes, like "18:00"',
        "r.yaml:14: a restrict window needs both 'from' and 'to' (or neither: whole days)",
        "r.yaml:15: restrict window must be a mapping with the keys days, from, to",
        "r.yaml:18: start: 2026-01-05T10:00 is not at the handoff (mon 09:00); "
        "write the date alone, like 2026-01-05",
        "r.yaml:22: handoff: a handoff time needs a shift of whole days, like 1d or 1w "
        "(shift is 12h); give the first handoff in start instead, like 2026-01-05T09:00",
        "r.yaml:23: start: expected a local time like 2026-01-05T09:00, got '2026-01-05'",
    ]


def test_it_reports_bad_layers():
    assert problems_in(
        PEOPLE
        + dedent(
            """\
            rotations:
              a:
                timezone: UTC
                start: 2026-01-05T09:00
                layers:
                  - {start: 2026-01-05T09:00, shift: 1w, members: [alcie], timezone: Mars/Base}
                  - {start: 2026-01-05T09:00, shift: 1w}
                  - alice
              b: {timezone: UTC, layers: []}
              c:
                timezone: Europe/London
                restrict: [{days: sat-sun}]
                layers:
                  - start: 2026-01-05T09:00
                    shift: 1w
                    members: [alice]
                    restrict: [{days: mon-fri}]
            """
        )
    ) == [
        "r.yaml:8: unknown key 'start' in rotation 'a' with layers (allowed: timezone, layers, "
        "restrict)",
        "r.yaml:10: unknown person 'alcie' (did you mean 'alice'?)",
        "r.yaml:10: timezone: unknown time zone 'Mars/Base' (use a name like Europe/London)",
        "r.yaml:11: layer 2 of rotation 'a' is missing 'members'",
        "r.yaml:12: layer 3 of rotation 'a' must be a mapping with the keys start, shift, "
        "members, handoff, timezone, restrict",
        "r.yaml:13: layers: must not be empty",
        "r.yaml:18: layer 1 of rotation 'c' never applies: its restrict windows never meet the "
        "rotation's",
    ]


def test_it_locates_problems_to_the_column():
    schedule, found = parse_schedule(
        [("r.yaml", PEOPLE + ROTATION.replace("[alice, bob]", "[alice, dave]"))]
    )

    assert schedule is None
    assert [(p.where.line, p.where.column, p.message) for p in found] == [
        (10, 22, "unknown person 'dave' (known: alice, bob, carol)")
    ]


def test_it_validates_the_commented_follow_the_sun_example():
    lines = EXAMPLE.read_text().splitlines()
    first = next(n for n, line in enumerate(lines) if "# sre-follow-the-sun:" in line)
    block = []
    for line in lines[first:]:
        if not line.startswith("  # "):
            break
        block.append("  " + line[4:])
    uncommented = "\n".join([*lines[:first], *block, *lines[first + len(block) :]])

    schedule, found = parse_schedule([("example.yaml", uncommented)])

    assert found == []
    assert schedule is not None
    assert [layer.timezone for layer in schedule.rotations["sre-follow-the-sun"].layers] == [
        "Europe/London",
        "America/Los_Angeles",
    ]


def test_it_validates_every_example_in_the_docs_as_one_set():
    docs = (Path(__file__).parents[2] / "docs" / "rotations.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", docs, flags=re.DOTALL)

    schedule, found = parse_schedule(
        [(f"docs-{n}.yaml", block) for n, block in enumerate(blocks, start=1)]
    )

    assert [str(problem) for problem in found] == []
    assert schedule is not None
    assert len(blocks) == 10
    assert set(schedule.services) == {"payments", "postgres", "website"}
    assert set(schedule.services["payments"].templates) == {"sms", "voice"}
    assert len(schedule.rotations["follow-the-sun"].layers) == 2
    assert schedule.admins == {"carol"}
