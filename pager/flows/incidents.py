"""Acknowledge and resolve incidents, and read them for the API and the dashboard."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from pager import metrics
from pager.domain.durations import format_duration
from pager.domain.escalation import step_to_run, total_steps
from pager.domain.rotations import Policy, Schedule, Target
from pager.domain.states import IncidentState, check
from pager.flows.context import Pager
from pager.store import audit, incidents, outbox
from pager.store.incidents import IncidentFilter
from pager.store.models import Incident

log = logging.getLogger(__name__)


class NotFound(Exception):
    pass


@dataclass(frozen=True)
class TimelineView:
    at: datetime
    kind: str
    message: str


@dataclass(frozen=True)
class IncidentView:
    id: int
    status: str
    urgency: str
    service: str
    title: str
    summary: str | None
    alert_count: int
    firing_count: int
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    timeline: tuple[TimelineView, ...]
    silenced_until: datetime | None = None  # held by a maintenance window: pages nobody yet
    test_of: str | None = None  # a test page of this person (`pager page --test`)

    def to_json(self, *, with_timeline: bool = True) -> dict[str, Any]:
        """The incident as `GET /api/v1/incidents/<id>` and outgoing webhooks show it."""
        data = asdict(self)
        for key in ("created_at", "acknowledged_at", "resolved_at", "silenced_until"):
            data[key] = data[key].isoformat() if data[key] else None
        if with_timeline:
            data["timeline"] = [
                {"at": entry.at.isoformat(), "kind": entry.kind, "message": entry.message}
                for entry in self.timeline
            ]
        else:
            del data["timeline"]
        return data


def acknowledge_in(session: Session, incident: Incident, by: str, via: str, now: datetime) -> bool:
    """Acknowledge inside the caller's transaction; False when it was not triggered."""
    if incident.status != IncidentState.TRIGGERED:
        return False
    incident.status = check(incident.status, IncidentState.ACKNOWLEDGED)
    incident.acknowledged_at = now
    incident.acknowledged_by = by
    # With an ack timeout, an acknowledgement that never turns into a resolve escalates again.
    timeout = (incident.policy or {}).get("ack_timeout_seconds")
    incident.escalation_due_at = now + timedelta(seconds=timeout) if timeout else None
    incident.silenced_until = None  # someone has it: its window's end pages nobody
    incident.updated_at = now
    _cancel_pending(session, incident.id, now)
    incidents.add_timeline(
        session, incident.id, now, "acknowledged", f"acknowledged by {by} ({via})"
    )
    metrics.ACK_LATENCY.observe(max(0.0, (now - incident.created_at).total_seconds()))
    audit.record(session, now, by, via, "incident_acknowledged", f"incident #{incident.id}")
    _log_change("acknowledged", incident, by=by, via=via)
    if incident.test_of is not None:  # the test is done once acknowledged: nothing to fix
        resolve_in(session, incident, by, f"{via}, test page acknowledged", now)
    return True


def unacknowledge_in(
    session: Session,
    incident: Incident,
    why: str,
    now: datetime,
    by: str = "pager",
    way: str = "pager",
) -> bool:
    """Back to triggered, escalating again from the first step; False unless acknowledged."""
    if incident.status != IncidentState.ACKNOWLEDGED:
        return False
    incident.status = check(incident.status, IncidentState.TRIGGERED)
    incident.acknowledged_at = None
    incident.acknowledged_by = None
    incident.escalation_step = 0
    incident.escalation_due_at = now
    incident.updated_at = now
    incidents.add_timeline(session, incident.id, now, "unacknowledged", why)
    audit.record(session, now, by, way, "incident_unacknowledged", f"incident #{incident.id}", why)
    _log_change("unacknowledged", incident, why=why)
    return True


def resolve_in(session: Session, incident: Incident, by: str, via: str, now: datetime) -> bool:
    """Resolve inside the caller's transaction; False when it was already resolved."""
    if incident.status == IncidentState.RESOLVED:
        return False
    incident.status = check(incident.status, IncidentState.RESOLVED)
    incident.resolved_at = now
    incident.resolved_by = by
    incident.escalation_due_at = None
    incident.silenced_until = None
    incident.updated_at = now
    _cancel_pending(session, incident.id, now)
    incidents.add_timeline(session, incident.id, now, "resolved", f"resolved by {by} ({via})")
    audit.record(session, now, by, via, "incident_resolved", f"incident #{incident.id}")
    _log_change("resolved", incident, by=by, via=via)
    return True


def _log_change(event: str, incident: Incident, **facts: str) -> None:
    """One structured line per state change (names, never numbers: `by` is masked upstream)."""
    told = " ".join(f"{key}={value!r}" for key, value in facts.items())
    log.info(
        "event=incident_%s incident=%d service=%s %s", event, incident.id, incident.service, told
    )


def _cancel_pending(session: Session, incident_id: int, now: datetime) -> None:
    outbox.cancel_pending(session, incident_id, now)


def acknowledge(pager: Pager, incident_id: int, by: str, via: str, now: datetime) -> IncidentView:
    with pager.db.transaction() as session:
        incident = _get(session, incident_id)
        acknowledge_in(session, incident, by, via, now)
    return view(pager, incident_id)


def unacknowledge(
    pager: Pager, incident_id: int, by: str, now: datetime, via: str = "api"
) -> IncidentView:
    with pager.db.transaction() as session:
        incident = _get(session, incident_id)
        changed = unacknowledge_in(
            session, incident, f"unacknowledged by {by}: escalating again", now, by, via
        )
    if changed:
        pager.wake()
    return view(pager, incident_id)


def expire_acknowledgements(pager: Pager, now: datetime) -> list[int]:
    """Acknowledged incidents whose ack timeout passed with no resolve escalate again."""
    with pager.db.read() as session:  # on nearly every wake-up there is none: no write lock
        if not incidents.acks_expired(session, now):
            return []
    expired = []
    with pager.db.transaction() as session:
        for incident in incidents.acks_expired(session, now):
            minutes = int((now - (incident.acknowledged_at or now)).total_seconds() // 60)
            why = f"acknowledged {minutes} min ago and not resolved: escalating again"
            if unacknowledge_in(session, incident, why, now):
                expired.append(incident.id)
    if expired:
        pager.wake()
    return expired


def resolve(pager: Pager, incident_id: int, by: str, via: str, now: datetime) -> IncidentView:
    with pager.db.transaction() as session:
        incident = _get(session, incident_id)
        resolve_in(session, incident, by, via, now)
    return view(pager, incident_id)


MAX_NOTE = 2000


def escalate_now_in(session: Session, incident: Incident, by: str, via: str, now: datetime) -> bool:
    """Run the next escalation step at once (a person who can't take it passes it on); False
    when the incident is not escalating (acknowledged, resolved, or its policy ran out)."""
    if incident.status != IncidentState.TRIGGERED or incident.escalation_due_at is None:
        return False
    incident.escalation_due_at = now
    incidents.add_timeline(
        session, incident.id, now, "escalation", f"{by} asked to escalate now ({via})"
    )
    audit.record(session, now, by, via, "incident_escalated_now", f"incident #{incident.id}")
    _log_change("escalated_now", incident, by=by, via=via)
    return True


def escalate_now(pager: Pager, incident_id: int, by: str, via: str, now: datetime) -> IncidentView:
    with pager.db.transaction() as session:
        changed = escalate_now_in(session, _get(session, incident_id), by, via, now)
    if changed:
        pager.wake()
    return view(pager, incident_id)


def add_note(
    pager: Pager, incident_id: int, text: str, by: str, via: str, now: datetime
) -> IncidentView:
    """A note on the incident's timeline ("restarted the primary"), by `by`."""
    with pager.db.transaction() as session:
        add_note_in(session, _get(session, incident_id), text, by, via, now)
    return view(pager, incident_id)


def add_note_in(
    session: Session, incident: Incident, text: str, by: str, via: str, now: datetime
) -> None:
    """`add_note` inside the caller's transaction."""
    note = " ".join(text.split())[:MAX_NOTE]
    incidents.add_timeline(session, incident.id, now, "note", f"{by} ({via}): {note}")
    audit.record(session, now, by, via, "incident_note", f"incident #{incident.id}", note)


def snooze_in(
    session: Session, incident: Incident, by: str, via: str, length: timedelta, now: datetime
) -> bool:
    """Acknowledge now (if triggered) and escalate again from the first step after `length`
    unless resolved; False when it is resolved (a test page is, once acknowledged).

    The deadline is the ack timeout's: `escalation_due_at` of an acknowledged incident, a
    column (DESIGN invariant 1) that `expire_acknowledgements` watches. A second snooze moves
    it; an ack timeout of the policy no longer applies to this acknowledgement.
    """
    if incident.status == IncidentState.TRIGGERED:
        acknowledge_in(session, incident, by, via, now)
    if incident.status != IncidentState.ACKNOWLEDGED:
        return False
    until = now + length
    incident.escalation_due_at = until
    incident.updated_at = now
    how_long = format_duration(length)
    incidents.add_timeline(
        session,
        incident.id,
        now,
        "snoozed",
        f"snoozed by {by} ({via}) for {how_long}: escalates again at {until:%H:%M} UTC "
        "unless resolved",
    )
    audit.record(session, now, by, via, "incident_snoozed", f"incident #{incident.id}", how_long)
    _log_change("snoozed", incident, by=by, via=via, length=how_long)
    return True


@dataclass(frozen=True)
class UpcomingStep:
    """The escalation step an incident runs next, at `due`: its number in its pass (None:
    escalation ends then, after `total` steps), its channels (empty: each person's own rules),
    and each target with the names it pages at `due` (None: not in the rotations any more)."""

    due: datetime
    number: int | None
    steps: int
    total: int
    channels: tuple[str, ...]
    targets: tuple[tuple[Target, tuple[str, ...] | None], ...]


def upcoming_step(pager: Pager, incident: Incident) -> UpcomingStep | None:
    """What the incident runs next while it escalates; None when it does not (acknowledged,
    resolved, ended, or without a policy)."""
    due, snapshot = incident.escalation_due_at, incident.policy
    if incident.status != IncidentState.TRIGGERED or due is None or not snapshot:
        return None
    policy = Policy.from_snapshot(snapshot)
    run = step_to_run(policy, incident.escalation_step, due)
    steps, total = len(policy.steps), total_steps(policy)
    if run is None:
        return UpcomingStep(due, None, steps, total, (), ())
    schedule = pager.rotations.schedule
    targets = tuple((target, _names(schedule, target, due)) for target in run.step.targets)
    return UpcomingStep(due, run.number, steps, total, run.step.channels, targets)


def _names(schedule: Schedule | None, target: Target, at: datetime) -> tuple[str, ...] | None:
    """Who `target` pages at `at`, by name; None when the rotations no longer know it."""
    if schedule is None or not schedule.knows(target):
        return None
    return tuple(person.name for person in schedule.resolve(target, at))


def next_step(pager: Pager, incident_id: int) -> str | None:
    """What happens next, in words ("step 2 of 3 at 12:05 UTC: voice to rotation
    sre-primary (Alice Example)"), while the incident escalates; None otherwise."""
    with pager.db.read() as session:
        step = upcoming_step(pager, _get(session, incident_id))
    if step is None:
        return None
    if step.number is None:
        return f"at {step.due:%H:%M} UTC: escalation ends (all {step.total} steps ran)"
    whom = []
    for target, names in step.targets:
        holder = ""
        if target.kind == "rotation" and names is not None:
            holder = f" ({names[0] if names else 'nobody on call'})"
        whom.append(f"{target.kind} {target.name}{holder}")
    channels = ", ".join(step.channels) or "each person's own rules"
    return (
        f"step {step.number} of {step.steps} at {step.due:%H:%M} UTC: {channels} to "
        + ", ".join(whom)
    )


def view(pager: Pager, incident_id: int) -> IncidentView:
    with pager.db.read() as session:
        return _view(session, _get(session, incident_id), with_timeline=True)


def listing(pager: Pager, status: str | None, limit: int = 100) -> list[IncidentView]:
    with pager.db.read() as session:
        found = incidents.listing(session, status, limit)
        return [_view(session, incident, with_timeline=False) for incident in found]


def newest_first(
    pager: Pager,
    which: IncidentFilter,
    after: tuple[datetime, int] | None,
    limit: int,
) -> list[IncidentView]:
    """A page of incidents for the API, newest opened first, without their timelines."""
    with pager.db.read() as session:
        found = incidents.newest_first(session, which, after, limit)
        return [_view(session, incident, with_timeline=False) for incident in found]


def paged_to_person(pager: Pager, person: str, limit: int = 20) -> list[IncidentView]:
    """ "My incidents": those that paged `person`, open ones first."""
    with pager.db.read() as session:
        found = incidents.paged_to_person(session, person, limit)
        return [_view(session, incident, with_timeline=False) for incident in found]


def open_paged_to_person(pager: Pager, person: str) -> list[IncidentView]:
    """Those of `person`'s incidents (paged_to_person) that are not resolved yet."""
    return [view for view in paged_to_person(pager, person) if view.status != "resolved"]


def document(session: Session, incident: Incident, *, timeline: int) -> dict[str, Any]:
    """The incident's JSON (`IncidentView.to_json`) with the newest `timeline` lines, read in
    `session` (the transaction that is changing it)."""
    shown = _view(session, incident, with_timeline=True)
    return replace(shown, timeline=shown.timeline[-timeline:]).to_json()


def _get(session: Session, incident_id: int) -> Incident:
    incident = incidents.get(session, incident_id)
    if incident is None:
        raise NotFound(f"no incident {incident_id}")
    return incident


def _view(session: Session, incident: Incident, *, with_timeline: bool) -> IncidentView:
    entries = incidents.timeline(session, incident.id) if with_timeline else ()
    return IncidentView(
        id=incident.id,
        status=incident.status,
        urgency=incident.urgency,
        service=incident.service,
        title=incident.title,
        summary=incident.summary,
        alert_count=incidents.alert_count(session, incident.id),
        firing_count=incidents.firing_count(session, incident.id),
        created_at=incident.created_at,
        acknowledged_at=incident.acknowledged_at,
        acknowledged_by=incident.acknowledged_by,
        silenced_until=incident.silenced_until,
        test_of=incident.test_of,
        resolved_at=incident.resolved_at,
        resolved_by=incident.resolved_by,
        timeline=tuple(TimelineView(e.at, e.kind, e.message) for e in entries),
    )
