"""Alerts in: deduplicate into incidents, open new ones with their policy, resolve finished ones."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from pager import metrics
from pager.config import IntegrationSettings
from pager.domain.alerts import AlertEvent
from pager.domain.codes import ack_code_digits, draw_ack_code, random_ack_code
from pager.domain.states import IncidentState, check
from pager.flows.context import Pager
from pager.flows.external import acknowledge_alerts
from pager.flows.incidents import resolve_in
from pager.flows.silences import Covering, covering
from pager.sources.delivery import Received, bounded_group_key
from pager.store import incidents
from pager.store.incidents import NewAlert
from pager.store.models import Alert, Incident

log = logging.getLogger(__name__)
_NAMES_SHOWN = 5  # alert names a "joined" timeline line lists


@dataclass
class IntakeResult:
    opened: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    acknowledged: list[int] | None = None  # when the delivery asked for acknowledgements


@dataclass
class _Delivery:
    """What one delivery has looked up and changed, so that each lookup is one query for the
    whole delivery (a storm of thousands of alerts in one group is a few queries and a flush,
    not three round trips per alert)."""

    alerts: dict[str, Alert | NewAlert]  # fingerprint -> its alert on an open incident
    groups: dict[str, Incident | None] = field(default_factory=dict)
    open_incidents: int | None = None  # for the length of new ack codes
    joined: dict[int, list[str]] = field(default_factory=dict)  # incident id -> alert names
    resolving: dict[int, int] = field(default_factory=dict)  # incident id -> alerts resolved
    # Alerts first seen in this delivery: inserted together once every event is applied (a
    # later event of the delivery may still change one).
    new_alerts: list[NewAlert] = field(default_factory=list)


def record_delivery(
    pager: Pager, integration: IntegrationSettings, received: Received, now: datetime
) -> IntakeResult:
    """Store what one webhook delivery says: its alerts, then the acknowledgements it asks
    for (PagerDuty's `acknowledge`). Committed before this returns: the caller answers 2xx
    only after it."""
    events = [_grouped(integration, event) for event in received.events]
    # Committed with the webhooks arriving at the same moment: one commit, not one each.
    result = pager.db.grouped(lambda session: _store(pager, session, integration, events, now))
    _after_commit(pager, integration, events, result)
    if received.acknowledge:
        result.acknowledged = acknowledge_alerts(pager, integration, received.acknowledge, now)
    return result


def receive_alerts(
    pager: Pager, integration: IntegrationSettings, events: list[AlertEvent], now: datetime
) -> IntakeResult:
    """Store every event in one transaction; the caller answers 2xx only after this returns."""
    events = [_grouped(integration, event) for event in events]
    with pager.db.transaction() as session:
        result = _store(pager, session, integration, events, now)
    _after_commit(pager, integration, events, result)
    return result


def _store(
    pager: Pager,
    session: Session,
    integration: IntegrationSettings,
    events: list[AlertEvent],
    now: datetime,
) -> IntakeResult:
    """Apply `events` in `session`: dedup, open, join, resolve. Nothing here is committed."""
    result = IntakeResult()
    fingerprints = {event.fingerprint for event in events}
    known: dict[str, Alert | NewAlert] = {}
    known.update(incidents.open_alerts(session, integration.name, fingerprints))
    delivery = _Delivery(known)
    for event in events:
        _apply(pager, session, integration, event, now, result, delivery)
    incidents.add_alerts(session, delivery.new_alerts)
    _note_joined(session, delivery, now)
    _resolve_finished(session, integration, delivery, now, result)
    return result


def _after_commit(
    pager: Pager, integration: IntegrationSettings, events: list[AlertEvent], result: IntakeResult
) -> None:
    """Count, wake the runner and log, once what `events` changed is committed."""
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


def _grouped(integration: IntegrationSettings, event: AlertEvent) -> AlertEvent:
    """The event with the group key `group_by` makes of its labels, where one is set."""
    if not integration.group_by:
        return event
    values = ",".join(f"{label}={event.labels.get(label, '')}" for label in integration.group_by)
    return replace(event, group_key=bounded_group_key(f"{{{values}}}"))


def _apply(
    pager: Pager,
    session: Session,
    integration: IntegrationSettings,
    event: AlertEvent,
    now: datetime,
    result: IntakeResult,
    delivery: _Delivery,
) -> None:
    alert = delivery.alerts.get(event.fingerprint)
    if event.status == "resolved":
        if alert is not None and alert.status != "resolved":
            _update(alert, event, now)
            resolved = delivery.resolving.get(alert.incident_id, 0)
            delivery.resolving[alert.incident_id] = resolved + 1
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
    incident = _incident_for_new_alert(pager, session, integration, event, now, result, delivery)
    alert = _new_alert(incident, integration, event, now)
    delivery.alerts[event.fingerprint] = alert
    delivery.new_alerts.append(alert)


def _incident_for_new_alert(
    pager: Pager,
    session: Session,
    integration: IntegrationSettings,
    event: AlertEvent,
    now: datetime,
    result: IntakeResult,
    delivery: _Delivery,
) -> Incident:
    """The incident a first-seen firing alert belongs to: its group's open one, the one it
    resolved lately (flapping), else a new one."""
    incident = None
    if event.group_key:
        if event.group_key not in delivery.groups:
            delivery.groups[event.group_key] = incidents.open_incident_for_group(
                session, integration.name, event.group_key
            )
        incident = delivery.groups[event.group_key]
    if incident is None and integration.reopen_within is not None:
        incident = _reopen_flapping(session, integration, event, now, integration.reopen_within)
        if incident is not None:
            result.opened.append(incident.id)
    if incident is None:
        incident = _open(pager, session, integration, event, now, delivery)
        result.opened.append(incident.id)
    elif incident.id not in result.opened:
        delivery.joined.setdefault(incident.id, []).append(event.name)
        incident.updated_at = now
        _note(result.updated, incident.id)
    if event.group_key:
        delivery.groups[event.group_key] = incident
    return incident


def _new_alert(
    incident: Incident, integration: IntegrationSettings, event: AlertEvent, now: datetime
) -> NewAlert:
    return NewAlert(
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


def _note_joined(session: Session, delivery: _Delivery, now: datetime) -> None:
    """One timeline line per incident for the alerts that joined it in this delivery."""
    for incident_id, names in delivery.joined.items():
        if len(names) == 1:
            message = f"{names[0]} joined"
        else:
            shown = ", ".join(dict.fromkeys(names[:_NAMES_SHOWN]))
            more = ", ..." if len(names) > _NAMES_SHOWN else ""
            message = f"{len(names)} alerts joined: {shown}{more}"
        incidents.add_timeline(session, incident_id, now, "alert", message)


def _open(
    pager: Pager,
    session: Session,
    integration: IntegrationSettings,
    event: AlertEvent,
    now: datetime,
    delivery: _Delivery,
) -> Incident:
    """A new incident for `event`, with its service's policy and its first deadline."""
    snapshot = _policy_snapshot(pager, integration)
    windows = covering(pager, session, integration.service, now)
    incident = Incident(
        service=integration.service,
        integration=integration.name,
        group_key=event.group_key,
        title=event.name[:500],
        summary=event.summary,
        status=IncidentState.TRIGGERED,
        urgency=integration.urgency.get(event.labels.get("severity", ""), "high"),
        ack_code=_fresh_code(session, delivery),
        created_at=now,
        updated_at=now,
        policy=snapshot,
        escalation_step=0,
        # In a window, the first step waits for its end (see flows.silences).
        escalation_due_at=windows.end or now,
        silenced_until=windows.end,
    )
    incidents.add_new(session, incident)
    _note_opened(session, incident, integration, event, now)
    _note_why_nobody_is_paged(session, incident, integration, windows, snapshot is None, now)
    return incident


def _policy_snapshot(pager: Pager, integration: IntegrationSettings) -> dict[str, Any] | None:
    """The service's escalation policy as a new incident keeps it; None when it has none."""
    schedule = pager.rotations.schedule
    service = schedule.services.get(integration.service) if schedule else None
    if schedule is None or service is None or service.policy not in schedule.policies:
        return None
    snapshot = schedule.policy_snapshot(service.policy)
    if service.templates:
        # The wording is kept with the policy: every page of one incident reads alike, and
        # an edit (or a broken template) reaches only incidents opened after it.
        snapshot["templates"] = dict(service.templates)
    return snapshot


def _note_opened(
    session: Session,
    incident: Incident,
    integration: IntegrationSettings,
    event: AlertEvent,
    now: datetime,
) -> None:
    message = f"opened by {integration.name} ({integration.source}): {event.name}"
    incidents.add_timeline(session, incident.id, now, "opened", message)


def _note_why_nobody_is_paged(
    session: Session,
    incident: Incident,
    integration: IntegrationSettings,
    windows: Covering,
    no_policy: bool,
    now: datetime,
) -> None:
    """A timeline line when a new incident pages nobody: a maintenance window, or no policy."""
    silence, planned = windows.silence, windows.planned
    if silence is not None:
        kind = "silenced"
        message = (
            f"in a maintenance window until {silence.ends_at:%Y-%m-%d %H:%M} UTC "
            f"({silence.reason or 'no reason given'}, by {silence.created_by}): nobody paged"
        )
    elif planned is not None:
        kind = "silenced"
        message = (
            f"in a planned maintenance window until {planned.end:%Y-%m-%d %H:%M} UTC "
            f"({planned.reason or 'no reason given'}, in the rotation files): nobody paged"
        )
    elif no_policy:
        kind = "warning"
        message = (
            f"service '{integration.service}' has no escalation policy in the rotations: "
            "nobody will be paged"
        )
    else:
        return
    incidents.add_timeline(session, incident.id, now, kind, message)


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
    incident.status = check(incident.status, IncidentState.TRIGGERED)
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


def _update(alert: Alert | NewAlert, event: AlertEvent, now: datetime) -> None:
    alert.status = event.status
    alert.labels = dict(event.labels)
    alert.annotations = dict(event.annotations)
    alert.summary = event.summary
    alert.ends_at = event.ends_at
    alert.last_seen_at = now


def _resolve_finished(
    session: Session,
    integration: IntegrationSettings,
    delivery: _Delivery,
    now: datetime,
    result: IntakeResult,
) -> None:
    """Resolve the incidents whose last firing alert resolved in this delivery."""
    if not delivery.resolving:
        return
    session.flush()
    for incident_id, count in delivery.resolving.items():
        incident = session.get(Incident, incident_id)
        if incident is None:
            continue
        if incidents.firing_count(session, incident_id) > 0:
            message = "an alert resolved" if count == 1 else f"{count} alerts resolved"
            incidents.add_timeline(session, incident_id, now, "alert", message)
            _note(result.updated, incident_id)
        elif resolve_in(session, incident, integration.name, "all its alerts resolved", now):
            result.resolved.append(incident_id)


def _note(ids: list[int], incident_id: int) -> None:
    if incident_id not in ids:
        ids.append(incident_id)


def _fresh_code(session: Session, delivery: _Delivery) -> str:
    """An ack code no open incident has: 4 digits, longer only when thousands are open."""
    if delivery.open_incidents is None:
        # One query counts the open incidents and checks a first draw, which has the right
        # length unless thousands are open.
        first = random_ack_code(ack_code_digits(0))
        delivery.open_incidents, taken = incidents.open_count_and_code_in_use(session, first)
        if not taken and len(first) == ack_code_digits(delivery.open_incidents):
            delivery.open_incidents += 1
            return first
    digits = ack_code_digits(delivery.open_incidents)
    delivery.open_incidents += 1
    return draw_ack_code(digits, lambda code: incidents.code_in_use(session, code))
