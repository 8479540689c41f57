"""Several runners on one database: claims never overlap, a dead runner's sends are taken over
at once, and PostgreSQL NOTIFY wakes a worker in another process."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from pager.flows import dispatch, escalate
from pager.flows.context import Pager
from pager.store import outbox, runners
from pager.store.models import Notification
from pager.store.wakeups import Listener, notify
from tests.helpers import ALICE, payload, phone, receive, run_due

T0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def open_incidents(pager: Pager, count: int) -> None:
    for i in range(count):
        body = payload("alertmanager_firing.json")
        body["groupKey"] = f"g{i}"
        body["alerts"] = [dict(body["alerts"][0], fingerprint=f"fp{i:05d}")]
        receive(pager, "payments-am", body, T0)


def page_many_numbers(pager: Pager) -> None:
    """Give each page another number: a claim takes one page per number at a time (and none
    for a number with one on its way), and these tests race claims, not numbers."""
    with pager.db.transaction() as session:
        for i, n in enumerate(session.scalars(select(Notification).order_by(Notification.id))):
            n.phone = f"+4477009003{i:02d}"


def test_it_never_gives_one_notification_to_two_racing_runners(pager: Pager) -> None:
    open_incidents(pager, 30)
    escalate.escalate_due(pager, T0)
    page_many_numbers(pager)
    claimed: dict[str, list[int]] = {"a": [], "b": []}
    with pager.db.transaction() as session:
        alive = runners.database_now(session) + timedelta(hours=1)  # alive throughout: see below
        runners.register(session, "a", "h", 1, alive)
        runners.register(session, "b", "h", 2, alive)
    start = threading.Barrier(2)

    def runner(name: str) -> None:
        start.wait()
        while batch := dispatch.claim_due(pager, T0, 5, owner=name):
            claimed[name] += batch

    threads = [threading.Thread(target=runner, args=(n,)) for n in claimed]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not set(claimed["a"]) & set(claimed["b"])
    assert len(claimed["a"]) + len(claimed["b"]) == 30


def test_it_runs_a_step_once_when_two_runners_escalate_at_the_same_time(pager: Pager) -> None:
    open_incidents(pager, 20)
    start = threading.Barrier(2)
    ran: list[int] = []

    def runner() -> None:
        start.wait()
        ran.append(escalate.escalate_due(pager, T0))

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(ran) == 20
    with pager.db.transaction() as session:
        assert len(outbox.due(session, T0, 100)) == 20  # one SMS per incident, not two


def test_it_takes_over_the_sends_of_a_runner_that_stopped_beating(pager: Pager) -> None:
    open_incidents(pager, 1)
    escalate.escalate_due(pager, T0)
    with pager.db.transaction() as session:
        runners.register(session, "crashed", "host", 1, T0)
        runners.register(session, "alive", "host", 2, T0)
    [taken] = dispatch.claim_due(pager, T0, 5, owner="crashed", clock=T0)
    # Its lease runs for a minute, but it stops beating: 3 s later the send is up for grabs.
    with pager.db.transaction() as session:
        runners.beat(session, "alive", T0 + timedelta(seconds=2))
    assert dispatch.claim_due(pager, T0, 5, owner="alive", clock=T0 + timedelta(seconds=2)) == []
    with pager.db.transaction() as session:
        runners.beat(session, "alive", T0 + timedelta(seconds=4))
    assert dispatch.claim_due(pager, T0, 5, owner="alive", clock=T0 + timedelta(seconds=4)) == [
        taken
    ]
    with freeze_time(T0 + timedelta(seconds=4)):
        dispatch.send(pager, taken)
    assert len(phone(pager, ALICE)) == 1


def test_it_keeps_a_live_runners_send_until_its_lease_ends(pager: Pager) -> None:
    open_incidents(pager, 1)
    escalate.escalate_due(pager, T0)
    with pager.db.transaction() as session:
        runners.register(session, "slow", "host", 1, T0)
    [taken] = dispatch.claim_due(pager, T0, 5, owner="slow", clock=T0)
    for seconds in (10, 30, 59):
        at = T0 + timedelta(seconds=seconds)
        with pager.db.transaction() as session:
            runners.beat(session, "slow", at)
        assert dispatch.claim_due(pager, T0, 5, owner="other", clock=at) == []
    at = T0 + timedelta(seconds=61)
    with pager.db.transaction() as session:
        runners.beat(session, "slow", at)
    assert dispatch.claim_due(pager, T0, 5, owner="other", clock=at) == [taken]


def test_it_wakes_a_listening_worker_on_notify(pager: Pager) -> None:
    if pager.db.dialect != "postgresql":
        pytest.skip("NOTIFY is PostgreSQL's; on SQLite a commit wakes (tests/test_store_db.py)")
    woken = threading.Event()
    listener = Listener(pager.db, woken.set)
    listener.start()
    try:
        assert woken.wait(5)  # it wakes once when it starts listening
        woken.clear()
        notify(pager.db)
        assert woken.wait(5)
    finally:
        listener.stop()


def test_it_sends_each_page_once_with_two_runners_sharing_the_work(pager: Pager) -> None:
    open_incidents(pager, 12)
    start = threading.Barrier(2)

    def runner(name: str) -> None:
        start.wait()
        escalate.escalate_due(pager, T0)
        while claimed := dispatch.claim_due(pager, T0, 3, owner=name):
            for notification_id in claimed:
                dispatch.send(pager, notification_id)

    with pager.db.transaction() as session:
        # Both alive for the whole test: they never beat here, and on a loaded machine the
        # test can outlast DEAD_AFTER, when one would take over the other's sends (at-least-
        # once, as designed) and a page would go out twice.
        alive = runners.database_now(session) + timedelta(hours=1)
        runners.register(session, "a", "h", 1, alive)
        runners.register(session, "b", "h", 2, alive)
    threads = [threading.Thread(target=runner, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    run_due(pager, T0)
    with pager.db.transaction() as session:
        sent = {n.id for n in session.query(Notification).filter_by(status="delivered")}
        carried = [n.digest_of for n in session.query(Notification).filter_by(status="digested")]
    # Each page went out once: on its own, or inside one digest (the per-number limit).
    assert len(phone(pager, ALICE)) == len(sent)
    assert len(sent) + len(carried) == 12 and set(carried) <= sent


def test_it_forgets_runners_of_this_host_whose_process_is_gone(pager: Pager) -> None:
    with pager.db.transaction() as session:
        runners.register(session, "gone", "this-host", 111, T0)
        runners.register(session, "running", "this-host", 222, T0)
        runners.register(session, "elsewhere", "other-host", 111, T0)
    with pager.db.transaction() as session:
        gone = runners.forget_gone(session, "this-host", lambda pid: pid == 222)
    assert gone == ["gone"]
    with pager.db.transaction() as session:
        left = {r.id for r in session.query(runners.Runner)}
    assert left == {"running", "elsewhere"}


def test_it_keeps_each_runners_sends_when_their_clocks_disagree_by_minutes(pager: Pager) -> None:
    """Liveness by the database's clock: a runner whose own clock is five minutes ahead sees
    the other's fresh heartbeat and lease as fresh, and takes nothing over."""
    open_incidents(pager, 2)
    escalate.escalate_due(pager, T0)
    page_many_numbers(pager)
    with pager.db.transaction() as session:
        runners.register(session, "behind", "h", 1)
        runners.register(session, "ahead", "h", 2)
    [first] = dispatch.claim_due(pager, T0, 1, owner="behind")
    ahead = T0 + timedelta(minutes=5)  # its own clock, for what is due
    with freeze_time(ahead):
        with pager.db.transaction() as session:
            runners.beat(session, "ahead")
        [second] = dispatch.claim_due(pager, ahead, 5, owner="ahead")
    assert second != first  # only the page nobody had
    with pager.db.transaction() as session:
        owners = {n.id: n.lease_owner for n in session.scalars(select(Notification))}
    assert owners == {first: "behind", second: "ahead"}
