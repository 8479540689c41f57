"""Per-integration grouping by labels, and flapping alerts that reopen their incident."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from pager.app import build_pager
from pager.config import IntegrationSettings
from pager.flows import incidents
from pager.flows.context import Pager
from tests.conftest import make_settings
from tests.helpers import payload, receive

T0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def build(database_url: str, **options: object) -> Pager:
    integration = replace(
        IntegrationSettings("payments-am", "payments", "alertmanager", "am-token"), **options
    )
    return build_pager(
        replace(make_settings(database_url), integrations={"payments-am": integration})
    )


@pytest.fixture
def grouped(database_url: str) -> Iterator[Pager]:
    pager = build(database_url, group_by=("job",))
    yield pager
    pager.db.dispose()


@pytest.fixture
def flapping(database_url: str) -> Iterator[Pager]:
    pager = build(database_url, reopen_within=timedelta(minutes=10))
    yield pager
    pager.db.dispose()


def one_alert(
    fingerprint: str, status: str = "firing", job: str = "checkout", group: str = "g"
) -> dict:
    body = payload("alertmanager_firing.json")
    alert = dict(body["alerts"][0], fingerprint=fingerprint, status=status)
    alert["labels"] = dict(alert["labels"], job=job)
    return dict(body, groupKey=group, status=status, alerts=[alert])


def test_it_groups_alerts_by_the_integrations_labels_across_alertmanager_groups(grouped) -> None:
    first = receive(grouped, "payments-am", one_alert("a", group="g1"), T0).opened
    same_job = receive(grouped, "payments-am", one_alert("b", group="g2"), T0)
    other_job = receive(grouped, "payments-am", one_alert("c", job="search", group="g1"), T0)
    assert same_job.opened == [] and same_job.updated == first
    assert len(other_job.opened) == 1 and other_job.opened != first


def test_it_reopens_an_incident_whose_alert_fires_again_soon_after_resolving(flapping) -> None:
    [incident_id] = receive(flapping, "payments-am", one_alert("a"), T0).opened
    receive(flapping, "payments-am", one_alert("a", "resolved"), T0 + timedelta(minutes=1))
    assert incidents.view(flapping, incident_id).status == "resolved"
    again = receive(flapping, "payments-am", one_alert("a"), T0 + timedelta(minutes=5))
    assert again.opened == [incident_id]
    view = incidents.view(flapping, incident_id)
    assert (view.status, view.alert_count, view.firing_count) == ("triggered", 1, 1)
    assert (
        view.timeline[-1].message
        == "reopened: HighErrorRate fired again 4 min after it resolved (flapping)"
    )


def test_it_opens_a_new_incident_when_the_alert_returns_after_the_window(flapping) -> None:
    [incident_id] = receive(flapping, "payments-am", one_alert("a"), T0).opened
    receive(flapping, "payments-am", one_alert("a", "resolved"), T0 + timedelta(minutes=1))
    later = receive(flapping, "payments-am", one_alert("a"), T0 + timedelta(minutes=12))
    assert len(later.opened) == 1 and later.opened != [incident_id]


@pytest.fixture
def urgent(database_url: str) -> Iterator[Pager]:
    pager = build(database_url, urgency={"critical": "high", "warning": "low"})
    yield pager
    pager.db.dispose()


def test_it_holds_a_low_urgency_page_until_morning_and_pages_high_urgency_at_once(urgent) -> None:
    from freezegun import freeze_time

    from tests.helpers import ALICE, phone, run_due

    night = T0  # 03:00 in London, where alice lives
    warning = one_alert("w", group="gw")
    warning["alerts"][0]["labels"]["severity"] = "warning"
    with freeze_time(night):
        [low] = receive(urgent, "payments-am", warning, night).opened
        [high] = receive(urgent, "payments-am", one_alert("c", group="gc"), night).opened
        run_due(urgent, night)
    assert [m.body.split(":")[0] for m in phone(urgent, ALICE)] == [f"[pager] #{high} payments"]
    view = incidents.view(urgent, low)
    assert view.urgency == "low"
    assert view.timeline[-1].message == (
        "low urgency: waiting until 08:00 Europe/London (2026-11-25 08:00 UTC) "
        "so as not to wake Alice Example"
    )
    morning = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    with freeze_time(morning):
        run_due(urgent, morning)
    assert any(m.body.startswith(f"[pager] #{low} payments") for m in phone(urgent, ALICE))


@pytest.fixture
def plain(database_url: str) -> Iterator[Pager]:
    pager = build(database_url)
    yield pager
    pager.db.dispose()


def many_alerts(count: int, status: str = "firing", group: str = "g", first: int = 0) -> dict:
    body = one_alert("x", status, group=group)
    template = body["alerts"][0]
    body["alerts"] = [
        dict(template, fingerprint=f"fp{n}", labels=dict(template["labels"], alertname=f"A{n}"))
        for n in range(first, first + count)
    ]
    return body


def test_a_delivery_of_many_alerts_in_one_group_is_one_incident_and_one_line(plain) -> None:
    [incident_id] = receive(plain, "payments-am", many_alerts(1), T0).opened
    more = receive(plain, "payments-am", many_alerts(7, first=1), T0 + timedelta(minutes=1))
    assert (more.opened, more.updated) == ([], [incident_id])
    view = incidents.view(plain, incident_id)
    assert (view.alert_count, view.firing_count) == (8, 8)
    assert view.timeline[-1].message == "7 alerts joined: A1, A2, A3, A4, A5, ..."
    one = receive(plain, "payments-am", many_alerts(1, first=8), T0 + timedelta(minutes=2))
    assert one.updated == [incident_id]
    assert incidents.view(plain, incident_id).timeline[-1].message == "A8 joined"


def test_a_delivery_that_resolves_some_alerts_says_how_many(plain) -> None:
    [incident_id] = receive(plain, "payments-am", many_alerts(5), T0).opened
    receive(plain, "payments-am", many_alerts(3, "resolved"), T0 + timedelta(minutes=1))
    view = incidents.view(plain, incident_id)
    assert (view.status, view.firing_count) == ("triggered", 2)
    assert view.timeline[-1].message == "3 alerts resolved"
    done = receive(plain, "payments-am", many_alerts(2, "resolved", first=3), T0)
    assert done.resolved == [incident_id]
    assert incidents.view(plain, incident_id).status == "resolved"


def test_an_alert_repeated_in_one_delivery_is_stored_once(plain) -> None:
    body = many_alerts(2)
    body["alerts"].append(dict(body["alerts"][0]))
    [incident_id] = receive(plain, "payments-am", body, T0).opened
    assert incidents.view(plain, incident_id).alert_count == 2
