"""What a page says: the service's template for the channel, as snapshotted on the incident, or
pager's own words; a template that fails is noted on the incident's timeline."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from pager.domain.templates import PageFacts, default_text, links_of, page_body
from pager.store import incidents
from pager.store.models import Incident

log = logging.getLogger(__name__)


def templates_of(incident: Incident) -> dict[str, str]:
    """The templates the incident's service had when it opened (DESIGN invariant 5)."""
    found = (incident.policy or {}).get("templates")
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}


def facts_of(incident: Incident, firing: int) -> PageFacts:
    """The incident as a template sees it: labels, annotations and links are its first
    firing alert's (the one that opened it, unless that one has resolved)."""
    alerts = list(incident.alerts)
    alert = next((a for a in alerts if a.status == "firing"), alerts[0] if alerts else None)
    annotations = dict(alert.annotations) if alert else {}
    return PageFacts(
        number=incident.id,
        service=incident.service,
        title=incident.title,
        summary=incident.summary or "",
        firing=max(firing, 1),
        resolved=sum(1 for a in alerts if a.status == "resolved"),
        labels=dict(alert.labels) if alert else {},
        annotations=annotations,
        links=links_of(annotations, alert.generator_url if alert else None),
        urgency=incident.urgency,
    )


def page_text(
    session: Session, incident: Incident, channel: str, firing: int, now: datetime
) -> str:
    """The body of a page about `incident` on `channel` ("sms" or "voice")."""
    template = templates_of(incident).get(channel)
    if not template:  # the default text needs no alert rows: a storm's incident has thousands
        facts = PageFacts(
            incident.id, incident.service, incident.title, incident.summary or "", max(firing, 1)
        )
        return default_text(channel, facts, incident.ack_code)
    body = page_body(channel, template, facts_of(incident, firing), incident.ack_code)
    if body.failed is not None:
        incidents.add_timeline(
            session,
            incident.id,
            now,
            "warning",
            f"the {channel} template of service '{incident.service}' failed "
            f"({body.failed}): paged with the default text",
        )
        log.warning(
            "event=template_failed incident=%d service=%s channel=%s error=%r",
            incident.id,
            incident.service,
            channel,
            body.failed,
        )
    return body.text
