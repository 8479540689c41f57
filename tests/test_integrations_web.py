"""Every alert source through Flask's test client: authentication good, bad and missing, dedup,
resolve, ignored deliveries, and PagerDuty's Events API v2 answered as PagerDuty answers."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from pager.app import build_pager
from pager.config import FieldMapping, IntegrationSettings
from pager.flows import incidents
from pager.flows.context import Pager
from pager.flows.intake import receive_alerts
from pager.sources.signatures import hmac_sha256_hex
from pager.web import create_app
from pager.web import pagerduty as pagerduty_web
from tests.conftest import make_settings
from tests.helpers import payload
from tests.test_web import post_alerts

ROUTING_KEY = "R0UTINGKEY0FTHEPAYMENTSSERVICE01"
OTHER_ROUTING_KEY = "R0UTINGKEY0FTHEBILLINGSERVICE01"
STATUS_PAGE = FieldMapping(
    id=("incident", "key"),
    title=("incident", "name"),
    status=("state",),
    firing=("open", "triggered"),
    resolved=("closed",),
)
INTEGRATIONS = [
    IntegrationSettings("payments-am", "payments", "alertmanager", "am-token"),
    IntegrationSettings("signed-grafana", "payments", "grafana", None, "gf-secret", "gf-old"),
    IntegrationSettings("checkout-ci", "payments", "github", None, "gh-secret"),
    IntegrationSettings("ledger-ci", "payments", "gitlab", "gl-token"),
    IntegrationSettings("billing-jenkins", "payments", "jenkins", "jk-token"),
    IntegrationSettings("payments-pd", "payments", "pagerduty", ROUTING_KEY),
    IntegrationSettings("billing-pd", "payments", "pagerduty", OTHER_ROUTING_KEY),
    IntegrationSettings("backups", "payments", "generic", "gen-token"),
    IntegrationSettings("backups-signed", "payments", "generic", None, "gen-secret"),
    IntegrationSettings("status-page", "payments", "generic", "sp-token", mapping=STATUS_PAGE),
]


@pytest.fixture
def web(sqlite_url: str) -> Iterator[tuple[Pager, FlaskClient]]:
    settings = make_settings(sqlite_url, integrations={i.name: i for i in INTEGRATIONS})
    pager = build_pager(settings)
    app = create_app(pager)
    if "pagerduty" not in app.blueprints:  # registered in pager/web/__init__.py in time
        app.register_blueprint(pagerduty_web.blueprint)
    yield pager, app.test_client()
    pager.db.dispose()


def post(client: FlaskClient, name: str, body: Any, headers: dict[str, str] | None = None):
    return post_alerts(
        client, body if isinstance(body, bytes) else json.dumps(body), headers or {}, name
    )


def signed(secret: str, body: Any, header: str, prefix: str = "", **headers: str):
    data = json.dumps(body).encode()
    return data, {header: prefix + hmac_sha256_hex(secret, data), **headers}


def github(client: FlaskClient, event: str, body: Any, secret: str = "gh-secret"):
    data, headers = signed(
        secret, body, "X-Hub-Signature-256", "sha256=", **{"X-GitHub-Event": event}
    )
    return post(client, "checkout-ci", data, headers)


def states(pager: Pager) -> list[tuple[int, str, str, int]]:
    return [
        (i.id, i.status, i.title, i.alert_count) for i in reversed(incidents.listing(pager, None))
    ]


def opened(response) -> list[int]:
    assert response.status_code == 200, response.json
    return response.json["opened"]


# Grafana, signed


def test_it_takes_a_grafana_webhook_signed_with_the_current_or_previous_secret(web) -> None:
    pager, client = web
    data, headers = signed(
        "gf-secret", payload("grafana_firing.json"), "X-Grafana-Alerting-Signature"
    )
    assert opened(post(client, "signed-grafana", data, headers)) == [1]
    data, headers = signed(
        "gf-old", payload("grafana_resolved.json"), "X-Grafana-Alerting-Signature"
    )
    assert post(client, "signed-grafana", data, headers).json["resolved"] == [1]
    assert states(pager) == [(1, "resolved", "DiskAlmostFull", 1)]


def test_it_answers_a_pending_legacy_grafana_alert_200_ignored(web) -> None:
    pager, client = web
    pending = dict(payload("grafana_legacy_alerting.json"), state="pending")
    data, headers = signed("gf-secret", pending, "X-Grafana-Alerting-Signature")
    answer = post(client, "signed-grafana", data, headers)
    assert (answer.status_code, answer.json["status"]) == (200, "ignored")
    assert "state 'pending'" in answer.json["reason"]
    assert states(pager) == []


def test_it_takes_grafanas_timestamp_variant_and_refuses_a_replay(web) -> None:
    _, client = web
    body = json.dumps(payload("grafana_firing.json")).encode()
    for age, status in ((10, 200), (600, 401)):
        stamp = str(int(time.time()) - age)
        headers = {
            "X-Grafana-Alerting-Timestamp": stamp,
            "X-Grafana-Alerting-Signature": hmac_sha256_hex(
                "gf-secret", f"{stamp}:".encode() + body
            ),
        }
        assert post(client, "signed-grafana", body, headers).status_code == status


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "missing X-Grafana-Alerting-Signature header (HMAC-SHA256 of the body)"),
        (
            {"Authorization": "Bearer gf-secret"},
            "missing X-Grafana-Alerting-Signature header (HMAC-SHA256 of the body)",
        ),
        (
            {"X-Grafana-Alerting-Signature": "00" * 32},
            "X-Grafana-Alerting-Signature does not match: body not signed with this secret",
        ),
    ],
)
def test_it_refuses_an_unsigned_or_forged_grafana_webhook(web, headers, message) -> None:
    pager, client = web
    response = post(client, "signed-grafana", payload("grafana_firing.json"), headers)
    assert (response.status_code, response.json) == (
        401,
        {"error": "unauthorized", "message": message},
    )
    assert states(pager) == []


# GitHub


def test_it_opens_one_incident_for_failed_runs_and_resolves_it_on_success(web) -> None:
    pager, client = web
    assert opened(github(client, "workflow_run", payload("github_workflow_run_failed.json"))) == [1]
    again = github(client, "workflow_run", payload("github_workflow_run_failed.json"))
    assert (again.json["opened"], again.json["updated"]) == ([], [1])
    passed = github(client, "workflow_run", payload("github_workflow_run_succeeded.json"))
    assert passed.json["resolved"] == [1]
    assert states(pager) == [(1, "resolved", "checkout: CI failed on main", 1)]
    # The next failure is a new incident.
    assert opened(github(client, "workflow_run", payload("github_workflow_run_failed.json"))) == [2]


def test_it_answers_a_github_ping_and_unwatched_events_without_opening_anything(web) -> None:
    pager, client = web
    ping = github(client, "ping", payload("github_ping.json"))
    assert (ping.status_code, ping.json) == (
        200,
        {
            "status": "ignored",
            "reason": "ping: the webhook reaches pager; failed runs will open incidents",
        },
    )
    push = github(client, "push", {"ref": "refs/heads/main"})
    assert push.json["reason"] == "event 'push' is not watched (watched: check_suite, workflow_run)"
    body = payload("github_workflow_run_failed.json")
    body["workflow_run"]["head_branch"] = "feature/x"
    assert github(client, "workflow_run", body).json == {
        "status": "ignored",
        "reason": "branch 'feature/x' is not watched (watched: main)",
    }
    assert states(pager) == []


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "missing X-Hub-Signature-256 header (HMAC-SHA256 of the body)"),
        (
            {"X-Hub-Signature-256": "sha1=abc"},
            "X-Hub-Signature-256 must look like 'sha256=<hex HMAC-SHA256>'",
        ),
        (
            {"Authorization": "Bearer gh-secret"},
            "missing X-Hub-Signature-256 header (HMAC-SHA256 of the body)",
        ),
    ],
)
def test_it_refuses_an_unsigned_github_webhook(web, headers, message) -> None:
    pager, client = web
    headers = {"X-GitHub-Event": "workflow_run", **headers}
    response = post(client, "checkout-ci", payload("github_workflow_run_failed.json"), headers)
    assert (response.status_code, response.json["message"]) == (401, message)
    assert states(pager) == []


def test_it_refuses_a_github_webhook_signed_with_another_secret_even_a_ping(web) -> None:
    _, client = web
    assert (
        github(
            client, "workflow_run", payload("github_workflow_run_failed.json"), "nope"
        ).status_code
        == 401
    )
    assert github(client, "ping", payload("github_ping.json"), "nope").status_code == 401


def test_it_names_a_missing_github_event_header(web) -> None:
    _, client = web
    data, headers = signed(
        "gh-secret", payload("github_ping.json"), "X-Hub-Signature-256", "sha256="
    )
    response = post(client, "checkout-ci", data, headers)
    assert (response.status_code, response.json["field"]) == (400, "X-GitHub-Event")


# GitLab


def gitlab(
    client: FlaskClient, body: Any, token: str | None = "gl-token", event: str = "Pipeline Hook"
):
    headers = {"X-Gitlab-Event": event}
    if token is not None:
        headers["X-Gitlab-Token"] = token
    return post(client, "ledger-ci", body, headers)


def test_it_opens_and_resolves_an_incident_from_gitlab_pipelines(web) -> None:
    pager, client = web
    assert opened(gitlab(client, payload("gitlab_pipeline_failed.json"))) == [1]
    assert gitlab(client, payload("gitlab_pipeline_failed.json")).json["updated"] == [1]
    assert gitlab(client, payload("gitlab_pipeline_succeeded.json")).json["resolved"] == [1]
    assert states(pager) == [(1, "resolved", "Ledger: pipeline failed on main", 1)]
    ignored = gitlab(client, {"object_kind": "push"}, event="Push Hook")
    assert ignored.json["status"] == "ignored"


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (None, "missing X-Gitlab-Token header"),
        ("wrong", "wrong X-Gitlab-Token: it must equal the integration's token"),
    ],
)
def test_it_refuses_gitlab_without_its_token_header(web, token, message) -> None:
    _, client = web
    response = gitlab(client, payload("gitlab_pipeline_failed.json"), token)
    assert (response.status_code, response.json["message"]) == (401, message)
    as_bearer = post(
        client,
        "ledger-ci",
        payload("gitlab_pipeline_failed.json"),
        {"Authorization": "Bearer gl-token", "X-Gitlab-Event": "Pipeline Hook"},
    )
    assert as_bearer.status_code == 401


# Jenkins


def test_it_opens_and_resolves_an_incident_from_jenkins_with_the_token_in_the_url(web) -> None:
    pager, client = web
    assert opened(
        post(client, "billing-jenkins?token=jk-token", payload("jenkins_failed.json"))
    ) == [1]
    started = post(client, "billing-jenkins?token=jk-token", payload("jenkins_started.json"))
    assert started.json["status"] == "ignored"
    bearer = {"Authorization": "Bearer jk-token"}
    assert post(client, "billing-jenkins", payload("jenkins_succeeded.json"), bearer).json[
        "resolved"
    ] == [1]
    assert states(pager) == [(1, "resolved", "billing-nightly: build failed on main", 1)]


@pytest.mark.parametrize("url", ["billing-jenkins", "billing-jenkins?token=am-token"])
def test_it_refuses_jenkins_without_its_token(web, url) -> None:
    _, client = web
    response = post(client, url, payload("jenkins_failed.json"))
    assert (response.status_code, response.json["error"]) == (401, "unauthorized")


# Generic JSON


def test_it_takes_the_documented_generic_shape_with_the_token(web) -> None:
    pager, client = web
    bearer = {"Authorization": "Bearer gen-token"}
    assert opened(post(client, "backups", payload("generic_alerts.json"), bearer)) == [1, 2]
    resolved = {"id": "backup-db-1", "status": "resolved", "title": "Nightly backup missing"}
    assert post(client, "backups", resolved, bearer).json["resolved"] == [1]
    assert post(client, "backups", payload("generic_alerts.json")).status_code == 401
    bad = post(client, "backups", {"alerts": [{"status": "firing"}]}, bearer)
    assert (bad.status_code, bad.json["field"]) == (400, "alerts[0].title")
    assert [s[:2] for s in states(pager)] == [(1, "resolved"), (2, "triggered")]


def test_it_takes_a_signed_generic_webhook(web) -> None:
    _, client = web
    data, headers = signed(
        "gen-secret", payload("generic_single.json"), "X-Pager-Signature", "sha256="
    )
    assert opened(post(client, "backups-signed", data, headers)) == [1]
    assert (
        post(
            client, "backups-signed", data, {"X-Pager-Signature": "sha256=" + "0" * 64}
        ).status_code
        == 401
    )
    assert (
        post(client, "backups-signed", data, {"Authorization": "Bearer gen-secret"}).status_code
        == 401
    )


def test_it_reads_any_json_through_the_integration_mapping(web) -> None:
    pager, client = web
    bearer = {"Authorization": "Bearer sp-token"}
    body = payload("generic_mapped.json")
    assert opened(post(client, "status-page", body, bearer)) == [1]
    body["state"] = "acknowledged"
    assert post(client, "status-page", body, bearer).json["status"] == "ignored"
    body["state"] = "closed"
    assert post(client, "status-page", body, bearer).json["resolved"] == [1]
    assert states(pager) == [(1, "resolved", "Status page: card payments degraded", 1)]


# PagerDuty Events API v2


def enqueue(client: FlaskClient, body: Any):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post("/v2/enqueue", data=data, content_type="application/json")


def test_it_answers_a_pagerduty_trigger_exactly_as_pagerduty_does(web) -> None:
    pager, client = web
    response = enqueue(client, payload("pagerduty_trigger.json"))
    assert response.status_code == 202
    assert response.json == {
        "status": "success",
        "message": "Event processed",
        "dedup_key": "queue-depth/settlements/prod",
    }
    assert list(response.json) == ["status", "message", "dedup_key"]
    assert enqueue(client, payload("pagerduty_trigger.json")).status_code == 202
    assert states(pager) == [
        (1, "triggered", "Settlement queue depth above 5000 for 10 minutes", 1)
    ]


def test_it_acknowledges_and_resolves_by_dedup_key(web) -> None:
    pager, client = web
    enqueue(client, payload("pagerduty_trigger.json"))
    acknowledged = enqueue(client, payload("pagerduty_acknowledge.json"))
    assert (acknowledged.status_code, acknowledged.json["dedup_key"]) == (
        202,
        "queue-depth/settlements/prod",
    )
    view = incidents.view(pager, 1)
    assert (view.status, view.acknowledged_by) == ("acknowledged", "payments-pd")
    assert "acknowledged by payments-pd (pagerduty)" in [t.message for t in view.timeline]
    assert enqueue(client, payload("pagerduty_resolve.json")).status_code == 202
    assert incidents.view(pager, 1).status == "resolved"
    # Once resolved, acknowledge and resolve are dropped; a trigger opens a new incident.
    assert enqueue(client, payload("pagerduty_acknowledge.json")).status_code == 202
    assert enqueue(client, payload("pagerduty_trigger.json")).status_code == 202
    assert [s[:2] for s in states(pager)] == [(1, "resolved"), (2, "triggered")]


def test_it_returns_a_generated_dedup_key_that_resolves_the_alert(web) -> None:
    pager, client = web
    body = payload("pagerduty_trigger.json")
    del body["dedup_key"]
    key = enqueue(client, body).json["dedup_key"]
    assert len(key) == 32
    assert enqueue(client, body).json["dedup_key"] != key  # no key: always a new alert
    resolve = {"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": key}
    assert enqueue(client, resolve).json == {
        "status": "success",
        "message": "Event processed",
        "dedup_key": key,
    }
    assert [s[:2] for s in states(pager)] == [(1, "resolved"), (2, "triggered")]


def test_it_routes_by_routing_key_and_keeps_dedup_keys_per_integration(web) -> None:
    pager, client = web
    enqueue(client, payload("pagerduty_trigger.json"))
    other = {**payload("pagerduty_trigger.json"), "routing_key": OTHER_ROUTING_KEY}
    enqueue(client, other)
    resolve_other = {**payload("pagerduty_resolve.json"), "routing_key": OTHER_ROUTING_KEY}
    enqueue(client, resolve_other)
    with pager.db.transaction() as session:
        from pager.store.models import Incident

        found = {i.id: (i.integration, i.status) for i in session.query(Incident)}
    assert found == {1: ("payments-pd", "triggered"), 2: ("billing-pd", "resolved")}


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({**payload("pagerduty_trigger.json"), "routing_key": "WRONGKEY"}, ["Invalid routing key"]),
        ({**payload("pagerduty_trigger.json"), "routing_key": "am-token"}, ["Invalid routing key"]),
        (
            {"routing_key": ROUTING_KEY, "event_action": "trigger"},
            ["'payload' is missing or blank"],
        ),
        (
            {
                "routing_key": ROUTING_KEY,
                "event_action": "trigger",
                "payload": {"summary": "s", "source": "h", "severity": "bad"},
            },
            ["'payload.severity' is invalid (must be one of: critical, error, warning, info)"],
        ),
        (
            {"event_action": "resolve"},
            ["'routing_key' is missing or blank", "'dedup_key' is missing or blank"],
        ),
        (b"{not json", ["Event object is not valid JSON"]),
    ],
)
def test_it_answers_invalid_events_exactly_as_pagerduty_does(web, body, errors) -> None:
    pager, client = web
    response = enqueue(client, body)
    assert (response.status_code, response.json) == (
        400,
        {"status": "invalid event", "message": "Event object is invalid", "errors": errors},
    )
    assert states(pager) == []


def test_it_refuses_pagerduty_events_over_one_mebibyte_with_413(web) -> None:
    _, client = web
    assert enqueue(client, b"{" + b" " * (1024 * 1024 + 1) + b"}").status_code == 413


def test_it_takes_pagerduty_events_at_the_integration_url_too(web) -> None:
    pager, client = web
    bearer = {"Authorization": f"Bearer {ROUTING_KEY}"}
    assert opened(post(client, "payments-pd", payload("pagerduty_trigger.json"), bearer)) == [1]
    acknowledged = post(client, "payments-pd", payload("pagerduty_acknowledge.json"), bearer)
    assert acknowledged.json["acknowledged"] == [1]
    assert post(client, "payments-pd", payload("pagerduty_trigger.json")).status_code == 401


# Every source


def test_it_keeps_the_alertmanager_answer_unchanged(web) -> None:
    _, client = web
    response = post(
        client,
        "payments-am",
        payload("alertmanager_firing.json"),
        {"Authorization": "Bearer am-token"},
    )
    assert response.json == {
        "status": "ok",
        "alerts": 2,
        "opened": [1],
        "updated": [],
        "resolved": [],
    }


def test_it_acknowledges_an_open_alert_in_one_transaction_on_both_databases(pager: Pager) -> None:
    """The flow behind PagerDuty's `acknowledge`, on SQLite and PostgreSQL."""
    from datetime import UTC, datetime

    from pager.flows.external import acknowledge_alerts
    from pager.sources import PARSERS

    integration = pager.settings.integrations["payments-am"]
    now = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    events = PARSERS["alertmanager"](payload("alertmanager_firing.json"))
    [incident_id] = receive_alerts(pager, integration, events, now).opened
    assert acknowledge_alerts(pager, integration, ["unknown-fingerprint"], now) == []
    assert acknowledge_alerts(pager, integration, [events[0].fingerprint], now) == [incident_id]
    assert acknowledge_alerts(pager, integration, [events[0].fingerprint], now) == []  # once
    view = incidents.view(pager, incident_id)
    assert (view.status, view.acknowledged_by) == ("acknowledged", "payments-am")
