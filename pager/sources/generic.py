"""A generic JSON webhook, for tools without a source of their own.

The documented shape is `{"alerts": [alert, ...]}` or a single alert, where an alert is
`{"id", "status": "firing"|"resolved", "title", "summary", "labels": {...}, "url"}` (only
`title` is required). An integration `mapping` reads any other JSON instead, with dotted paths
(`$.incident.key`). With a `secret`, requests are signed (`X-Pager-Signature: sha256=<hex>`);
without one, the token authenticates.
"""

from __future__ import annotations

import json
from typing import Any

from pager.config import FieldMapping, FieldPath, IntegrationSettings
from pager.domain.alerts import AlertEvent, AlertStatus, fingerprint_of
from pager.sources import auth, fields
from pager.sources.delivery import Delivery, Received, bounded_fingerprint
from pager.sources.errors import Ignored, SourceError

SIGNATURE_HEADER = "X-Pager-Signature"
verify = auth.signature_or_token(SIGNATURE_HEADER, "sha256=")


def read(payload: Any, delivery: Delivery, integration: IntegrationSettings) -> Received:
    if integration.mapping is not None:
        return Received(events=(mapped_alert(payload, integration.mapping),))
    body = fields.mapping(payload, "")
    if "alerts" not in body:
        return Received(events=(_alert(body, ""),))
    alerts = body["alerts"]
    if not isinstance(alerts, list):
        raise SourceError("alerts", "expected a list of alerts")
    return Received(events=tuple(_alert(a, f"alerts[{i}]") for i, a in enumerate(alerts)))


def _alert(raw: Any, path: str) -> AlertEvent:
    alert = fields.mapping(raw, path)
    at = (lambda key: f"{path}.{key}") if path else (lambda key: key)
    title = fields.required_text(alert, "title", at("title"))
    status = alert.get("status", "firing")
    if status not in ("firing", "resolved"):
        raise SourceError(at("status"), f"expected 'firing' or 'resolved', got {status!r}")
    labels = fields.labels(alert.get("labels"), at("labels"))
    return _event(
        key=_identity(alert.get("id"), at("id")),
        status=status,
        title=title,
        summary=fields.optional_text(alert, "summary", at("summary")),
        labels=labels,
        url=fields.optional_text(alert, "url", at("url")),
    )


def mapped_alert(payload: Any, mapping: FieldMapping) -> AlertEvent:
    """One alert read from any JSON body with the integration's field mapping."""
    title = _required_text_at(payload, mapping.title)
    status = _status_at(payload, mapping) if mapping.status else "firing"
    labels = read_path(payload, mapping.labels) if mapping.labels else None
    if labels is not None and not isinstance(labels, dict):
        raise SourceError(_shown(mapping.labels or ()), "expected an object (the alert's labels)")
    return _event(
        key=_text_at(payload, mapping.id) if mapping.id else None,
        status=status,
        title=title,
        summary=_text_at(payload, mapping.summary) if mapping.summary else None,
        labels={str(k): _as_text(v) for k, v in (labels or {}).items()},
        url=_text_at(payload, mapping.url) if mapping.url else None,
    )


def read_path(document: Any, path: FieldPath) -> Any:
    """The value at `path` (object keys; list positions as numbers), or None when absent."""
    value = document
    for segment in path:
        if isinstance(value, dict):
            value = value.get(segment)
        elif isinstance(value, list) and segment.isdigit() and int(segment) < len(value):
            value = value[int(segment)]
        else:
            return None
    return value


def _status_at(payload: Any, mapping: FieldMapping) -> AlertStatus:
    path = mapping.status or ()
    said = _required_text_at(payload, path)
    if said.casefold() in {s.casefold() for s in mapping.firing}:
        return "firing"
    if said.casefold() in {s.casefold() for s in mapping.resolved}:
        return "resolved"
    raise Ignored(
        f"{_shown(path)} is '{said}': neither firing ({', '.join(mapping.firing)}) "
        f"nor resolved ({', '.join(mapping.resolved)})"
    )


def _text_at(payload: Any, path: FieldPath) -> str | None:
    value = read_path(payload, path)
    if value is None or value == "":
        return None
    if isinstance(value, dict | list):
        raise SourceError(_shown(path), f"expected text, got {type(value).__name__}")
    return _as_text(value)


def _required_text_at(payload: Any, path: FieldPath) -> str:
    value = _text_at(payload, path)
    if value is None:
        raise SourceError(_shown(path), "missing: the integration's mapping reads it here")
    return value


def _identity(value: Any, path: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise SourceError(path, f"expected a string, got {type(value).__name__}")
    return str(value)


def _event(
    key: str | None,
    status: AlertStatus,
    title: str,
    summary: str | None,
    labels: dict[str, str],
    url: str | None,
) -> AlertEvent:
    # Without an id, the title and labels are the alert's identity.
    fingerprint = bounded_fingerprint(key) if key else fingerprint_of({"title": title, **labels})
    return AlertEvent(
        fingerprint=fingerprint,
        status=status,
        name=title[:500],
        summary=summary,
        labels=labels,
        generator_url=url,
    )


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _shown(path: FieldPath) -> str:
    return "$." + ".".join(path)
