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
from pager.sources.delivery import Delivery
from pager.sources.errors import NotAuthenticated, SourceError
from pager.sources.signatures import MAX_CLOCK_SKEW, is_fresh

# Grafana's docs name the first; its code falls back to the second when the Header field is
# left empty. Accept both, so either setup works.
SIGNATURE_HEADERS = ("X-Grafana-Alerting-Signature", "X-Grafana-Alert-Signature")
# Grafana has no default name for the timestamp header: our recipe asks for this one.
TIMESTAMP_HEADER = "X-Grafana-Alerting-Timestamp"


def parse(payload: Any) -> list[AlertEvent]:
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
        enriched.append(event)
    return enriched


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
