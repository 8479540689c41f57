"""The console's commands by SMS as parse_reply reads them: ESC, SNOOZE, NOTE, ONCALL, STATUS,
HELP <command>; any case, any spacing, bad durations and codes said plainly."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pager.domain.durations import format_duration
from pager.domain.replies import Reply, parse_reply

codes = st.from_regex(r"[0-9]{4,8}", fullmatch=True)
spacing = st.text(" \t", min_size=1, max_size=3)
edges = st.text(" \t", max_size=3)
lengths = st.integers(1, 7 * 24 * 3600).map(lambda s: timedelta(seconds=s))
# A note: some words, not starting with a code-like number (that would be read as the code).
notes = st.lists(
    st.text("abcdefghijklmnopqrstuvwxyzABCXYZ.,!?'-()/", min_size=1, max_size=12),
    min_size=1,
    max_size=8,
).map(" ".join)


def any_case(word: str) -> st.SearchStrategy[str]:
    flips = st.lists(st.booleans(), min_size=len(word), max_size=len(word))
    return flips.map(
        lambda up: "".join(c.upper() if u else c.lower() for c, u in zip(word, up, strict=True))
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ESC 4821", Reply("escalate", "4821")),
        ("esc4821", Reply("escalate", "4821")),
        ("Escalate #4821.", Reply("escalate", "4821")),
        ("ESC", Reply("escalate")),
        ("SNOOZE 4821 30m", Reply("snooze", "4821", snooze=timedelta(minutes=30))),
        ("snooze 30m", Reply("snooze", snooze=timedelta(minutes=30))),
        ("SNOOZE 30M 4821", Reply("snooze", "4821", snooze=timedelta(minutes=30))),
        ("Snooze 4821 1h 30m", Reply("snooze", "4821", snooze=timedelta(minutes=90))),
        ("snooze 4821 2 hours", Reply("snooze", "4821", snooze=timedelta(hours=2))),
        ("snooze 4821 45 min!", Reply("snooze", "4821", snooze=timedelta(minutes=45))),
        ("NOTE 4821 restarted the primary.", Reply("note", "4821", text="restarted the primary.")),
        ("note: 4821, db back 👍", Reply("note", "4821", text="db back 👍")),
        ("NOTE failover done", Reply("note", text="failover done")),
        ("note 12 hosts rebooted", Reply("note", text="12 hosts rebooted")),
        ("NOTE  4821   two   spaces ", Reply("note", "4821", text="two spaces")),
        ("ONCALL", Reply("oncall")),
        ("on call", Reply("oncall")),
        ("On-Call sre-primary", Reply("oncall", text="sre-primary")),
        ("oncall   DB ", Reply("oncall", text="DB")),
        ("STATUS", Reply("status")),
        ("status?", Reply("status")),
        ("Status please", Reply("status")),
        ("HELP", Reply("help")),
        ("help snooze", Reply("help", text="snooze")),
        ("HELP ESC", Reply("help", text="escalate")),
        ("help ack", Reply("help", text="ack")),
        ("HELP me", Reply("help")),
        (
            "SNOOZE 4821 30m\nSent from my iPhone",
            Reply("snooze", "4821", snooze=timedelta(0, 1800)),
        ),
    ],
)
def test_it_understands_each_console_command(text: str, expected: Reply) -> None:
    assert parse_reply(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("SNOOZE 4821", "SNOOZE needs how long"),
        ("SNOOZE", "SNOOZE needs how long"),
        ("SNOOZE 4821 30x", "'30x' is not a duration"),
        ("SNOOZE 4821 30", "'30' is not a duration"),
        ("SNOOZE 30", "'30' is not a duration"),
        ("SNOOZE 4821 half an hour", "'half an hour' is not a duration"),
        ("SNOOZE 4821 0m", "a snooze needs a time above 0"),
        ("SNOOZE 4821 ３０m", "'３０m' is not a duration"),  # full-width digits
        ("SNOOZE 4821 99999999999999999999w", "'99999999999999999...' is not a duration"),
        ("ESC 4821 now", "ESC takes a code only"),
        ("ESC 12", "'12' is not a code (4 to 8 digits)"),
        ("ESC 123456789", "'123456789' is not a code (4 to 8 digits)"),
        ("NOTE 4821", "NOTE needs the note"),
        ("NOTE", "NOTE needs the note"),
    ],
)
def test_it_says_what_is_wrong_with_a_command_written_wrong(text: str, problem: str) -> None:
    reply = parse_reply(text)
    assert reply.kind != "unknown"
    assert reply.problem == problem


@pytest.mark.parametrize(
    "text",
    ["who is this?", "escape", "snoozed", "notes 4821 x", "oncalls", "statuses", "ＥＳＣ 4821"],
)
def test_it_takes_no_other_word_for_a_command(text: str) -> None:
    assert parse_reply(text).kind == "unknown"


@given(st.text())
def test_it_never_raises_on_anything_after_a_command_word(rest: str) -> None:
    for word in ("ESC ", "SNOOZE ", "NOTE ", "ONCALL ", "STATUS ", "HELP ", "SNOOZE 4821 "):
        assert isinstance(parse_reply(word + rest), Reply)


@given(word=any_case("ESC"), code=codes, before=edges, between=spacing, after=edges)
def test_it_reads_any_esc(word: str, code: str, before: str, between: str, after: str) -> None:
    assert parse_reply(f"{before}{word}{between}{code}{after}") == Reply("escalate", code)


@given(
    word=any_case("SNOOZE"),
    code=codes,
    length=lengths,
    upper=st.booleans(),
    code_last=st.booleans(),
    between=spacing,
    after=edges,
)
def test_it_reads_any_snooze(
    word: str,
    code: str,
    length: timedelta,
    upper: bool,
    code_last: bool,
    between: str,
    after: str,
) -> None:
    written = format_duration(length)
    written = written.upper() if upper else written
    parts = (written, code) if code_last else (code, written)
    text = f"{word}{between}{between.join(parts)}{after}"
    assert parse_reply(text) == Reply("snooze", code, snooze=length)


@given(word=any_case("SNOOZE"), length=lengths, between=spacing)
def test_it_reads_a_bare_snooze(word: str, length: timedelta, between: str) -> None:
    assert parse_reply(f"{word}{between}{format_duration(length)}") == Reply(
        "snooze", snooze=length
    )


@given(word=any_case("SNOOZE"), code=codes, junk=st.text("xyzq!@%", min_size=1, max_size=5))
def test_it_refuses_a_duration_it_cannot_read(word: str, code: str, junk: str) -> None:
    reply = parse_reply(f"{word} {code} 30{junk}")
    assert reply.kind == "snooze" and reply.snooze is None
    assert reply.problem is not None and reply.problem.endswith("is not a duration")


@given(word=any_case("NOTE"), code=codes, note=notes, between=spacing)
def test_it_reads_any_note(word: str, code: str, note: str, between: str) -> None:
    expected = " ".join(re.sub(r"^[\s#:,;.-]+", "", note).split())
    reply = parse_reply(f"{word}{between}{code}{between}{note}")
    if expected:
        assert reply == Reply("note", code, text=expected)
    else:
        assert reply == Reply("note", code, problem="NOTE needs the note")


@given(word=any_case("ONCALL"), rotation=st.from_regex(r"[a-z][a-z0-9-]{0,30}", fullmatch=True))
def test_it_reads_any_oncall(word: str, rotation: str) -> None:
    assert parse_reply(f" {word}  {rotation} ") == Reply("oncall", text=rotation)
    assert parse_reply(word) == Reply("oncall")


@given(word=any_case("STATUS"), after=edges)
def test_it_reads_any_status(word: str, after: str) -> None:
    assert parse_reply(f"{word}{after}") == Reply("status")


@given(
    word=st.sampled_from(["ESC", "SNOOZE", "NOTE"]),
    code=st.from_regex(r"[0-9]{9,12}", fullmatch=True),
)
def test_a_code_is_never_longer_than_eight_digits(word: str, code: str) -> None:
    reply = parse_reply(f"{word} {code} 30m")
    assert reply.code is None
