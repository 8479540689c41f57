"""Rotation files to a Schedule: every problem reported at once, as `file:line: message`."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from textwrap import dedent

from pager.domain.layers import Layer
from pager.domain.rotation_schema import parse_schedule
from pager.domain.rotations import Override, Person, Policy, Rotation, Service, Step, Target

EXAMPLE = Path(__file__).parents[2] / "rotations" / "example.yaml"

PEOPLE = """\
people:
  alice: {name: Alice Example, phone: "+447700900101", timezone: Europe/London}
  bob:   {name: Bob Example,   phone: "+447700900102", timezone: America/New_York}
  carol: {name: Carol Example, phone: "+447700900103", timezone: Europe/Berlin}
"""
ROTATION = """\
rotations:
  sre-primary:
    timezone: Europe/London
    start: 2026-01-05T09:00
    shift: 1w
    members: [alice, bob]
"""


def problems(*files: tuple[str, str]) -> list[str]:
    schedule, found = parse_schedule([(name, dedent(text)) for name, text in files])
    assert (schedule is None) == bool(found)
    return [str(problem) for problem in found]


def problems_in(text: str) -> list[str]:
    return problems(("r.yaml", text))


def test_it_loads_the_shipped_example():
    schedule, found = parse_schedule([("rotations/example.yaml", EXAMPLE.read_text())])

    assert found == []
    assert schedule is not None
    assert schedule.people["bob"] == Person(
        "bob", "Bob Example", "+447700900102", "America/New_York"
    )
    assert schedule.rotations["sre-primary"] == Rotation(
        "sre-primary",
        "Europe/London",
        (Layer("Europe/London", datetime(2026, 1, 5, 9, 0), timedelta(weeks=1), ("alice", "bob")),),
    )
    assert schedule.overrides == (
        Override(
            "sre-primary",
            "carol",
            datetime(2026, 12, 24, 9, 0, tzinfo=UTC),
            datetime(2026, 12, 27, 9, 0, tzinfo=UTC),
        ),
    )
    assert schedule.policies["sre"] == Policy(
        "sre",
        1,
        (
            Step((Target("rotation", "sre-primary"),), ("sms",), timedelta(minutes=5)),
            Step((Target("rotation", "sre-primary"),), ("voice",), timedelta(minutes=5)),
            Step((Target("person", "carol"),), ("sms", "voice"), timedelta(minutes=10)),
        ),
    )
    assert schedule.services == {"payments": Service("payments", "sre")}


def test_it_merges_files_and_converts_override_times_from_the_rotations_zone():
    override = """\
        overrides:
          - {rotation: sre-primary, person: carol, from: 2026-07-01T09:00, to: 2026-07-02T09:00}
        """
    schedule, found = parse_schedule(
        [("people.yaml", PEOPLE), ("sre.yaml", ROTATION), ("o.yaml", dedent(override))]
    )

    assert found == []
    assert schedule is not None
    assert schedule.overrides[0].start == datetime(2026, 7, 1, 8, 0, tzinfo=UTC)  # BST
    assert schedule.policies == {}


def test_it_stores_phone_numbers_in_e164_form():
    schedule, _ = parse_schedule(
        [("p.yaml", 'people:\n  dan: {name: Dan, phone: "+1 (212) 555-0123", timezone: UTC}\n')]
    )

    assert schedule is not None
    assert schedule.people["dan"].phone == "+12125550123"


def test_it_reports_an_unknown_top_level_key():
    assert problems_in(PEOPLE + "peple: {}\n") == [
        "r.yaml:5: unknown top-level key 'peple' "
        "(allowed: people, rotations, overrides, policies, services, maintenance, admins)"
    ]


def test_it_reports_a_file_that_is_not_a_mapping():
    assert problems_in("- alice\n") == [
        "r.yaml:1: expected a mapping with the keys "
        "people, rotations, overrides, policies, services, maintenance, admins"
    ]


def test_it_reports_invalid_yaml_where_it_is():
    assert problems_in("people:\n  alice: {name: Alice\n") == [
        "r.yaml:3: invalid YAML: expected ',' or '}', but got '<stream end>'"
    ]


def test_it_reports_unknown_and_missing_keys_naming_the_allowed_ones():
    assert problems_in(
        """\
        people:
          alice: {name: Alice, phon: "+447700900101", timezone: Europe/London}
        rotations:
          r1:
            timezone: Europe/London
            start: 2026-01-05T09:00
        """
    ) == [
        "r.yaml:2: person 'alice' is missing 'phone'",
        "r.yaml:2: unknown key 'phon' in person 'alice' "
        "(allowed: name, phone, timezone, handoff_notices, notify, require_totp)",
        "r.yaml:4: rotation 'r1' is missing 'shift', 'members'",
    ]


def test_it_reports_an_entry_that_is_not_a_mapping():
    assert problems_in("people:\n  alice: Alice\n") == [
        "r.yaml:2: person 'alice' must be a mapping with the keys name, phone, timezone, "
        "handoff_notices, notify, require_totp"
    ]


def test_it_reports_a_bad_id():
    assert problems_in(
        'people:\n  "alice smith": {name: A, phone: "+447700900101", timezone: UTC}\n'
    ) == ["r.yaml:2: bad person id 'alice smith': use letters, digits, '.', '_' and '-'"]


def test_it_reports_unknown_people_with_a_suggestion_or_the_known_ones():
    rotation = ROTATION.replace("[alice, bob]", "[alcie, dave]")

    assert problems_in(PEOPLE + rotation) == [
        "r.yaml:10: unknown person 'alcie' (did you mean 'alice'?)",
        "r.yaml:10: unknown person 'dave' (known: alice, bob, carol)",
    ]


def test_it_reports_bad_phone_numbers():
    assert problems_in(
        """\
        people:
          a: {name: A, phone: "07700900101", timezone: UTC}
          b: {name: B, phone: "+4477009", timezone: UTC}
          c: {name: C, phone: +447700900103, timezone: UTC}
          d: {name: D, phone: "+44 call me", timezone: UTC}
        """
    ) == [
        "r.yaml:2: phone: '07700900101' must start with + and the country code, like +447700900123",
        "r.yaml:3: phone: '+4477009' is not a valid phone number",
        'r.yaml:4: phone: write the number in quotes, like "+447700900103"',
        "r.yaml:5: phone: '+44 call me' is not a phone number",
    ]


def test_it_reports_an_unknown_time_zone_with_a_suggestion():
    assert problems_in(
        """\
        people:
          a: {name: A, phone: "+447700900101", timezone: Europe/Londn}
          b: {name: B, phone: "+447700900102", timezone: Nowhere}
        """
    ) == [
        "r.yaml:2: timezone: unknown time zone 'Europe/Londn' (did you mean 'Europe/London'?)",
        "r.yaml:3: timezone: unknown time zone 'Nowhere' (use a name like Europe/London)",
    ]


def test_it_reports_bad_times_durations_and_members_in_a_rotation():
    assert problems_in(
        PEOPLE
        + dedent(
            """\
        rotations:
          a: {timezone: UTC, start: 2026-01-05 09:00, shift: 1 week, members: []}
          b: {timezone: UTC, start: 2026-02-30T09:00, shift: 0h, members: alice}
        """
        )
    ) == [
        "r.yaml:6: start: expected a local time like 2026-01-05T09:00, got '2026-01-05 09:00'",
        "r.yaml:6: shift: expected a duration like 30s, 5m, 2h, 1d or 1w, got '1 week'",
        "r.yaml:6: members: must not be empty",
        "r.yaml:7: start: '2026-02-30T09:00' is not a real date and time",
        "r.yaml:7: shift: must be at least 1h, like 8h, 1d or 1w",
        "r.yaml:7: members: expected a list, got 'alice'",
    ]


def test_it_reports_an_override_that_ends_before_it_starts():
    override = """\
        overrides:
          - {rotation: sre-primary, person: carol, from: 2026-12-27T09:00, to: 2026-12-24T09:00}
        """

    assert problems_in(PEOPLE + ROTATION + dedent(override)) == [
        "r.yaml:12: 'from' must be before 'to' (from 2026-12-27T09:00, to 2026-12-24T09:00)"
    ]


def test_it_reports_overlapping_overrides_naming_both_lines():
    first = """\
overrides:
  - {rotation: sre-primary, person: carol, from: 2026-12-24T09:00, to: 2026-12-27T09:00}
"""
    second = """\
        overrides:
          - {rotation: sre-primary, person: alice, from: 2026-12-20T09:00, to: 2026-12-24T09:00}
          - {rotation: sre-primary, person: bob, from: 2026-12-26T09:00, to: 2026-12-28T09:00}
        """

    assert problems(("a.yaml", PEOPLE + ROTATION + first), ("b.yaml", second)) == [
        "b.yaml:3: override overlaps the override at a.yaml:12 on rotation 'sre-primary'"
    ]


def test_it_reports_unknown_names_in_an_override():
    override = """\
        overrides:
          - {rotation: sre-primry, person: carl, from: 2026-12-24T09:00, to: 2026-12-27T09:00}
        """

    assert problems_in(PEOPLE + ROTATION + dedent(override)) == [
        "r.yaml:12: unknown rotation 'sre-primry' (did you mean 'sre-primary'?)",
        "r.yaml:12: unknown person 'carl' (did you mean 'carol'?)",
    ]


def test_it_reports_a_name_defined_in_two_files_naming_both_places():
    again = 'people:\n  bob: {name: Other Bob, phone: "+447700900109", timezone: UTC}\n'

    assert problems(("a.yaml", PEOPLE), ("b.yaml", again)) == [
        "b.yaml:2: person 'bob' is already defined at a.yaml:3"
    ]


def test_it_reports_bad_steps_in_a_policy():
    assert problems_in(
        PEOPLE
        + ROTATION
        + dedent(
            """\
        policies:
          sre:
            repeat: -1
            steps:
              - {targets: [rotaton:sre-primary], channels: [email], wait: 5m}
              - {targets: [rotation:sre-primray, person:dave], channels: [], wait: soon}
              - {targets: [policy:nope], channels: [sms], delay: 5m}
          empty: {steps: []}
        """
        )
    ) == [
        "r.yaml:13: repeat: expected a whole number, 0 or more, got -1",
        "r.yaml:15: bad target 'rotaton:sre-primary' "
        "(write rotation:<id>, members:<rotation>, person:<id> or policy:<id>)",
        "r.yaml:15: unknown channel 'email' (allowed: sms, voice)",
        "r.yaml:16: unknown rotation 'sre-primray' (did you mean 'sre-primary'?)",
        "r.yaml:16: unknown person 'dave' (known: alice, bob, carol)",
        "r.yaml:16: channels: must not be empty",
        "r.yaml:16: wait: expected a duration like 30s, 5m, 2h, 1d or 1w, got 'soon'",
        "r.yaml:17: step 3 of policy 'sre' is missing 'wait'",
        "r.yaml:17: unknown policy 'nope' (known: empty, sre)",
        "r.yaml:17: unknown key 'delay' in step 3 of policy 'sre' "
        "(allowed: targets, channels, wait, round_robin)",
        "r.yaml:18: steps: must not be empty",
    ]


def test_it_reports_a_policy_cycle_as_the_chain():
    assert problems_in(
        PEOPLE
        + dedent(
            """\
        policies:
          a:
            steps:
              - {targets: [policy:b], channels: [sms], wait: 5m}
          b:
            steps:
              - {targets: [person:alice, policy:a], channels: [sms], wait: 5m}
          c:
            steps:
              - {targets: [policy:c], channels: [sms], wait: 5m}
          d:
            steps:
              - {targets: [person:bob], channels: [sms], wait: 5m}
              - {targets: [policy:d], channels: [sms], wait: 5m}
        """
        )
    ) == [
        "r.yaml:11: policy cycle: a -> b -> a",
        "r.yaml:14: policy cycle: c -> c",
    ]


def test_it_reports_an_unknown_policy_for_a_service():
    assert problems_in("services:\n  payments: {policy: sre}\n") == [
        "r.yaml:2: unknown policy 'sre' (none defined)"
    ]


def test_it_reports_every_problem_in_file_then_line_order():
    broken_people = """\
        people:
          alice: {name: Alice, phone: "+447700900101", timezone: Mars/Base}
        """
    broken_rotation = ROTATION.replace("shift: 1w", "shift: 1y")

    assert problems(("a.yaml", broken_rotation), ("b.yaml", broken_people)) == [
        "a.yaml:5: shift: expected a duration like 30s, 5m, 2h, 1d or 1w, got '1y'",
        "a.yaml:6: unknown person 'bob' (known: alice)",
        "b.yaml:2: timezone: unknown time zone 'Mars/Base' (use a name like Europe/London)",
    ]


def test_it_refuses_shifts_shorter_than_an_hour_where_they_are_written():
    for short in ("1s", "1m", "59m"):
        rotation = ROTATION.replace("shift: 1w", f"shift: {short}")
        assert problems_in(PEOPLE + rotation) == [
            "r.yaml:9: shift: must be at least 1h, like 8h, 1d or 1w"
        ]
    assert problems_in(PEOPLE + ROTATION.replace("shift: 1w", "shift: 1h")) == []


def test_it_refuses_control_characters_in_names_where_they_are_written():
    for bad, code in (
        ("\\r", "000D"),
        ("\\x1b[2J", "001B"),
        ("\\u2028", "2028"),
        ("\\u202e", "202E"),
    ):
        text = PEOPLE.replace("name: Bob Example", f'name: "Bob{bad}Example"')
        [problem] = problems_in(text)
        assert problem.startswith("r.yaml:3: ") and f"control character U+{code}" in problem
    assert problems_in(PEOPLE.replace("Bob Example", "Bøb Éxample 😀")) == []
