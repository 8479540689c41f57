"""Grafana alerting's webhook contact point: Alertmanager's shape plus title/message/state."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pager.domain.alerts import AlertEvent
from pager.sources import alertmanager
from pager.sources.errors import SourceError


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
