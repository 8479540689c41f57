"""The backlog gauges on /metrics: the oldest unsent page, escalation lag and live runners,
read from the database at each scrape (deploy/prometheus/alerts.yaml alerts on them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from freezegun import freeze_time
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from pager import metrics
from pager.cli.serve import worker_metrics
from pager.flows import dispatch, escalate
from pager.flows.backlog import measure_backlog
from pager.flows.context import Pager
from pager.store import runners
from pager.web import create_app
from tests.helpers import payload, receive

T0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
GAUGES = ("pager_oldest_unsent_page_seconds", "pager_escalation_lag_seconds", "pager_runners")


def gauges() -> tuple[float | None, ...]:
    return tuple(metrics.REGISTRY.get_sample_value(name) for name in GAUGES)


def scraped(text: str) -> tuple[float | None, ...]:
    found = {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    return tuple(found.get(name) for name in GAUGES)


def open_incident(pager: Pager, at: datetime) -> None:
    receive(pager, "payments-am", payload("alertmanager_firing.json"), at)


def test_it_measures_an_idle_database_as_nothing_waiting(pager: Pager) -> None:
    measure_backlog(pager, T0, clock=T0)
    assert gauges() == (0.0, 0.0, 0.0)


def test_it_measures_how_late_the_most_overdue_escalation_step_is(pager: Pager) -> None:
    open_incident(pager, T0)  # its first step is due at once
    open_incident_later = dict(payload("alertmanager_firing.json"), groupKey="another")
    receive(pager, "payments-am", open_incident_later, T0 + timedelta(seconds=60))
    measure_backlog(pager, T0 + timedelta(seconds=90), clock=T0)
    assert gauges()[1] == 90.0  # the older of the two, not the newer (30 s)
    measure_backlog(pager, T0 - timedelta(seconds=1), clock=T0)
    assert gauges()[1] == 0.0  # not due yet is not late


def test_it_measures_the_age_of_the_oldest_page_due_and_not_sent(pager: Pager) -> None:
    open_incident(pager, T0)
    escalate.escalate_due(pager, T0)  # the step ran: its page waits in the outbox
    measure_backlog(pager, T0 + timedelta(seconds=40), clock=T0 + timedelta(seconds=40))
    assert gauges()[:2] == (40.0, 0.0)
    for notification_id in dispatch.claim_due(pager, T0 + timedelta(seconds=40), 50):
        dispatch.send(pager, notification_id)
    measure_backlog(pager, T0 + timedelta(seconds=41), clock=T0 + timedelta(seconds=41))
    assert gauges()[0] == 0.0  # the provider took it


def test_it_counts_a_page_whose_sender_died_as_unsent(pager: Pager) -> None:
    open_incident(pager, T0)
    escalate.escalate_due(pager, T0)
    with pager.db.transaction() as session:
        runners.register(session, "crashed", "host", 1, T0)
    assert dispatch.claim_due(pager, T0, 5, owner="crashed", clock=T0)
    measure_backlog(pager, T0 + timedelta(seconds=1), clock=T0 + timedelta(seconds=1))
    assert gauges()[0] == 0.0  # being sent by a live runner
    measure_backlog(pager, T0 + timedelta(seconds=10), clock=T0 + timedelta(seconds=10))
    assert gauges()[0] == 10.0  # its runner stopped beating 10 s ago: nobody is sending it


def test_it_counts_only_runners_that_beat_recently(pager: Pager) -> None:
    with pager.db.transaction() as session:
        for name in ("a", "b", "c"):
            runners.register(session, name, "host", 1, T0)
        runners.beat(session, "a", T0 + timedelta(seconds=10))
        runners.beat(session, "b", T0 + timedelta(seconds=8))
    measure_backlog(pager, T0, clock=T0 + timedelta(seconds=11))
    assert gauges()[2] == 2.0  # c was last seen 11 s ago: dead after 3 s
    measure_backlog(pager, T0, clock=T0 + timedelta(seconds=12))
    assert gauges()[2] == 1.0


def test_it_measures_the_backlog_when_metrics_is_scraped(pager: Pager) -> None:
    open_incident(pager, T0)
    client = create_app(pager).test_client()
    with freeze_time(T0 + timedelta(seconds=75)):
        answer = client.get("/metrics")
    assert answer.status_code == 200
    assert scraped(answer.get_data(as_text=True))[1] == 75.0


def test_it_measures_the_backlog_when_the_workers_metrics_are_scraped(pager: Pager) -> None:
    open_incident(pager, T0)
    with freeze_time(T0 + timedelta(seconds=33)):
        text = generate_latest(worker_metrics(pager)).decode()
    assert scraped(text)[1] == 33.0
    assert "pager_notifications_sent" in text  # and everything else the worker counts
