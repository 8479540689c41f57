"""Grafana alerting's webhook contact point: Alertmanager's shape plus title/message/state.

With an integration `secret`, Grafana's HMAC signature is required: hex HMAC-SHA256 of the body,
or of `<unix seconds>:<body>` when Grafana is set to send a timestamp header too.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from pager.config import IntegrationSettings
from pager.domain.alerts import AlertEvent
from pager.sources import alertmanager, auth
from pager.sources.delivery import Delivery, bounded_fingerprint, bounded_group_key
from pager.sources.errors import Ignored, NotAuthenticated, SourceError
from pager.sources.signatures import MAX_CLOCK_SKEW, is_fresh

# Grafana's docs name the first; its code falls back to the second when the Header field is
# left empty. Accept both, so either setup works.
SIGNATURE_HEADERS = ("X-Grafana-Alerting-Signature", "X-Grafana-Alert-Signature")
# Grafana has no default name for the timestamp header: our recipe asks for this one.
TIMESTAMP_HEADER = "X-Grafana-Alerting-Timestamp"


_LEGACY_FIRING = {"alerting": "firing", "ok": "resolved", "no_data": "firing"}


def parse(payload: Any) -> list[AlertEvent]:
    if isinstance(payload, dict) and "alerts" not in payload and "ruleName" in payload:
        return [_legacy(payload)]
    events = alertmanager.parse(payload)
    message = payload.get("message")
    if message is not None and not isinstance(message, str):
        raise SourceError("message", "expected a string")
    # Grafana puts its own summary in per-alert annotations; fall back to valueString, which
    # says what the query returned ("[ var='A' labels={} value=97 ]").
    enriched = []
    for raw, event in zip(payload["alerts"], events, strict=True):
        value_string = raw.get("valueString")
        if event.summary is None and isinstance(value_string, str) and value_string.strip():
            event = replace(event, summary=value_string.strip())
        # Grafana gives the alert's dashboard as a field, not an annotation: keep it with the
        # annotations (where message templates find `links.dashboard`) unless one is set.
        dashboard = raw.get("dashboardURL")
        linked = isinstance(dashboard, str) and dashboard.startswith(("http://", "https://"))
        if linked and "dashboard_url" not in event.annotations:
            annotations = {**event.annotations, "dashboard_url": str(dashboard)[:2000]}
            event = replace(event, annotations=annotations)
        enriched.append(event)
    return enriched


def _legacy(payload: dict[str, Any]) -> AlertEvent:
    """Grafana's legacy (pre-unified alerting) webhook: one rule, state alerting/ok/no_data."""
    state = payload.get("state")
    if not isinstance(state, str) or not state:
        raise SourceError("state", "expected the rule's state, like alerting or ok")
    status = _LEGACY_FIRING.get(state)
    if status is None:
        # Grafana's legacy states also include pending, paused and unknown: genuine, but
        # nothing to page for (a 4xx would make Grafana log an error on every evaluation).
        raise Ignored(
            f"state '{state[:40]}' is not one pager pages for "
            "(alerting and no_data page, ok resolves)"
        )
    name = payload.get("ruleName")
    if not isinstance(name, str) or not name:
        raise SourceError("ruleName", "expected the rule's name")
    rule = payload.get("ruleId")
    if rule is not None and (isinstance(rule, bool) or not isinstance(rule, int | str)):
        raise SourceError("ruleId", "expected a number")
    message = payload.get("message")
    if message is not None and not isinstance(message, str):
        raise SourceError("message", "expected a string")
    tags = payload.get("tags") or {}
    if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
        raise SourceError("tags", "expected an object of string values")
    url = payload.get("ruleUrl")
    key = f"grafana-rule-{rule if rule is not None else name}"
    return AlertEvent(
        fingerprint=bounded_fingerprint(key),
        status="firing" if status == "firing" else "resolved",
        name=name,
        group_key=bounded_group_key(key),
        summary=message or None,
        labels={"alertname": name, **tags},
        generator_url=url if isinstance(url, str) else None,
    )


def verify(delivery: Delivery, integration: IntegrationSettings, now: datetime) -> None:
    """Grafana's HMAC signature when the integration has a secret, else the bearer token."""
    if not integration.secret:
        auth.by_token(delivery, integration, now)
        return
    header = next((h for h in SIGNATURE_HEADERS if delivery.header(h)), SIGNATURE_HEADERS[0])
    message = delivery.body
    timestamp = delivery.header(TIMESTAMP_HEADER)
    if timestamp:
        if not is_fresh(timestamp, now):
            minutes = int(MAX_CLOCK_SKEW.total_seconds() // 60)
            raise NotAuthenticated(
                f"{TIMESTAMP_HEADER} '{timestamp[:20]}' is not within {minutes} minutes of "
                "our clock: a replayed request, or a clock to fix"
            )
        message = f"{timestamp}:".encode() + delivery.body
    auth.require_signature(integration, header, delivery.header(header), "", message)
