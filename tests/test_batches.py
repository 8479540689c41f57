"""A runner's batch in one transaction, and what happens when one row of it fails: the batch is
rolled back and each row done alone, so the others' writes are kept and the bad row is logged."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pager.flows import dispatch, escalate
from pager.flows.batches import each_in_one_transaction
from pager.flows.context import Pager
from pager.store import outbox, runners
from pager.store.models import Incident, Runner
from tests.helpers import payload, receive, run_due

T0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def registered(pager: Pager) -> set[str]:
    with pager.db.read() as session:
        return set(session.scalars(select(Runner.id)))


def test_it_does_a_batch_in_one_transaction_and_returns_each_result(pager: Pager) -> None:
    commits: list[int] = []

    def work(session: Session, name: str) -> str:
        runners.register(session, name, "h", 1, T0)
        commits.append(id(session))
        return name.upper()

    assert each_in_one_transaction(pager, ["a", "b", "c"], work, "test") == ["A", "B", "C"]
    assert len(set(commits)) == 1  # one session, one transaction, for the three
    assert registered(pager) == {"a", "b", "c"}


def test_it_keeps_the_other_rows_when_one_fails(pager: Pager, caplog) -> None:
    def work(session: Session, name: str) -> str:
        runners.register(session, name, "h", 1, T0)
        if name == "bad":
            raise ValueError("a row that cannot be done")
        return name

    assert each_in_one_transaction(pager, ["a", "bad", "c"], work, "test") == ["a", None, "c"]
    assert registered(pager) == {"a", "c"}  # the bad row's write rolled back, alone
    assert "event=batch_item_error what=test item='bad'" in caplog.text


def test_it_does_each_alone_when_the_commit_of_the_batch_fails(pager: Pager) -> None:
    def work(session: Session, name: str) -> str:
        runners.register(session, name, "h", 1, T0)  # the same id twice: the flush fails
        return name

    assert each_in_one_transaction(pager, ["a", "a", "b"], work, "test") == ["a", None, "b"]
    assert registered(pager) == {"a", "b"}


def test_it_logs_the_error_of_a_single_item_rather_than_raise_it(pager: Pager, caplog) -> None:
    def work(session: Session, name: str) -> str:
        raise ValueError("no")

    assert each_in_one_transaction(pager, ["a"], work, "test") == [None]
    assert "ValueError: no" in caplog.text


def test_it_pages_the_other_incidents_when_one_step_cannot_run(pager: Pager) -> None:
    for i in range(3):
        body = payload("alertmanager_firing.json")
        body["groupKey"] = f"g{i}"
        body["alerts"] = [dict(body["alerts"][0], fingerprint=f"fp{i}")]
        receive(pager, "payments-am", body, T0)
    with pager.db.transaction() as session:
        broken = session.scalars(select(Incident).order_by(Incident.id)).first()
        assert broken is not None
        broken.policy = {"steps": "not a list of steps"}  # its snapshot no longer reads
        broken_id = broken.id
    assert escalate.escalate_due(pager, T0) == 2
    run_due(pager, T0)  # the broken one alone this time: logged, and the sends go on
    with pager.db.read() as session:
        stepped = {i.id: i.escalation_step for i in session.scalars(select(Incident))}
    assert stepped.pop(broken_id) == 0 and set(stepped.values()) == {1}


def test_it_releases_a_page_that_cannot_be_started_so_its_number_is_not_held(
    pager: Pager,
) -> None:
    """A page that fails to start (here: a route that no longer reads; any error) is made
    pending again a few seconds on, not left leased for a minute, where it would hold back
    every other page to its number (a claim skips a number with a page on its way)."""
    for i in range(2):
        body = payload("alertmanager_firing.json")
        body["groupKey"] = f"g{i}"
        body["alerts"] = [dict(body["alerts"][0], fingerprint=f"fp{i}")]
        receive(pager, "payments-am", body, T0)
    escalate.escalate_due(pager, T0)
    [first] = dispatch.claim_due(pager, T0, 5)
    with pager.db.transaction() as session:
        n = outbox.get(session, first)
        assert n is not None
        n.route = 5  # type: ignore[assignment]  # a route that does not read: starting raises
    assert dispatch.start(pager, [first, first], T0) == []
    with pager.db.read() as session:
        n = outbox.get(session, first)
        assert n is not None
        assert (n.status, n.lease_owner) == ("pending", None)
        assert n.next_attempt_at == T0 + dispatch.RETRY_START
