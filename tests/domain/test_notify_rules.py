"""Per-person notification rules: `notify:` in the rotation files, and how a step plans pages."""

from datetime import UTC, datetime, timedelta
from textwrap import dedent

import pytest

from pager.domain.notify_rules import NotifyRule, NotifyRules, PlannedPage, describe, plan_pages
from pager.domain.rotation_schema import parse_schedule
from pager.domain.rotations import Person, Policy, Step, Target

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def located(text: str) -> list[str]:
    """The problems in one file, as `pager check` shows them: line:column: message."""
    schedule, found = parse_schedule([("r.yaml", dedent(text))])
    assert (schedule is None) == bool(found)
    return [f"{p.where.line}:{p.where.column}: {p.message}" for p in found]


def test_it_reads_rules_per_urgency_and_one_list_for_both():
    schedule, found = parse_schedule(
        [
            (
                "r.yaml",
                dedent(
                    """\
                    people:
                      alice:
                        name: Alice Example
                        phone: "+447700900101"
                        timezone: Europe/London
                        notify:
                          high: [sms, voice after 2m]
                          low: [sms]
                      bob: {name: Bob, phone: "+447700900102", timezone: UTC,
                            notify: [voice, sms after 1h30m]}
                      carol: {name: Carol, phone: "+447700900103", timezone: UTC,
                              notify: {low: [sms after 5m]}}
                      dave: {name: Dave, phone: "+447700900104", timezone: UTC}
                    """
                ),
            )
        ]
    )

    assert found == []
    assert schedule is not None
    assert schedule.people["alice"] == Person(
        "alice",
        "Alice Example",
        "+447700900101",
        "Europe/London",
        notify=NotifyRules(
            high=(NotifyRule("sms"), NotifyRule("voice", 2 * MINUTE)),
            low=(NotifyRule("sms"),),
        ),
    )
    both = (NotifyRule("voice"), NotifyRule("sms", timedelta(hours=1, minutes=30)))
    assert schedule.people["bob"].notify == NotifyRules(high=both, low=both)
    assert schedule.people["carol"].notify == NotifyRules(low=(NotifyRule("sms", 5 * MINUTE),))
    assert schedule.people["dave"].notify == NotifyRules()  # no rules: as before


def test_it_lets_a_step_leave_out_its_channels_and_keeps_that_in_the_snapshot():
    schedule, found = parse_schedule(
        [
            (
                "r.yaml",
                dedent(
                    """\
                    people:
                      alice: {name: Alice, phone: "+447700900101", timezone: UTC}
                    policies:
                      sre:
                        steps:
                          - {targets: [person:alice], wait: 5m}
                          - {targets: [person:alice], channels: [voice], wait: 5m}
                    """
                ),
            )
        ]
    )

    assert found == [] and schedule is not None
    policy = schedule.policies["sre"]
    assert [step.channels for step in policy.steps] == [(), ("voice",)]
    assert Policy.from_snapshot(schedule.policy_snapshot("sre")) == policy


def test_it_reads_a_snapshot_taken_before_steps_could_leave_out_channels():
    old = {"id": "sre", "repeat": 0, "steps": [{"targets": ["person:alice"], "wait_seconds": 60}]}

    assert Policy.from_snapshot(old).steps == (Step((Target("person", "alice"),), (), MINUTE),)


def test_it_reports_every_bad_rule_where_it_is_written():
    assert located(
        """\
        people:
          alice:
            name: Alice
            phone: "+447700900101"
            timezone: Europe/London
            notify:
              high: [sms, email after 2m, voice 2m, {voice: 2m}, voice after soon, sms]
              low: []
              urgent: [sms]
          bob: {name: Bob, phone: "+447700900102", timezone: UTC, notify: sms}
          carol: {name: Carol, phone: "+447700900103", timezone: UTC, notify: {}}
          dave: {name: Dave, phone: "+447700900104", timezone: UTC, notify: [voice after 1m, 3, voice after 60s]}
        """  # noqa: E501
    ) == [
        "7:19: high: unknown channel 'email' (allowed: sms, voice)",
        "7:35: high: write 'voice after 2m', got 'voice 2m'",
        "7:45: high: write the rule as text, like 'voice after 2m'",
        "7:58: high: 'voice after soon': expected a duration like 30s, 5m, 2h, 1d or 1w, "
        "got 'soon'",
        "7:76: high: 'sms' is listed twice",
        "8:7: low: must not be empty",
        "9:7: unknown key 'urgent' in notify of person 'alice' (allowed: high, low)",
        "10:59: notify: expected a list of rules like [sms, voice after 2m], "
        "or a mapping with high: and low: lists of them",
        "11:63: notify: expected a list of rules like [sms, voice after 2m], "
        "or a mapping with high: and low: lists of them",
        "12:86: notify: expected a rule like sms or 'voice after 2m', got 3",
        "12:89: notify: 'voice after 1m' is listed twice",
    ]


def test_it_names_the_allowed_keys_of_a_step_in_reading_order_with_channels_optional():
    assert located(
        """\
        people:
          alice: {name: Alice, phone: "+447700900101", timezone: UTC}
        policies:
          sre:
            steps:
              - {targets: [person:alice], channels: [], wait: 5m, notify: [sms]}
              - {targets: [person:alice]}
        """
    ) == [
        "6:35: channels: must not be empty",
        "6:59: unknown key 'notify' in step 1 of policy 'sre' "
        "(allowed: targets, channels, wait, round_robin)",
        "7:9: step 2 of policy 'sre' is missing 'wait'",
    ]


@pytest.mark.parametrize(
    "text, rule",
    [
        ("sms", NotifyRule("sms")),
        ("  voice  ", NotifyRule("voice")),
        ("voice after 2m", NotifyRule("voice", 2 * MINUTE)),
        ("sms after 0m", NotifyRule("sms")),
        ("voice after 1h 30m", NotifyRule("voice", timedelta(minutes=90))),
    ],
)
def test_it_reads_a_rule_and_writes_it_back_the_same(text, rule):
    assert NotifyRule.parse(text) == rule
    assert NotifyRule.parse(str(rule)) == rule


STEP_RULES = NotifyRules(
    high=(NotifyRule("voice", 2 * MINUTE), NotifyRule("sms")),
    low=(NotifyRule("sms"), NotifyRule("voice", timedelta(hours=1))),
)


def test_a_steps_own_channels_win_all_at_once():
    assert plan_pages(("sms", "voice"), STEP_RULES, "UTC", "high", NOW) == (
        PlannedPage("sms", NOW),
        PlannedPage("voice", NOW),
    )


def test_without_step_channels_the_rules_for_the_urgency_decide_in_time_order():
    assert plan_pages((), STEP_RULES, "UTC", "high", NOW) == (
        PlannedPage("sms", NOW),
        PlannedPage("voice", NOW + 2 * MINUTE),
    )
    assert plan_pages((), STEP_RULES, "UTC", "low", NOW) == (
        PlannedPage("sms", NOW),
        PlannedPage("voice", NOW + timedelta(hours=1)),
    )


def test_with_neither_step_channels_nor_rules_for_the_urgency_it_texts():
    only_low = NotifyRules(low=(NotifyRule("voice"),))

    assert plan_pages((), NotifyRules(), "UTC", "high", NOW) == (PlannedPage("sms", NOW),)
    assert plan_pages((), only_low, "UTC", "high", NOW) == (PlannedPage("sms", NOW),)


def test_a_later_low_urgency_page_waits_for_the_persons_morning():
    evening = datetime(2026, 11, 25, 21, 30, tzinfo=UTC)  # 21:30 in London, 22:30 in Berlin
    morning_london = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)

    pages = plan_pages((), STEP_RULES, "Europe/London", "low", evening)

    assert pages == (
        PlannedPage("sms", evening),
        PlannedPage("voice", morning_london, morning_in="Europe/London"),
    )
    assert describe(pages, evening) == "sms now, voice at 08:00 Europe/London (after quiet hours)"
    # High urgency calls at any hour.
    assert plan_pages((), STEP_RULES, "Europe/London", "high", evening)[-1] == PlannedPage(
        "voice", evening + 2 * MINUTE
    )


def test_it_describes_what_goes_now_and_what_later():
    assert describe((PlannedPage("sms", NOW), PlannedPage("voice", NOW)), NOW) == "sms and voice"
    assert (
        describe(
            (
                PlannedPage("sms", NOW),
                PlannedPage("voice", NOW),
                PlannedPage("voice", NOW + timedelta(minutes=10)),
                PlannedPage("sms", NOW + timedelta(minutes=10)),
            ),
            NOW,
        )
        == "sms and voice now, voice and sms at +10m"
    )
    assert describe((PlannedPage("voice", NOW + 90 * timedelta(seconds=1)),), NOW) == (
        "voice at +1m30s"
    )


@pytest.mark.parametrize(
    "text, message",
    [
        ("voice 5m", "write 'voice after 5m', got 'voice 5m'"),
        ("voice after", "write 'voice after 2m', got 'voice after'"),
        ("sms please", "write 'sms after 2m', got 'sms please'"),
        ("pager", "unknown channel 'pager' (allowed: sms, voice)"),
        ("", "expected a rule like sms or 'voice after 2m', got ''"),
        (None, "expected a rule like sms or 'voice after 2m', got nothing"),
        ({"email": "2m"}, "expected a rule like sms or 'voice after 2m', got {'email': '2m'}"),
    ],
)
def test_it_says_how_to_write_a_rule_it_cannot_read(text, message):
    with pytest.raises(ValueError) as error:
        NotifyRule.parse(text)
    assert str(error.value) == message
