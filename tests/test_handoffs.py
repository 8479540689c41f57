"""Handoff notices: an SMS to the person coming on call, once per handoff, on SQLite and
PostgreSQL, with freezegun for time."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import delete, func, select

from pager.app import build_pager
from pager.domain.messages import handoff_text, is_gsm7, segments
from pager.domain.rotation_schema import parse_schedule
from pager.domain.rotations import Handoff, Schedule
from pager.flows import replies
from pager.flows.context import Pager
from pager.flows.handoffs import queue_handoff_notices
from pager.providers.base import InboundSms
from pager.scheduler import Runner
from pager.store import outbox, verified
from pager.store.models import Notification
from pager.store.people_models import VerifiedNumber
from tests.conftest import make_settings
from tests.helpers import ALICE, BOB, CAROL, payload, phone, receive, run_due

# Mondays 09:00 London: alice's weeks are the even ones from 5 Jan, bob's the odd ones.
TEAM = """\
people:
  alice: {name: Alice Example, phone: "+447700900101", timezone: Europe/London}
  bob:   {name: Bob Example,   phone: "+447700900102", timezone: America/New_York}
  carol: {name: Carol Example, phone: "+447700900103", timezone: Europe/Berlin,
          handoff_notices: false}
rotations:
  sre-primary: {timezone: Europe/London, start: 2026-01-05T09:00, shift: 1w, members: [alice, bob]}
policies:
  sre:
    steps:
      - {targets: [rotation:sre-primary], channels: [sms], wait: 5m}
services:
  payments: {policy: sre}
overrides:
"""
HANDOFF = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # alice comes on call (GMT: 09:00 UTC)


def schedule_of(text: str) -> Schedule:
    schedule, problems = parse_schedule([("team.yaml", text)])
    assert problems == [] and schedule is not None
    return schedule


@pytest.fixture
def team(database_url: str) -> Iterator[Pager]:
    pager = build_pager(make_settings(database_url))
    pager.rotations.schedule = schedule_of(TEAM)
    with pager.db.transaction() as session:  # proven numbers: the notice asks nothing more
        for person in pager.rotations.schedule.people.values():
            verified.prove(session, person.id, person.phone, "sms", HANDOFF)
    yield pager
    pager.db.dispose()


def override(person: str, start: str, end: str) -> str:
    """An override in rotation file form, to add to TEAM."""
    return f"  - {{rotation: sre-primary, person: {person}, from: {start}, to: {end}}}\n"


def wake(pager: Pager, now: datetime) -> None:
    """A runner's wake-up, in this thread: notices due, then everything due."""
    with freeze_time(now):
        queue_handoff_notices(pager, now)
        run_due(pager, now)


def texts_to(pager: Pager, number: str) -> list[str]:
    """The SMS `number` got (a call carrying a page an SMS limit held is not a text)."""
    return [m.body for m in phone(pager, number) if m.direction == "out" and m.channel == "sms"]


def test_it_texts_the_person_coming_on_call_when_their_shift_starts(team: Pager) -> None:
    wake(team, HANDOFF - timedelta(seconds=1))
    assert texts_to(team, ALICE) == []
    wake(team, HANDOFF)
    [text] = texts_to(team, ALICE)
    assert text == "You are on call for sre-primary until Mon 30 Nov 09:00 Europe/London."
    assert is_gsm7(text) and segments(text) == 1
    assert texts_to(team, BOB) == []  # going off call is no news


def test_it_asks_someone_whose_number_is_unproven_to_prove_it(team: Pager) -> None:
    with team.db.transaction() as session:
        session.execute(delete(VerifiedNumber).where(VerifiedNumber.person == "alice"))
    wake(team, HANDOFF)
    [notice] = texts_to(team, ALICE)
    assert notice == (
        "You are on call for sre-primary until Mon 30 Nov 09:00 Europe/London. Number unproven: "
        "run pager verify (or see the dashboard), reply with the code."
    )
    assert is_gsm7(notice) and segments(notice) == 1


def test_an_unproven_notice_with_a_long_rotation_name_stays_one_segment() -> None:
    until = datetime(2026, 11, 30, 9, tzinfo=UTC)
    notice = handoff_text("payments-" * 30, until, "America/Argentina/Buenos_Aires", True)
    assert segments(notice) == 1 and is_gsm7(notice)
    assert notice.endswith(
        "Buenos_Aires. Number unproven: run pager verify (or see the "
        "dashboard), reply with the code."
    )


def test_it_shows_the_end_of_the_shift_in_the_persons_own_time_zone(team: Pager) -> None:
    wake(team, HANDOFF + timedelta(weeks=1))
    assert texts_to(team, BOB) == [
        "You are on call for sre-primary until Mon 7 Dec 04:00 America/New_York."
    ]


def test_it_sends_a_notice_once_however_often_the_runner_wakes(team: Pager) -> None:
    for second in range(0, 15 * 60, 7):
        wake(team, HANDOFF + timedelta(seconds=second))
    assert len(texts_to(team, ALICE)) == 1


def test_it_queues_a_notice_once_when_runners_look_at_the_same_instant(team: Pager) -> None:
    start = threading.Barrier(4)
    queued: list[int] = []

    def runner() -> None:
        start.wait()
        queued.append(queue_handoff_notices(team, HANDOFF))

    threads = [threading.Thread(target=runner) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(queued) == [0, 0, 0, 1]
    run_due(team, HANDOFF)
    assert len(texts_to(team, ALICE)) == 1


def test_it_keeps_the_first_of_two_notices_queued_with_one_key_at_once(team: Pager) -> None:
    def notice() -> Notification:
        return Notification(
            step=0,
            person="alice",
            person_name="Alice Example",
            phone=ALICE,
            channel="sms",
            body="hello",
            status="pending",
            provider_index=0,
            round=0,
            next_attempt_at=HANDOFF,
            dedup_key="handoff:test",
            created_at=HANDOFF,
            updated_at=HANDOFF,
        )

    second: list[bool] = []

    def other_runner() -> None:
        with team.db.transaction() as session:
            second.append(outbox.add_once(session, notice()))

    with team.db.transaction() as session:
        assert outbox.add_once(session, notice())
        # The other runner queues the same notice before this one commits: on PostgreSQL it
        # waits on the unique key, on SQLite for the write lock; either way it backs off.
        racing = threading.Thread(target=other_runner)
        racing.start()
        racing.join(timeout=0.5)
    racing.join(timeout=60)
    assert second == [False]
    with team.db.transaction() as session:
        count = session.scalar(select(func.count()).where(Notification.dedup_key == "handoff:test"))
    assert count == 1


def test_it_texts_whoever_an_override_puts_on_call_and_who_comes_back_after_it(
    team: Pager,
) -> None:
    team.rotations.schedule = schedule_of(
        TEAM + override("bob", "2026-11-25T12:00", "2026-11-26T12:00")
    )
    start = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    wake(team, HANDOFF)
    wake(team, start)
    assert texts_to(team, BOB) == [
        "You are on call for sre-primary until Thu 26 Nov 07:00 America/New_York."
    ]
    wake(team, start + timedelta(days=1))
    assert texts_to(team, ALICE)[1:] == [
        "You are on call for sre-primary until Mon 30 Nov 09:00 Europe/London."
    ]


def test_it_sends_no_notice_to_someone_who_opted_out(team: Pager) -> None:
    team.rotations.schedule = schedule_of(
        TEAM + override("carol", "2026-12-02T12:00", "2026-12-03T12:00")
    )
    wake(team, datetime(2026, 12, 2, 12, 0, tzinfo=UTC))
    assert texts_to(team, CAROL) == []
    with team.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Notification)) == 0


def test_it_sends_no_notice_to_a_number_that_replied_stop(team: Pager) -> None:
    wake(team, HANDOFF)
    inbound = InboundSms(ALICE, "pager", "STOP", "SM" + secrets.token_hex(16))
    replies.handle_sms(team, "sandbox", inbound, HANDOFF + timedelta(minutes=1))
    sent = len(texts_to(team, ALICE))
    wake(team, HANDOFF + timedelta(weeks=2))
    assert len(texts_to(team, ALICE)) == sent
    with team.db.transaction() as session:
        statuses = session.scalars(select(Notification.status).order_by(Notification.id))
        assert list(statuses) == ["delivered", "skipped"]


@pytest.mark.parametrize(
    ("started_after", "notices"),
    [(timedelta(minutes=5), 1), (timedelta(minutes=9, seconds=59), 1), (timedelta(hours=2), 0)],
)
def test_a_runner_started_after_a_handoff_sends_it_only_if_it_is_minutes_old(
    team: Pager, started_after: timedelta, notices: int
) -> None:
    wake(team, HANDOFF + started_after)
    assert len(texts_to(team, ALICE)) == notices


def test_the_runner_sends_notices_on_its_wake_ups(team: Pager) -> None:
    runner = Runner(team)
    with freeze_time(HANDOFF):
        runner.run_once(HANDOFF)
    runner._senders.shutdown(wait=True)  # its senders are threads: wait for them
    assert texts_to(team, ALICE) == [
        "You are on call for sre-primary until Mon 30 Nov 09:00 Europe/London."
    ]


@pytest.mark.parametrize(
    ("comes_on_call", "text"),
    [
        # The clocks go forward on Sun 29 Mar: 09:00 GMT, then 09:00 BST (08:00 UTC).
        (
            datetime(2026, 3, 23, 9, 0, tzinfo=UTC),
            "You are on call for sre-primary until Mon 30 Mar 09:00 Europe/London.",
        ),
        # And back on Sun 25 Oct: 09:00 BST (08:00 UTC), then 09:00 GMT.
        (
            datetime(2026, 10, 19, 8, 0, tzinfo=UTC),
            "You are on call for sre-primary until Mon 26 Oct 09:00 Europe/London.",
        ),
    ],
)
def test_it_shows_local_time_right_across_a_clock_change(
    team: Pager, comes_on_call: datetime, text: str
) -> None:
    # Alice's turns start a week later here, so hers are the weeks of the clock changes.
    team.rotations.schedule = schedule_of(TEAM.replace("2026-01-05T09:00", "2026-01-12T09:00"))
    wake(team, comes_on_call - timedelta(seconds=1))
    assert texts_to(team, ALICE) == []
    wake(team, comes_on_call)
    assert texts_to(team, ALICE) == [text]


def test_a_notice_held_by_the_per_number_limit_goes_out_alone_not_in_a_digest(
    team: Pager,
) -> None:
    def open_incident(n: int, at: datetime) -> None:
        body = payload("alertmanager_firing.json")
        body["groupKey"] = f"g{n}"
        body["alerts"] = [dict(body["alerts"][0], fingerprint=f"fp{n:04d}")]
        with freeze_time(at):
            receive(team, "payments-am", body, at)
            run_due(team, at)

    for n in range(5):  # alice's five SMS in fifteen minutes
        open_incident(n, HANDOFF + timedelta(seconds=n))
    wake(team, HANDOFF + timedelta(seconds=10))  # so her notice waits...
    for n in range(5, 8):  # ...and three more pages wait after it
        open_incident(n, HANDOFF + timedelta(minutes=1, seconds=n))
    assert len(texts_to(team, ALICE)) == 5
    # The notice goes first, on its own; the pages follow, none carrying the notice.
    wake(team, HANDOFF + timedelta(minutes=15))
    texts = texts_to(team, ALICE)
    assert texts[5:] == ["You are on call for sre-primary until Mon 30 Nov 09:00 Europe/London."]
    wake(team, HANDOFF + timedelta(minutes=30))
    later = texts_to(team, ALICE)[6:]
    assert later and all(text.startswith("[pager] ") for text in later)
    with team.db.transaction() as session:
        assert session.scalar(select(func.count()).where(Notification.status == "pending")) == 0


def test_it_reads_handoff_notices_from_a_person_and_checks_it() -> None:
    assert not schedule_of(TEAM).people["carol"].handoff_notices
    assert schedule_of(TEAM).people["alice"].handoff_notices
    _, problems = parse_schedule(
        [("team.yaml", TEAM.replace("handoff_notices: false", "handoff_notices: no way"))]
    )
    assert [str(problem) for problem in problems] == [
        "team.yaml:5: handoff_notices: expected true or false, got 'no way'"
    ]


def test_a_handoff_is_when_the_person_changes() -> None:
    schedule = schedule_of(
        TEAM
        + override("alice", "2026-11-24T12:00", "2026-11-24T13:00")  # her own shift: no news
        + override("bob", "2026-11-25T12:00", "2026-11-26T12:00")
    )
    wednesday, thursday = (datetime(2026, 11, day, 12, 0, tzinfo=UTC) for day in (25, 26))
    week = schedule.handoffs("sre-primary", HANDOFF - timedelta(seconds=1), HANDOFF + timedelta(6))
    assert week == [
        Handoff("sre-primary", "alice", HANDOFF, wednesday),
        Handoff("sre-primary", "bob", wednesday, thursday),
        Handoff("sre-primary", "alice", thursday, HANDOFF + timedelta(weeks=1)),
    ]


def test_someone_always_on_call_is_on_call_until_further_notice() -> None:
    JAN_5 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # noqa: N806
    alone = schedule_of(TEAM.replace("members: [alice, bob]", "members: [alice]"))
    [handoff] = alone.handoffs(
        "sre-primary", JAN_5 - timedelta(seconds=1), JAN_5 + timedelta(days=1)
    )
    assert handoff.until is None
    assert handoff_text("sre-primary", None, "Europe/London") == (
        "You are on call for sre-primary until further notice."
    )


def test_a_long_rotation_name_is_shortened_to_one_segment() -> None:
    text = handoff_text("payments-" * 30, datetime(2026, 11, 30, 9, tzinfo=UTC), "Europe/London")
    assert segments(text) == 1
    assert text.endswith("... until Mon 30 Nov 09:00 Europe/London.")
