"""An incident's alerts as its dashboard page shows them: labels and annotations sorted, and
only http(s) links made clickable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pager.flows.context import Pager
from pager.store import incidents as incident_store
from pager.store.models import Alert

ALERTS_SHOWN = 50


@dataclass(frozen=True)
class AlertView:
    name: str
    status: str
    summary: str | None
    labels: tuple[tuple[str, str], ...]
    annotations: tuple[tuple[str, str, bool], ...]  # key, value, value is a web link
    starts_at: datetime | None
    last_seen_at: datetime
    generator_url: str | None  # only an http(s) link


def first_alerts(pager: Pager, incident_id: int) -> tuple[list[AlertView], int]:
    """The incident's first ALERTS_SHOWN alerts, and how many it has (0 for no incident)."""
    with pager.db.read() as session:
        found = incident_store.get(session, incident_id)
        alerts = found.alerts if found else []
        return [_alert_view(alert) for alert in alerts[:ALERTS_SHOWN]], len(alerts)


def web_link(value: object) -> str | None:
    """`value` when it is an http(s) URL: anything else (javascript:...) stays plain text."""
    text = str(value) if value is not None else ""
    return text if text.lower().startswith(("https://", "http://")) else None


def _alert_view(alert: Alert) -> AlertView:
    return AlertView(
        name=alert.name,
        status=alert.status,
        summary=alert.summary,
        labels=tuple((str(k), str(v)) for k, v in sorted((alert.labels or {}).items())),
        annotations=tuple(
            (str(k), str(v), web_link(v) is not None)
            for k, v in sorted((alert.annotations or {}).items())
            if str(v) != alert.summary  # shown once, as the alert's summary
        ),
        starts_at=alert.starts_at,
        last_seen_at=alert.last_seen_at,
        generator_url=web_link(alert.generator_url),
    )
