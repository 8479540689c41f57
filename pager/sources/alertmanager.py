"""Prometheus Alertmanager's webhook (payload version 4).

Alertmanager retries only on 5xx, so anything wrong here must end as a 4xx (SourceError).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pager.domain.alerts import AlertEvent, AlertStatus, fingerprint_of
from pager.sources.errors import SourceError

_ZERO_TIME = "0001-01-01T00:00:00Z"


def parse(payload: Any) -> list[AlertEvent]:
    """Alertmanager's (or Grafana's Alertmanager-shaped) body -> one AlertEvent per alert."""
    body = _mapping(payload, "")
    alerts = body.get("alerts")
    if not isinstance(alerts, list):
        raise SourceError("alerts", "expected a list of alerts")
    group_key = _optional_text(body, "groupKey", "groupKey")
    common = _labels(body.get("commonAnnotations"), "commonAnnotations")
    return [_alert(alert, f"alerts[{i}]", group_key, common) for i, alert in enumerate(alerts)]


def _alert(
    raw: Any, path: str, group_key: str | None, common_annotations: dict[str, str]
) -> AlertEvent:
    alert = _mapping(raw, path)
    status = alert.get("status")
    if status not in ("firing", "resolved"):
        raise SourceError(f"{path}.status", f"expected 'firing' or 'resolved', got {status!r}")
    labels = _labels(alert.get("labels"), f"{path}.labels")
    annotations = {**common_annotations, **_labels(alert.get("annotations"), f"{path}.annotations")}
    fingerprint = _optional_text(alert, "fingerprint", f"{path}.fingerprint") or fingerprint_of(
        labels
    )
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
        starts_at=_time(alert.get("startsAt"), f"{path}.startsAt"),
        ends_at=_time(alert.get("endsAt"), f"{path}.endsAt"),
        generator_url=_optional_text(alert, "generatorURL", f"{path}.generatorURL"),
    )


def _mapping(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SourceError(path, f"expected a JSON object, got {type(value).__name__}")
    return value


def _labels(value: Any, path: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise SourceError(path, "expected an object of string values")
    return dict(value)


def _optional_text(body: dict[str, Any], key: str, path: str) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise SourceError(path, f"expected a string, got {type(value).__name__}")
    return value


def _time(value: Any, path: str) -> datetime | None:
    if value is None or value == "" or value == _ZERO_TIME:
        return None
    if not isinstance(value, str):
        raise SourceError(path, "expected an RFC 3339 time")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        # Go prints nanoseconds; Python takes at most microseconds.
        try:
            head, _, rest = value.partition(".")
            digits = "".join(c for c in rest if c.isdigit())
            zone = rest[len(digits) :]
            parsed = datetime.fromisoformat(f"{head}.{digits[:6]}{zone}".replace("Z", "+00:00"))
        except ValueError as exc:
            raise SourceError(path, f"not an RFC 3339 time: {value!r}") from exc
    if parsed.tzinfo is None:
        raise SourceError(path, f"time without a zone: {value!r}")
    return None if parsed.year <= 1 else parsed
