"""What every importer shares (pager/importers/plan.py, writing.py): windows from spans, ids,
numbers, the file pager reads back, the report and the check against the vendor's shifts."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from pager.domain.layers import Window
from pager.domain.notify_rules import NotifyRule, NotifyRules
from pager.importers.plan import (
    Ids,
    Note,
    Plan,
    PlannedLayer,
    PlannedOverride,
    PlannedPerson,
    PlannedRotation,
    VendorShift,
    e164,
    span_windows,
)
from pager.importers.writing import report, write

ALICE = PlannedPerson(
    "alice",
    "Alice Example",
    "+447700900101",
    "Europe/London",
    NotifyRules(high=(NotifyRule("sms"), NotifyRule("voice", timedelta(minutes=2)))),
)
BOB = PlannedPerson("bob", "Bob Example", "+447700900102", "America/New_York")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def weekend_rotation(windows: tuple[Window, ...]) -> PlannedRotation:
    layer = PlannedLayer(
        "UTC", datetime(2026, 11, 30, 9), timedelta(weeks=1), ("alice", "bob"), windows
    )
    return PlannedRotation("weekend", "UTC", (layer,))


def test_it_writes_a_span_longer_than_a_day_as_windows_pager_reads_back() -> None:
    # Friday 18:00 for 63 hours: to Monday 09:00, as PagerDuty's weekly restrictions say it.
    windows = span_windows(4, time(18), timedelta(hours=63))
    plan = Plan("Vendor", people=(ALICE, BOB), rotations=(weekend_rotation(windows),))
    written = write(plan, "vendor.yaml", "now")
    assert written.schedule is not None, written.problems
    on_call = {
        instant: written.schedule.shift_at("weekend", at(instant)).person
        for instant in (
            "2026-12-04T17:59",
            "2026-12-04T18:00",
            "2026-12-06T12:00",
            "2026-12-07T08:59",
            "2026-12-07T09:00",
        )
    }
    assert on_call == {
        "2026-12-04T17:59": None,
        "2026-12-04T18:00": "alice",
        "2026-12-06T12:00": "alice",
        "2026-12-07T08:59": "alice",
        "2026-12-07T09:00": None,
    }
    assert 'from: "18:00"' in written.text and 'phone: "+447700900101"' in written.text
    assert "notify:\n      high: [sms, voice after 2m]" in written.text


def test_it_leaves_out_an_override_that_overlaps_an_earlier_one() -> None:
    overrides = (
        PlannedOverride("weekend", "bob", at("2026-12-05T00:00"), at("2026-12-06T00:00")),
        PlannedOverride("weekend", "alice", at("2026-12-05T12:00"), at("2026-12-05T14:00")),
    )
    plan = Plan(
        "Vendor", people=(ALICE, BOB), rotations=(weekend_rotation(()),), overrides=overrides
    )
    written = write(plan, "vendor.yaml", "now")
    assert written.schedule is not None, written.problems
    [kept] = written.schedule.overrides
    assert kept.person == "bob"
    [note] = written.notes
    assert note.subject == "override of rotation 'weekend' by 'alice'"
    assert "overlaps the override by 'bob'" in note.text and "left out" in note.text


def test_it_says_where_pager_and_the_vendor_disagree() -> None:
    shifts = (
        VendorShift("weekend", "alice", at("2026-12-01T00:00"), at("2026-12-02T00:00")),
        VendorShift("weekend", "bob", at("2026-12-02T00:00"), at("2026-12-03T00:00")),
    )
    plan = Plan(
        "Vendor",
        people=(ALICE, BOB),
        rotations=(weekend_rotation(()),),
        vendor_shifts=shifts,
        notes=(Note("user 'carol'", "left out"),),
    )
    written = write(plan, "vendor.yaml", "now")
    text = report(plan, written, "rotations/vendor.yaml")
    assert text.startswith(
        "Imported from Vendor into rotations/vendor.yaml: 2 people, "
        "1 rotation, 0 overrides, 0 policies, 0 services.\n"
    )
    assert "- user 'carol':\n    - left out\n" in text
    assert (
        "- rotation 'weekend':\n    - differs from Vendor's own schedule: at "
        "2026-12-02T00:00:00+00:00 pager has alice on call, Vendor bob; at "
        "2026-12-02T12:00:00+00:00 pager has alice on call, Vendor bob\n"
    ) in text


def test_it_makes_readable_unique_ids() -> None:
    ids = Ids()
    assert [
        ids.make("rotation", name) for name in ("SRE Primary", "SRE primary", "  ", "Ops/DB")
    ] == ["sre-primary", "sre-primary-2", "rotation", "ops-db"]
    assert ids.make("person", None, "Alice Example") == "alice-example"


def test_it_reads_numbers_as_the_products_write_them() -> None:
    assert e164("44-7700900101") == "+447700900101"
    assert e164("+44 7700 900101") == "+447700900101"
    assert e164("12") is None and e164("") is None
