"""Grafana's own webhook examples (its docs, see README.md here): the unified alerting contact
point and the legacy notification channel, sent unchanged and signed as Grafana signs them
(X-Grafana-Alerting-Signature: hex HMAC-SHA256 of the body)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pager.sources.signatures import hmac_sha256_hex
from tests.test_integrations_web import post, states, web  # noqa: F401 (the fixture)

HERE = Path(__file__).parent / "grafana"


def deliver(client, raw: bytes):
    headers = {"X-Grafana-Alerting-Signature": hmac_sha256_hex("gf-secret", raw)}
    return post(client, "signed-grafana", raw, headers)


def example(name: str) -> bytes:
    return (HERE / name).read_bytes()


def changed(name: str, **fields: str) -> bytes:
    """The example with top-level `fields` changed (and, for `status`, each alert's too)."""
    body = json.loads(example(name))
    body.update(fields)
    for alert in body.get("alerts", []):
        alert["status"] = fields.get("status", alert["status"])
    return json.dumps(body).encode()


def test_it_opens_one_incident_for_the_documented_firing_group(web) -> None:  # noqa: F811
    pager, client = web
    answer = deliver(client, example("webhook-notifier.json"))
    assert answer.status_code == 200, answer.json
    assert answer.json["opened"] == [1]
    assert states(pager) == [(1, "triggered", "High memory usage", 2)]


def test_it_resolves_when_grafana_sends_the_group_resolved(web) -> None:  # noqa: F811
    pager, client = web
    deliver(client, example("webhook-notifier.json"))
    answer = deliver(client, changed("webhook-notifier.json", status="resolved"))
    assert answer.status_code == 200, answer.json
    assert answer.json["resolved"] == [1]
    assert states(pager)[0][1] == "resolved"


def test_it_opens_for_the_documented_legacy_alert_and_resolves_on_ok(web) -> None:  # noqa: F811
    pager, client = web
    answer = deliver(client, example("legacy-webhook.json"))
    assert answer.status_code == 200, answer.json
    assert states(pager) == [(1, "triggered", "Panel Title alert", 1)]
    answer = deliver(client, changed("legacy-webhook.json", state="ok"))
    assert answer.status_code == 200, answer.json
    assert answer.json["resolved"] == [1]


@pytest.mark.parametrize("state", ["pending", "paused"])
def test_it_answers_200_and_pages_nobody_for_a_legacy_state_that_asks_nothing(
    web,  # noqa: F811
    state: str,
) -> None:
    pager, client = web
    answer = deliver(client, changed("legacy-webhook.json", state=state))
    assert answer.status_code == 200, answer.json
    assert answer.json.get("opened", []) == []
    assert states(pager) == []


def test_it_pages_for_a_legacy_no_data_alert(web) -> None:  # noqa: F811
    pager, client = web
    answer = deliver(client, changed("legacy-webhook.json", state="no_data"))
    assert answer.status_code == 200, answer.json
    assert states(pager) == [(1, "triggered", "Panel Title alert", 1)]


def test_it_refuses_the_documented_payload_signed_with_another_secret(web) -> None:  # noqa: F811
    _, client = web
    raw = example("webhook-notifier.json")
    headers = {"X-Grafana-Alerting-Signature": hmac_sha256_hex("not-gf-secret", raw)}
    assert post(client, "signed-grafana", raw, headers).status_code == 401
