"""Alerts in: deduplicate into incidents, open new ones with their policy, resolve finished ones."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from pager import metrics
from pager.config import IntegrationSettings
from pager.domain.alerts import AlertEvent
from pager.domain.codes import new_ack_code
from pager.flows.context import Pager
from pager.flows.incidents import resolve_in
from pager.store import incidents, silences
from pager.store.models import Alert, Incident

log = logging.getLogger(__name__)


@dataclass
class IntakeResult:
    opened: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)


def receive_alerts(
    pager: Pager, integration: IntegrationSettings, events: list[AlertEvent], now: datetime
) -> IntakeResult:
    """Store every event in one transaction; the caller answers 2xx only after this returns."""
    result = IntakeResult()
    with pager.db.transaction() as session:
        for event in events:
            _apply(pager, session, integration, event, now, result)
    metrics.ALERTS_RECEIVED.labels(integration.name, integration.source).inc(len(events))
    for _ in result.opened:
        metrics.INCIDENTS_OPENED.labels(integration.service).inc()
    if result.opened:
        pager.wake()  # page at once, not at the next scheduler tick
    log.info(
        "event=alerts_received integration=%s alerts=%d opened=%s resolved=%s",
        integration.name,
        len(events),
        result.opened,
        result.resolved,
    )
    return result


def _apply(
    pager: Pager,
    session: Session,
    integration: IntegrationSettings,
    event: AlertEvent,
    now: datetime,
    result: IntakeResult,
) -> None:
    if integration.group_by:
        values = ",".join(
            f"{label}={event.labels.get(label, '')}" for label in integration.group_by
        )
        event = replace(event, group_key=f"{{{values}}}")
    alert = incidents.open_alert(session, integration.name, event.fingerprint)
    if event.status == "resolved":
        if alert is not None and alert.status != "resolved":
            _update(alert, event, now)
            _resolve_if_done(session, alert.incident, integration.name, now, result)
        return
    if alert is not None:
        reopened = alert.status == "resolved"
        _update(alert, event, now)
        if reopened:
            incidents.add_timeline(
                session, alert.incident_id, now, "alert", f"{event.name} firing again"
            )
        _note(result.updated, alert.incident_id)
        return
    incident = None
    if event.group_key:
        incident = incidents.open_incident_for_group(session, integration.name, event.group_key)
    if incident is None and integration.reopen_within is not None:
        incident = _reopen_flapping(session, integration, event, now, integration.reopen_within)
        if incident is not None:
            result.opened.append(incident.id)
    if incident is None:
        incident = _open(pager, session, integration, event, now)
        result.opened.append(incident.id)
    elif incident.id not in result.opened:
        incidents.add_timeline(session, incident.id, now, "alert", f"{event.name} joined")
        incident.updated_at = now
        _note(result.updated, incident.id)
    session.add(
        Alert(
            incident_id=incident.id,
            integration=integration.name,
            fingerprint=event.fingerprint,
            status="firing",
            name=event.name[:500],
            summary=event.summary,
            labels=dict(event.labels),
            annotations=dict(event.annotations),
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            generator_url=event.generator_url,
            first_seen_at=now,
            last_seen_at=now,
        )
    )
    session.flush()


def _open(
    pager: Pager,
    session: Session,
    integration: IntegrationSettings,
    event: AlertEvent,
    now: datetime,
) -> Incident:
    schedule = pager.rotations.schedule
    service = schedule.services.get(integration.service) if schedule else None
    snapshot = (
        schedule.policy_snapshot(service.policy)
        if schedule is not None and service is not None and service.policy in schedule.policies
        else None
    )
    silence = silences.active(session, integration.service, now)
    planned = schedule.maintenance_at(integration.service, now) if schedule else None
    incident = Incident(
        service=integration.service,
        integration=integration.name,
        group_key=event.group_key,
        title=event.name[:500],
        summary=event.summary,
        status="triggered",
        urgency=integration.urgency.get(event.labels.get("severity", ""), "high"),
        ack_code=_fresh_code(incidents.open_codes(session)),
        created_at=now,
        updated_at=now,
        policy=snapshot,
        escalation_step=0,
        escalation_due_at=None if silence or planned else now,
    )
    session.add(incident)
    session.flush()
    incidents.add_timeline(
        session,
        incident.id,
        now,
        "opened",
        f"opened by {integration.name} ({integration.source}): {event.name}",
    )
    if silence is not None:
        incidents.add_timeline(
            session,
            incident.id,
            now,
            "silenced",
            f"in a maintenance window until {silence.ends_at:%Y-%m-%d %H:%M} UTC "
            f"({silence.reason or 'no reason given'}, by {silence.created_by}): nobody paged",
        )
    elif planned is not None:
        incidents.add_timeline(
            session,
            incident.id,
            now,
            "silenced",
            f"in a planned maintenance window until {planned.end:%Y-%m-%d %H:%M} UTC "
            f"({planned.reason or 'no reason given'}, in the rotation files): nobody paged",
        )
    elif snapshot is None:
        incidents.add_timeline(
            session,
            incident.id,
            now,
            "warning",
            f"service '{integration.service}' has no escalation policy in the rotations: "
            "nobody will be paged",
        )
    return incident


def _reopen_flapping(
    session: Session,
    integration: IntegrationSettings,
    event: AlertEvent,
    now: datetime,
    window: timedelta,
) -> Incident | None:
    """The incident this alert resolved within `window` ago, reopened: a flapping alert
    continues its incident instead of opening a new one every few minutes."""
    incident = incidents.recently_resolved(
        session, integration.name, event.fingerprint, event.group_key, now - window
    )
    if incident is None:
        return None
    minutes = int((now - (incident.resolved_at or now)).total_seconds() // 60)
    incident.status = "triggered"
    incident.resolved_at = incident.resolved_by = None
    incident.acknowledged_at = incident.acknowledged_by = None
    incident.escalation_step = 0
    incident.escalation_due_at = now
    incident.updated_at = now
    for old in incident.alerts:
        if old.fingerprint == event.fingerprint:
            session.delete(old)  # the alert row comes back below, firing
    incidents.add_timeline(
        session,
        incident.id,
        now,
        "reopened",
        f"reopened: {event.name} fired again {minutes} min after it resolved (flapping)",
    )
    session.flush()
    return incident


def _update(alert: Alert, event: AlertEvent, now: datetime) -> None:
    alert.status = event.status
    alert.labels = dict(event.labels)
    alert.annotations = dict(event.annotations)
    alert.summary = event.summary
    alert.ends_at = event.ends_at
    alert.last_seen_at = now


def _resolve_if_done(
    session: Session, incident: Incident, source: str, now: datetime, result: IntakeResult
) -> None:
    session.flush()
    if incidents.firing_count(session, incident.id) > 0:
        incidents.add_timeline(session, incident.id, now, "alert", "an alert resolved")
        _note(result.updated, incident.id)
        return
    if resolve_in(session, incident, source, "all its alerts resolved", now):
        result.resolved.append(incident.id)


def _note(ids: list[int], incident_id: int) -> None:
    if incident_id not in ids:
        ids.append(incident_id)


def _fresh_code(taken: set[str]) -> str:
    """A 4-digit ack code, or a longer one when thousands of incidents are open at once."""
    for digits in range(4, 9):
        try:
            return new_ack_code(taken, digits)
        except ValueError:
            continue
    raise RuntimeError("no free ack code of up to 8 digits")  # 100 million open incidents
