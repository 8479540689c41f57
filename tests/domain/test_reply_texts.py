"""The answers to SMS replies and commands: exact texts, one GSM-7 segment whatever the facts,
long lists cut with a count of what is left out."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pager.domain.messages import is_gsm7, segments, septets
from pager.domain.reply_texts import (
    USAGE,
    OnCallLine,
    StatusLine,
    help_text,
    local_time,
    oncall_text,
    problem_text,
    reply_text,
    status_text,
    unknown_rotation,
    which_one,
)

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # a Wednesday


@pytest.mark.parametrize(
    ("kind", "facts", "expected"),
    [
        (
            "acknowledged",
            {"number": 12, "service": "payments", "title": "HighErrorRate", "code": "4821"},
            "Acknowledged #12 payments: HighErrorRate. Reply RES 4821 when resolved.",
        ),
        (
            "resolved",
            {"number": 12, "service": "payments", "title": "HighErrorRate"},
            "Resolved #12 payments: HighErrorRate.",
        ),
        (
            "resolved",
            {"number": 12, "service": "payments", "title": "Disk “almost” full."},
            'Resolved #12 payments: Disk "almost" full.',
        ),
        (
            "already_acknowledged",
            {"number": 12, "by": "Alice Example"},
            "#12 was already acknowledged by Alice Example.",
        ),
        ("already_resolved", {"number": 12}, "#12 is already resolved."),
        (
            "unknown_code",
            {"code": "4821"},
            "No open page with code 4821 for this number. Reply HELP for help.",
        ),
        ("nothing_open", {}, "You have no open pages."),
        ("locked", {"minutes": 15}, "Too many wrong codes. Try again in 15 minutes."),
        ("locked", {"minutes": 1}, "Too many wrong codes. Try again in 1 minute."),
        ("stopped", {}, "You will get no more SMS pages from pager. Reply START to resume."),
        ("started", {}, "SMS pages from pager resumed."),
        ("not_understood", {}, "Not understood. Reply HELP for the commands."),
        (
            "escalated",
            {"number": 12, "step": "step 2 of 3, calling Bob Example now"},
            "Escalated #12: step 2 of 3, calling Bob Example now.",
        ),
        (
            "not_escalating",
            {"number": 12, "by": "Alice Example"},
            "#12 is not escalating: it was acknowledged by Alice Example.",
        ),
        (
            "snoozed",
            {
                "number": 12,
                "service": "payments",
                "title": "HighErrorRate",
                "until": "03:30",
                "code": "4821",
            },
            "Snoozed #12 payments: HighErrorRate. Pages again at 03:30 unless resolved (RES 4821).",
        ),
        (
            "snooze_too_long",
            {"longest": "4h"},
            "A snooze lasts 4h at most. Reply SNOOZE <code> 4h, or less.",
        ),
        (
            "noted",
            {"number": 12, "service": "payments", "title": "HighErrorRate"},
            "Noted on #12 payments: HighErrorRate.",
        ),
    ],
)
def test_it_writes_each_auto_reply(kind, facts, expected):
    text = reply_text(kind, **facts)
    assert text == expected
    assert segments(text) == 1


def test_it_shortens_a_long_title_to_one_sms_reply():
    text = reply_text(
        "acknowledged", number=12, service="payments", title="Very long title " * 30, code="4821"
    )
    assert text.startswith("Acknowledged #12 payments: Very long title Very")
    assert text.endswith("title Very... Reply RES 4821 when resolved.")
    assert septets(text) == 160


def test_it_shortens_a_long_name_to_one_sms_reply():
    text = reply_text("already_acknowledged", number=12, by="Alice " * 100)
    assert text.startswith("#12 was already acknowledged by Alice Alice")
    assert text.endswith("Alice...")
    assert septets(text) <= 160


def test_it_lists_as_many_codes_as_fit_in_one_sms_and_counts_the_rest():
    text = which_one([f"{n:04d}" for n in range(100)])
    assert text.startswith("You have 100 open pages. Reply ACK <code>: 0000, 0001, ")
    assert text.endswith(", 0016 (+83 more).")
    assert septets(text) <= 160


def test_it_asks_which_page_in_the_words_of_the_command():
    assert which_one(["4821", "1234"], "SNOOZE <code> 30m") == (
        "You have 2 open pages. Reply SNOOZE <code> 30m: 4821, 1234."
    )
    assert which_one(["4821"]) == "You have 1 open page. Reply ACK <code>: 4821."


@pytest.mark.parametrize(
    ("kind", "facts", "message"),
    [
        ("shrug", {}, "unknown reply kind 'shrug'"),
        ("resolved", {"number": 12, "title": "x"}, "needs the fact 'service'"),
        ("locked", {"minutes": "soon"}, "whole number"),
    ],
)
def test_it_names_what_a_reply_is_missing(kind, facts, message):
    with pytest.raises(ValueError, match=message):
        reply_text(kind, **facts)


def test_which_one_needs_codes():
    with pytest.raises(ValueError, match="non-empty list"):
        which_one([])


def test_help_lists_every_command_in_one_segment():
    text = help_text()
    for word in ("ACK", "RES", "ESC", "SNOOZE", "NOTE", "ONCALL", "STATUS", "STOP", "START"):
        assert word in text
    assert is_gsm7(text) and septets(text) <= 160


@pytest.mark.parametrize("asked", sorted(USAGE))
def test_help_on_each_command_is_one_segment(asked):
    text = help_text(asked, timedelta(hours=4))
    assert is_gsm7(text) and segments(text) == 1


def test_help_on_snooze_names_the_longest_snooze():
    assert "At most 1h30m;" in help_text("snooze", timedelta(minutes=90))


def test_it_says_what_is_wrong_then_how_to_write_it():
    assert problem_text("snooze", "'30x' is not a duration", timedelta(hours=2)) == (
        "'30x' is not a duration. SNOOZE <code> 30m acknowledges now and pages again after 30m "
        "unless resolved. At most 2h; 90s, 2h, 1h30m work too."
    )


@given(st.text(max_size=400), st.sampled_from(sorted(USAGE)))
def test_a_problem_answer_is_always_one_gsm7_segment(problem, kind):
    text = problem_text(kind, problem or "x")
    assert is_gsm7(text) and septets(text) <= 160


def test_it_tells_who_is_on_call_now_and_next_in_the_askers_time_zone():
    # 03:00 UTC on Wednesday is 22:00 on Tuesday in New York: Wednesday is another day there.
    lines = [
        OnCallLine("sre", "Alice Example", datetime(2026, 11, 30, 9, tzinfo=UTC), "Bob Example"),
        OnCallLine("db", None, datetime(2026, 11, 25, 18, 0, tzinfo=UTC), "Carol Example"),
    ]
    assert oncall_text(lines, "America/New_York", NOW) == (
        "On call (America/New_York): sre Alice Example until Mon 04:00, then Bob Example; db "
        "nobody until Wed 13:00, then Carol Example."
    )
    assert oncall_text(lines[1:], "Europe/London", NOW) == (
        "On call (Europe/London): db nobody until 18:00, then Carol Example."
    )


def test_it_says_when_a_shift_has_no_end():
    line = OnCallLine("forever", "Carol Example", None, None)
    assert oncall_text([line], "UTC", NOW) == "On call (UTC): forever Carol Example, no end."


def test_it_dates_a_handoff_more_than_a_week_away():
    far = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
    assert local_time(far, "Europe/Berlin", NOW) == "Thu 10 Dec 10:00"
    assert local_time(NOW + timedelta(hours=1), "Europe/Berlin", NOW) == "05:00"
    assert local_time(NOW + timedelta(days=1), "Europe/Berlin", NOW) == "Thu 04:00"


def test_it_cuts_a_long_oncall_answer_with_a_count_of_what_is_left_out():
    lines = [
        OnCallLine(f"rotation-{n}", "Alice Example", NOW + timedelta(hours=5), "Bob Example")
        for n in range(8)
    ]
    text = oncall_text(lines, "UTC", NOW)
    assert text.startswith("On call (UTC): rotation-0 Alice Example until 08:00, then Bob Example;")
    assert text.endswith(" (+6 more).")
    assert septets(text) <= 160


names = st.text(min_size=1, max_size=300)


@given(
    st.lists(
        st.builds(
            OnCallLine,
            rotation=names,
            person=st.none() | names,
            until=st.none() | st.datetimes(timezones=st.just(UTC)),
            then=st.none() | names,
        ),
        min_size=1,
        max_size=30,
    ),
    st.sampled_from(["UTC", "Europe/London", "America/New_York", "Asia/Kolkata"]),
)
def test_an_oncall_answer_is_always_one_gsm7_segment(lines, timezone):
    text = oncall_text(lines, timezone, NOW)
    assert is_gsm7(text) and septets(text) <= 160
    assert text.startswith(f"On call ({timezone}):")


def test_it_lists_open_incidents_with_their_codes_and_states():
    lines = [
        StatusLine(12, "payments", "triggered", "4821"),
        StatusLine(13, "db", "acknowledged", "5521", "Bob Example", NOW + timedelta(minutes=40)),
        StatusLine(14, "web", "acknowledged", "7001", "Carol Example"),
    ]
    assert status_text(lines, "Europe/London", NOW) == (
        "3 open: #12 payments triggered, code 4821; #13 db acked by Bob Example until 03:40, "
        "code 5521; #14 web acked by Carol Example, code 7001."
    )
    assert status_text([], "UTC", NOW) == "You have no open pages."


@given(
    st.lists(
        st.builds(
            StatusLine,
            number=st.integers(1, 10**9),
            service=names,
            status=st.sampled_from(["triggered", "acknowledged"]),
            code=st.from_regex(r"[0-9]{4,8}", fullmatch=True),
            by=st.none() | names,
            until=st.none() | st.datetimes(timezones=st.just(UTC)),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_a_status_answer_is_always_one_gsm7_segment(lines):
    text = status_text(lines, "Europe/London", NOW)
    assert is_gsm7(text) and septets(text) <= 160
    assert text.startswith(f"{len(lines)} open: ")


def test_it_names_the_rotations_there_are_when_asked_about_another():
    assert unknown_rotation("sre-primray", ["db", "sre-primary"]) == (
        "No rotation 'sre-primray'. There are: db, sre-primary."
    )
    long = unknown_rotation("x" * 200, [f"rotation-{n}" for n in range(40)])
    assert septets(long) <= 160 and long.endswith(" more).")
