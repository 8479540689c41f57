"""Grafana: the Alertmanager shape, and its HMAC signature with or without a timestamp."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from pager.config import IntegrationSettings
from pager.sources import REGISTRY
from pager.sources.delivery import Delivery
from pager.sources.errors import NotAuthenticated
from pager.sources.grafana import parse, verify
from pager.sources.signatures import hmac_sha256_hex
from tests.helpers import payload

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
BODY = json.dumps(payload("grafana_firing.json")).encode()
SIGNED = IntegrationSettings("gf", "payments", "grafana", "gf-token", "s3cret", "old-s3cret")


def refusal(headers: dict[str, str], integration: IntegrationSettings = SIGNED) -> str:
    try:
        verify(Delivery.of(BODY, headers), integration, NOW)
    except NotAuthenticated as exc:
        return str(exc)
    return "accepted"


def test_it_reads_title_summary_and_state_of_a_grafana_alert() -> None:
    [event] = parse(payload("grafana_firing.json"))
    assert (event.name, event.status, event.summary) == (
        "DiskAlmostFull",
        "firing",
        "Disk on db-1 is 93% full",
    )
    [resolved] = parse(payload("grafana_resolved.json"))
    assert (resolved.fingerprint, resolved.status) == (event.fingerprint, "resolved")


def test_it_keeps_grafanas_dashboard_url_with_the_annotations() -> None:
    [event] = parse(payload("grafana_firing.json"))
    assert event.annotations["dashboard_url"] == "http://grafana:3000/d/disk"
    body = payload("grafana_firing.json")
    body["alerts"][0]["annotations"]["dashboard_url"] = "https://grafana.example.com/d/own"
    [own] = parse(body)
    assert own.annotations["dashboard_url"] == "https://grafana.example.com/d/own"  # kept


@pytest.mark.parametrize("header", ["X-Grafana-Alerting-Signature", "X-Grafana-Alert-Signature"])
@pytest.mark.parametrize("secret", ["s3cret", "old-s3cret"])
def test_it_accepts_a_body_signed_with_the_current_or_previous_secret(header, secret) -> None:
    assert refusal({header: hmac_sha256_hex(secret, BODY)}) == "accepted"


def test_it_accepts_the_timestamp_variant_that_signs_timestamp_colon_body() -> None:
    stamp = str(int(NOW.timestamp()) - 30)
    signature = hmac_sha256_hex("s3cret", f"{stamp}:".encode() + BODY)
    headers = {"X-Grafana-Alerting-Signature": signature, "X-Grafana-Alerting-Timestamp": stamp}
    assert refusal(headers) == "accepted"
    # The same signature without its timestamp, or the body-only signature with one, fails.
    assert "does not match" in refusal({"X-Grafana-Alerting-Signature": signature})
    body_only = hmac_sha256_hex("s3cret", BODY)
    assert "does not match" in refusal({**headers, "X-Grafana-Alerting-Signature": body_only})


def test_it_refuses_a_stale_or_future_timestamp_even_when_signed() -> None:
    for offset in (-301, 400):
        stamp = str(int(NOW.timestamp()) + offset)
        signature = hmac_sha256_hex("s3cret", f"{stamp}:".encode() + BODY)
        headers = {"X-Grafana-Alerting-Signature": signature, "X-Grafana-Alerting-Timestamp": stamp}
        assert refusal(headers) == (
            f"X-Grafana-Alerting-Timestamp '{stamp}' is not within 5 minutes of our clock: "
            "a replayed request, or a clock to fix"
        )


def test_it_requires_the_signature_once_a_secret_is_set_even_with_the_token() -> None:
    assert refusal({"Authorization": "Bearer gf-token"}) == (
        "missing X-Grafana-Alerting-Signature header (HMAC-SHA256 of the body)"
    )
    assert "does not match" in refusal(
        {"X-Grafana-Alerting-Signature": hmac_sha256_hex("other", BODY)}
    )


def test_it_takes_the_bearer_token_when_no_secret_is_set() -> None:
    plain = IntegrationSettings("gf", "payments", "grafana", "gf-token")
    assert refusal({"Authorization": "Bearer gf-token"}, plain) == "accepted"
    assert refusal({}, plain).startswith("missing or wrong token")


def test_it_is_registered_with_its_own_check() -> None:
    assert REGISTRY["grafana"].verify is verify


def test_it_reads_grafanas_legacy_webhook_and_its_ok_state() -> None:
    from pager.sources import grafana
    from tests.helpers import payload

    body = payload("grafana_legacy_alerting.json")
    [event] = grafana.parse(body)
    assert (event.fingerprint, event.status, event.name) == (
        "grafana-rule-12",
        "firing",
        "High CPU",
    )
    assert event.summary == "CPU on web-3 has been above 95% for 10 minutes"
    assert event.labels == {"alertname": "High CPU", "team": "platform"}
    [ok] = grafana.parse(dict(body, state="ok"))
    assert (ok.fingerprint, ok.status) == ("grafana-rule-12", "resolved")


def test_it_ignores_legacy_states_it_does_not_page_for() -> None:
    """Grafana's legacy alerting has the states ok, paused, alerting, pending, no_data and
    unknown (grafana/grafana v8, pkg/models/alert.go: AlertStateOK ... AlertStateUnknown)."""
    import pytest

    from pager.sources import grafana
    from pager.sources.errors import Ignored, SourceError
    from tests.helpers import payload

    for state in ("pending", "paused", "unknown"):
        with pytest.raises(Ignored, match=f"state '{state}' is not one pager pages for"):
            grafana.parse(dict(payload("grafana_legacy_alerting.json"), state=state))
    with pytest.raises(SourceError) as caught:
        grafana.parse(dict(payload("grafana_legacy_alerting.json"), state=7))
    assert caught.value.field == "state"
