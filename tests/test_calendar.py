"""iCalendar export of shifts: the exact text, folding and escaping, and the web endpoint."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from freezegun import freeze_time

from pager.app import build_pager
from pager.domain.calendar import shifts_to_ics
from pager.domain.rotations import Person, Shift
from pager.web import create_app
from tests.conftest import make_settings

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_it_writes_one_event_per_shift_with_someone_on_call() -> None:
    alice = Person("alice", "Alice Example", "+447700900101", "Europe/London")
    shifts = [
        Shift(
            "sre",
            None,
            datetime(2026, 1, 1, tzinfo=UTC),
            datetime(2026, 1, 5, 9, tzinfo=UTC),
            False,
        ),
        Shift(
            "sre",
            "alice",
            datetime(2026, 1, 5, 9, tzinfo=UTC),
            datetime(2026, 1, 12, 9, tzinfo=UTC),
            False,
        ),
    ]
    assert shifts_to_ics("On call: sre", shifts, {"alice": alice}, NOW).split("\r\n") == [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//pager//on-call schedule//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:On call: sre",
        "BEGIN:VEVENT",
        "UID:sre-20260105T090000Z-alice@pager",
        "DTSTAMP:20261125T120000Z",
        "DTSTART:20260105T090000Z",
        "DTEND:20260112T090000Z",
        "SUMMARY:On call: Alice Example (sre)",
        "DESCRIPTION:Alice Example is on call for sre (shift).",
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]


def test_it_escapes_and_folds_long_lines() -> None:
    person = Person(
        "p",
        "Zoë, the; very long-named on-call engineer of the platform team",
        "+447700900101",
        "UTC",
    )
    shift = Shift("r", "p", NOW, NOW + timedelta(hours=1), True)
    text = shifts_to_ics("x", [shift], {"p": person}, NOW)
    lines = text.split("\r\n")
    assert all(len(line.encode()) <= 75 for line in lines)
    summary = "".join(
        line[1:] if line.startswith(" ") else line
        for line in lines[lines.index("BEGIN:VEVENT") + 5 : lines.index("TRANSP:TRANSPARENT")]
    )
    assert summary.startswith("SUMMARY:On call: Zoë\\, the\\; very long-named")


def test_it_lets_no_name_start_a_line_of_its_own() -> None:
    """A name carrying CR, LF, CRLF or U+2028 (event injection) stays inside its property."""
    injected = "Eve\rEND:VEVENT\r\nBEGIN:VEVENT\nSUMMARY:Mallory\u2028X\x00\x07"
    eve = Person("eve", injected, "+447700900104", "Europe/London")
    shift = Shift("sre\r", "eve", datetime(2026, 1, 5, 9, tzinfo=UTC), NOW, False)
    ics = shifts_to_ics("sre\nX-EVIL:1", [shift], {"eve": eve}, NOW)
    unfolded = ics.replace("\r\n ", "")
    lines = unfolded.split("\r\n")
    assert lines[-1] == "" and all("\r" not in line and "\n" not in line for line in lines)
    assert [line.split(":")[0] for line in lines[:-1]] == [
        "BEGIN", "VERSION", "PRODID", "CALSCALE", "METHOD", "X-WR-CALNAME",
        "BEGIN", "UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "DESCRIPTION", "TRANSP", "END",
        "END",
    ]  # fmt: skip
    summary = next(line for line in lines if line.startswith("SUMMARY:"))
    assert summary == (
        "SUMMARY:On call: Eve\\nEND:VEVENT\\nBEGIN:VEVENT\\nSUMMARY:Mallory\\nX (sre\\n)"
    )


def test_it_serves_a_rotations_calendar_with_the_calendar_token(sqlite_url: str) -> None:
    pager = build_pager(make_settings(sqlite_url))
    client = create_app(pager).test_client()
    try:
        with freeze_time(NOW):
            url = f"/calendar/sre-primary.ics?token={pager.calendar_token}"
            response = client.get(url)
            assert response.status_code == 200
            assert response.content_type == "text/calendar; charset=utf-8"
            body = response.data.decode()
            # Alice's week (Mon 23 Nov 09:00 London) and the weeks around it, bob's in between.
            assert (
                "DTSTART:20261123T090000Z\r\nDTEND:20261130T090000Z\r\n"
                "SUMMARY:On call: Alice Example" in body
            )
            only_bob = client.get(url + "&person=bob").data.decode()
            assert "Alice" not in only_bob and "Bob Example" in only_bob
            assert client.get("/calendar/sre-primary.ics?token=nope").status_code == 401
            assert client.get(f"/calendar/nope.ics?token={pager.calendar_token}").status_code == 404
            assert client.get(url + "&person=zed").status_code == 400
    finally:
        pager.db.dispose()
