"""Prometheus Alertmanager's webhook (payload version 4).

Alertmanager retries only on 5xx, so anything wrong here must end as a 4xx (SourceError), and
anything right must fit the store: keys too long for their columns are bounded, not refused.
"""

from __future__ import annotations

from typing import Any

from pager.domain.alerts import AlertEvent, AlertStatus, fingerprint_of
from pager.sources import fields
from pager.sources.delivery import bounded_fingerprint, bounded_group_key
from pager.sources.errors import SourceError


def parse(payload: Any) -> list[AlertEvent]:
    """Alertmanager's (or Grafana's Alertmanager-shaped) body -> one AlertEvent per alert."""
    body = fields.mapping(payload, "")
    alerts = body.get("alerts")
    if not isinstance(alerts, list):
        raise SourceError("alerts", "expected a list of alerts")
    group_key = bounded_group_key(fields.optional_text(body, "groupKey", "groupKey"))
    common = fields.labels(body.get("commonAnnotations"), "commonAnnotations")
    return [_alert(alert, f"alerts[{i}]", group_key, common) for i, alert in enumerate(alerts)]


def _alert(
    raw: Any, path: str, group_key: str | None, common_annotations: dict[str, str]
) -> AlertEvent:
    alert = fields.mapping(raw, path)
    status = alert.get("status")
    if status not in ("firing", "resolved"):
        raise SourceError(f"{path}.status", f"expected 'firing' or 'resolved', got {status!r}")
    labels = fields.labels(alert.get("labels"), f"{path}.labels")
    annotations = {
        **common_annotations,
        **fields.labels(alert.get("annotations"), f"{path}.annotations"),
    }
    given = fields.optional_text(alert, "fingerprint", f"{path}.fingerprint")
    fingerprint = bounded_fingerprint(given) if given else fingerprint_of(labels)
    summary = annotations.get("summary") or annotations.get("description") or None
    as_status: AlertStatus = status
    return AlertEvent(
        fingerprint=fingerprint,
        status=as_status,
        name=labels.get("alertname") or "alert",
        group_key=group_key,
        summary=summary,
        labels=labels,
        annotations=annotations,
        starts_at=fields.time(alert.get("startsAt"), f"{path}.startsAt"),
        ends_at=fields.time(alert.get("endsAt"), f"{path}.endsAt"),
        generator_url=fields.optional_text(alert, "generatorURL", f"{path}.generatorURL"),
    )
