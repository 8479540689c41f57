"""The HTTP surface through Flask's test client: authentication, bad input, the API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from freezegun import freeze_time

from pager.app import build_pager
from pager.flows.context import Pager
from pager.web import create_app
from tests.conftest import make_settings
from tests.helpers import ALICE, payload, phone, run_due

ALICES_WEEK = "2026-12-08T12:00:00Z"  # sre-primary's even week (tests/fixtures/rotations)

AM = {"Authorization": "Bearer am-token"}
API = {"Authorization": "Bearer api-token"}


@pytest.fixture
def web(sqlite_url: str) -> Iterator[tuple[Pager, FlaskClient]]:
    pager = build_pager(make_settings(sqlite_url))
    yield pager, create_app(pager).test_client()
    pager.db.dispose()


def post_alerts(
    client: FlaskClient, body: object, headers: dict[str, str] = AM, name: str = "payments-am"
):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(
        f"/integrations/{name}", data=data, headers=headers, content_type="application/json"
    )


def test_it_stores_an_alertmanager_webhook_and_answers_what_it_did(web) -> None:
    pager, client = web
    response = post_alerts(client, payload("alertmanager_firing.json"))
    assert response.status_code == 200
    assert response.json == {
        "status": "ok",
        "alerts": 2,
        "opened": [1],
        "updated": [],
        "resolved": [],
    }


def test_it_takes_the_token_in_the_query_string_too(web) -> None:
    _, client = web
    response = client.post(
        "/integrations/payments-am?token=am-token", json=payload("alertmanager_firing.json")
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic am-token"},
        {"Authorization": "Bearer gf-token"},
    ],
)
def test_it_refuses_a_missing_or_wrong_token_with_401(web, headers) -> None:
    pager, client = web
    response = post_alerts(client, payload("alertmanager_firing.json"), headers)
    assert response.status_code == 401
    assert response.json["error"] == "unauthorized"
    from pager.flows import incidents

    assert incidents.listing(pager, None) == []


def test_it_answers_404_for_an_unknown_integration(web) -> None:
    _, client = web
    response = post_alerts(client, payload("alertmanager_firing.json"), name="nope")
    assert response.status_code == 404
    assert response.json == {
        "error": "unknown_integration",
        "message": "no integration named 'nope'",
    }


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ("{not json", None, None),
        ("", None, "empty body: expected a JSON object"),
        ("[]", "", "expected a JSON object, got list"),
        ({"version": "4"}, "alerts", "expected a list of alerts"),
        (
            {"alerts": [{"status": "burning", "labels": {}}]},
            "alerts[0].status",
            "expected 'firing' or 'resolved', got 'burning'",
        ),
        (
            {"alerts": [{"status": "firing", "labels": {"a": 1}}]},
            "alerts[0].labels",
            "expected an object of string values",
        ),
        (
            {"alerts": [{"status": "firing", "labels": {}, "startsAt": "yesterday"}]},
            "alerts[0].startsAt",
            "not an RFC 3339 time: 'yesterday'",
        ),
        (
            {"alerts": [{"status": "firing", "fingerprint": 7}]},
            "alerts[0].fingerprint",
            "expected a string, got int",
        ),
    ],
)
def test_it_answers_bad_payloads_with_400_naming_the_problem(web, body, field, message) -> None:
    _, client = web
    response = post_alerts(client, body)
    assert response.status_code == 400
    if field is None and message is None:
        assert response.json["error"] == "invalid_json"
        return
    assert response.json["message"] == message
    if field is not None:
        assert response.json["field"] == field


def test_it_refuses_bodies_over_one_mebibyte_with_413(web) -> None:
    _, client = web
    response = post_alerts(client, b"{" + b" " * (1024 * 1024 + 1) + b"}")
    assert response.status_code == 413
    assert response.json["error"] == "request_entity_too_large"


def test_it_reads_a_grafana_webhook(web) -> None:
    pager, client = web
    response = post_alerts(
        client,
        payload("grafana_firing.json"),
        {"Authorization": "Bearer gf-token"},
        "payments-grafana",
    )
    assert response.status_code == 200
    from pager.flows import incidents

    [view] = incidents.listing(pager, None)
    assert (view.title, view.summary) == ("DiskAlmostFull", "Disk on db-1 is 93% full")


def test_it_serves_incidents_over_the_api(web) -> None:
    pager, client = web
    post_alerts(client, payload("alertmanager_firing.json"))
    assert client.get("/api/v1/incidents").status_code == 401
    listing = client.get("/api/v1/incidents?status=triggered", headers=API).json["incidents"]
    assert [(i["id"], i["status"], i["alert_count"]) for i in listing] == [(1, "triggered", 2)]
    assert client.get("/api/v1/incidents?status=resolved", headers=API).json == {
        "incidents": [],
        "next": None,
    }
    bad = client.get("/api/v1/incidents?status=sleeping", headers=API)
    assert (bad.status_code, bad.json["field"]) == (400, "status")

    detail = client.get("/api/v1/incidents/1", headers=API).json
    assert set(detail) >= {
        "id",
        "status",
        "service",
        "title",
        "alert_count",
        "created_at",
        "acknowledged_by",
        "timeline",
    }
    acked = client.post("/api/v1/incidents/1/ack", headers=API, json={"by": "Dana"}).json
    # The token acts (a bare token is "api"); the body's `by` is only a note beside it.
    assert (acked["status"], acked["acknowledged_by"]) == ("acknowledged", "api (for Dana)")
    resolved = client.post("/api/v1/incidents/1/resolve", headers=API).json
    assert (resolved["status"], resolved["timeline"][-1]["message"]) == (
        "resolved",
        "resolved by api (api)",
    )
    assert client.get("/api/v1/incidents/99", headers=API).status_code == 404


@freeze_time(ALICES_WEEK)  # the fixture rotates weekly: in-process, the clock is set
def test_it_answers_sandbox_replies_and_shows_the_phones(web) -> None:
    pager, client = web
    post_alerts(client, payload("alertmanager_firing.json"))
    run_due(pager, datetime.now(UTC))
    token = pager.providers[0].token  # type: ignore[attr-defined]
    assert client.get("/sandbox").status_code == 401
    page = client.get(f"/sandbox?token={token}")
    assert page.status_code == 200 and b"Alice Example" in page.data and b"Reply ACK" in page.data

    forged = client.post(
        "/providers/sandbox/inbound", data={"token": "nope", "from": ALICE, "body": "ACK"}
    )
    assert forged.status_code == 403
    answer = client.post(
        "/providers/sandbox/inbound", data={"token": token, "from": ALICE, "body": "ACK"}
    )
    assert answer.json["reply"].startswith("Acknowledged #1")
    assert [m.direction for m in phone(pager, ALICE)] == ["out", "in", "out"]


def test_it_reports_health_readiness_and_metrics(web) -> None:
    _, client = web
    post_alerts(client, payload("alertmanager_firing.json"))
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").json == {"status": "ok"}  # no token: the verdict only
    assert client.get("/readyz", headers=API).json == {
        "status": "ok",
        "checks": {"database": "ok", "rotations": "ok"},
    }
    metrics = client.get("/metrics").data.decode()
    assert 'pager_alerts_received_total{integration="payments-am",source="alertmanager"}' in metrics
    assert "pager_ack_latency_seconds_bucket" in metrics


def test_it_answers_unknown_paths_and_methods_with_json(web) -> None:
    _, client = web
    assert client.get("/nope").json["error"] == "not_found"
    response = client.get("/integrations/payments-am")
    assert (response.status_code, response.json["error"]) == (405, "method_not_allowed")


def test_it_names_the_actor_after_the_api_token_used(sqlite_url: str) -> None:
    settings = make_settings(
        sqlite_url, api_tokens=("api-token", "ci-token"), api_token_names=("api", "ci-bot")
    )
    pager = build_pager(settings)
    try:
        client = create_app(pager).test_client()
        post_alerts(client, payload("alertmanager_firing.json"))
        ci = {"Authorization": "Bearer ci-token"}
        acked = client.post("/api/v1/incidents/1/ack", headers=ci).json
        assert acked["acknowledged_by"] == "ci-bot"
        trail = client.get("/api/v1/audit?action=incident_acknowledged", headers=ci).json
        assert [(e["actor"], e["way"]) for e in trail["entries"]] == [("ci-bot", "api")]
        assert trail["next"] is None
    finally:
        pager.db.dispose()


def test_it_pages_through_the_audit_trail(web) -> None:
    pager, client = web
    for n in range(5):
        post_alerts(client, payload("alertmanager_firing.json"))
        client.post("/api/v1/incidents/1/ack", headers=API)
        client.post("/api/v1/incidents/1/unack", headers=API)
    first = client.get("/api/v1/audit?limit=4", headers=API).json
    assert len(first["entries"]) == 4 and first["next"]
    second = client.get(first["next"], headers=API).json
    ids = [e["id"] for e in first["entries"] + second["entries"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)
    bad = client.get("/api/v1/audit?limit=0", headers=API)
    assert (bad.status_code, bad.json["field"]) == (400, "limit")


def test_it_escalates_now_and_takes_notes_over_the_api(web) -> None:
    pager, client = web
    with freeze_time(ALICES_WEEK):
        post_alerts(client, payload("alertmanager_firing.json"))
        run_due(pager, datetime.now(UTC))
        detail = client.get("/api/v1/incidents/1", headers=API).json
        assert detail["next_step"].startswith(
            "step 2 of 3 at 12:05 UTC: voice to rotation sre-primary"
        )
        escalated = client.post("/api/v1/incidents/1/escalate", headers=API)
        assert escalated.json["timeline"][-1]["message"] == "api asked to escalate now (api)"
        noted = client.post("/api/v1/incidents/1/notes", headers=API, json={"text": "on it"})
        assert noted.status_code == 201
        assert noted.json["timeline"][-1]["message"] == "api (api): on it"
        empty = client.post("/api/v1/incidents/1/notes", headers=API, json={"text": " "})
        assert (empty.status_code, empty.json["field"]) == (400, "text")
        client.post("/api/v1/incidents/1/ack", headers=API)
        after = client.get("/api/v1/incidents/1", headers=API).json
        assert after["next_step"] is None  # acknowledged: nothing escalates
