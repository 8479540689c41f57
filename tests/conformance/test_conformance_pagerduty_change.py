"""PagerDuty change events as PagerDuty documents them (its developer docs' example, stored
unchanged) and as its own client sends them (PyPI `pagerduty`, `send_change_event`), replayed
against pager: 202 as PagerDuty answers, stored, and shown on the service's incidents."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from freezegun import freeze_time

from pager.app import build_pager
from pager.config import IntegrationSettings
from pager.flows.changes import recent_changes
from pager.flows.context import Pager
from pager.web import create_app
from tests.conformance.pagerduty_served import served_over_tls
from tests.conftest import make_settings
from tests.helpers import payload, receive

pagerduty = pytest.importorskip("pagerduty", reason="needs the pagerduty client (test extras)")
HERE = Path(__file__).parent
ROUTING_KEY = "samplekeyhere"  # the docs example's own key, as our integration's token
API = {"Authorization": "Bearer api-token"}


@pytest.fixture
def pager(database_url: str) -> Iterator[Pager]:
    integrations = {
        "payments-pd": IntegrationSettings("payments-pd", "payments", "pagerduty", ROUTING_KEY),
        "payments-am": IntegrationSettings("payments-am", "payments", "alertmanager", "am-token"),
    }
    built = build_pager(make_settings(database_url, integrations=integrations))
    yield built
    built.db.dispose()


def test_it_takes_the_documented_change_event_and_shows_it_on_the_services_incident(
    pager: Pager,
) -> None:
    client = create_app(pager).test_client()
    example = (HERE / "pagerduty" / "change-event.json").read_bytes()
    with freeze_time("2020-07-17T09:00:00Z"):
        answer = client.post("/v2/change/enqueue", data=example, content_type="application/json")
        assert (answer.status_code, answer.json) == (
            202,
            {"status": "success", "message": "Change event processed"},
        )
        [opened] = receive(
            pager, "payments-am", payload("alertmanager_firing.json"), datetime.now(UTC)
        ).opened
        detail = client.get(f"/api/v1/incidents/{opened}", headers=API).json
    [change] = detail["recent_changes"]
    sent = json.loads(example)
    assert change["summary"] == sent["payload"]["summary"]
    assert change["source"] == sent["payload"]["source"]
    assert change["at"] == "2020-07-17T08:42:58.315000+00:00"
    assert change["links"] == sent["links"]
    assert change["custom_details"] == sent["payload"]["custom_details"]


def test_it_stores_a_retried_change_once_and_refuses_what_pagerduty_refuses(pager: Pager) -> None:
    client = create_app(pager).test_client()
    example = json.loads((HERE / "pagerduty" / "change-event.json").read_text())
    with freeze_time("2020-07-17T09:00:00Z"):
        for _ in range(2):  # a sender's retry after a timeout
            assert client.post("/v2/change/enqueue", json=example).status_code == 202
        assert len(recent_changes(pager, "payments", datetime.now(UTC), datetime.now(UTC))) == 1
        wrong_key = client.post("/v2/change/enqueue", json={**example, "routing_key": "nope"})
        assert (wrong_key.status_code, wrong_key.json["errors"]) == (400, ["Invalid routing key"])
        broken = {"routing_key": ROUTING_KEY, "payload": {"summary": "x" * 1025}, "links": [{}]}
        refused = client.post("/v2/change/enqueue", json=broken)
        assert refused.status_code == 400
        assert refused.json["errors"] == [
            "'payload.summary' is too long (maximum is 1024 characters)",
            "'links[0].href' is missing or invalid",
        ]
        not_json = client.post("/v2/change/enqueue", data=b"{", content_type="application/json")
        assert not_json.status_code == 400


@pytest.fixture
def served(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Pager, str]]:
    with served_over_tls(sqlite_url, ROUTING_KEY, monkeypatch) as served:
        yield served


def test_it_takes_a_change_from_pagerdutys_own_client(served) -> None:
    pager, url = served
    client = pagerduty.EventsApiV2Client(ROUTING_KEY)
    client.url = url
    client.send_change_event(
        payload={
            "summary": "Deployed payments v2.3.1",
            "source": "ci",
            "custom_details": {"sha": "abc123"},
        },
        links=[{"href": "https://ci.example.com/build/7", "text": "build 7"}],
    )
    now = datetime.now(UTC)
    [change] = recent_changes(pager, "payments", now, now)
    assert (change.summary, change.source) == ("Deployed payments v2.3.1", "ci")
    assert change.links == (("https://ci.example.com/build/7", "build 7"),)
