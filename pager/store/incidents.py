"""Queries about incidents, their alerts and their timelines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    insert,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, make_transient_to_detached

from pager.domain.states import IncidentState
from pager.store.models import Alert, Attempt, Base, Incident, Notification, TimelineEntry

OPEN = (IncidentState.TRIGGERED, IncidentState.ACKNOWLEDGED)
TIMELINE_NOTES = "pager.timeline_notes"  # the session.info key of add_timeline's notes
_IN_CHUNK = 500  # values per IN (...): well under every driver's parameter limit


def get(session: Session, incident_id: int, *, skip_locked: bool = False) -> Incident | None:
    """The incident; with `skip_locked`, None while another runner holds it (PostgreSQL).
    Without, one already loaded in this session costs no query."""
    if not skip_locked:
        return session.get(Incident, incident_id)
    query = select(Incident).where(Incident.id == incident_id).with_for_update(skip_locked=True)
    return session.scalars(query).first()


# The queries of every webhook, built once: building a statement costs more than running it.
# Open as equalities, not IN (...): SQLAlchemy renders an IN list anew at every execution.
_IS_OPEN = or_(*(Incident.status == status for status in OPEN))
_OPEN_ALERT_IDS = (
    select(Alert.id)
    .join(Incident)
    .where(
        Alert.integration == bindparam("integration"),
        Alert.fingerprint.in_(bindparam("fingerprints", expanding=True)),
        _IS_OPEN,
    )
    .order_by(Alert.id)
)
_ALERTS = select(Alert).where(Alert.id.in_(bindparam("ids", expanding=True))).order_by(Alert.id)
_OPEN_FOR_GROUP = (
    select(Incident.id)
    .where(
        Incident.integration == bindparam("integration"),
        Incident.group_key == bindparam("group_key"),
        _IS_OPEN,
    )
    .order_by(Incident.id.desc())
    .limit(1)
)
_CODE_IN_USE = exists().where(_IS_OPEN, Incident.ack_code == bindparam("code"))
# Two subqueries, not one pass over the open incidents: the count alone reads only an index.
_OPEN_COUNT_AND_CODE = select(select(func.count()).where(_IS_OPEN).scalar_subquery(), _CODE_IN_USE)
_CODE_IN_USE_ALONE = select(_CODE_IN_USE)


def open_alerts(session: Session, integration: str, fingerprints: set[str]) -> dict[str, Alert]:
    """The alerts with these fingerprints on open incidents (the newest of each), in a few
    queries whatever their number.

    Their ids first, in Core: most deliveries bring new alerts only, and an empty answer then
    costs none of the ORM's loading; the alerts found are loaded by id.
    """
    connection = _flushed(session)
    keys = sorted(fingerprints)
    ids: list[int] = []
    for start in range(0, len(keys), _IN_CHUNK):
        chunk = {"integration": integration, "fingerprints": keys[start : start + _IN_CHUNK]}
        ids.extend(connection.execute(_OPEN_ALERT_IDS, chunk).scalars())
    found: dict[str, Alert] = {}
    for start in range(0, len(ids), _IN_CHUNK):
        chunk_ids = {"ids": ids[start : start + _IN_CHUNK]}
        found.update((alert.fingerprint, alert) for alert in session.scalars(_ALERTS, chunk_ids))
    return found


def open_incident_for_group(session: Session, integration: str, group_key: str) -> Incident | None:
    """The newest open incident of this group; its id in Core first (usually there is none)."""
    found = _flushed(session).execute(
        _OPEN_FOR_GROUP, {"integration": integration, "group_key": group_key}
    )
    incident_id = found.scalar()
    return session.get(Incident, incident_id) if incident_id is not None else None


def open_count_and_code_in_use(session: Session, code: str) -> tuple[int, bool]:
    """How many incidents are open, and whether one of them has this ack code (one query)."""
    count, in_use = _flushed(session).execute(_OPEN_COUNT_AND_CODE, {"code": code}).one()
    return count, bool(in_use)


def code_in_use(session: Session, code: str) -> bool:
    """Whether an open incident has this ack code (one indexed lookup, not a list of codes)."""
    return bool(_flushed(session).scalar(_CODE_IN_USE_ALONE, {"code": code}))


def _flushed(session: Session) -> Connection:
    """The session's connection, for a Core query, once the session's changes are written (as
    the ORM's autoflush would have done; a no-op when nothing changed)."""
    session.flush()
    return session.connection()


def firing_count(session: Session, incident_id: int) -> int:
    query = select(func.count()).where(Alert.incident_id == incident_id, Alert.status == "firing")
    return session.scalar(query) or 0


def alert_count(session: Session, incident_id: int) -> int:
    return session.scalar(select(func.count()).where(Alert.incident_id == incident_id)) or 0


def listing(session: Session, status: str | None, limit: int) -> Sequence[Incident]:
    query = select(Incident).order_by(Incident.id.desc()).limit(limit)
    if status:
        query = query.where(Incident.status == status)
    return session.scalars(query).all()


@dataclass(frozen=True)
class IncidentFilter:
    """Which incidents a list shows: by status, service, and opened in [since, until)."""

    status: str | None = None
    service: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def newest_first(
    session: Session,
    which: IncidentFilter,
    after: tuple[datetime, int] | None,
    limit: int,
) -> Sequence[Incident]:
    """Up to `limit` incidents, newest opened first (created_at, then id), after the
    (created_at, id) of a previous page's last one: incidents opened meanwhile sort before
    it, so the pages still to come never shift."""
    query = select(Incident).order_by(Incident.created_at.desc(), Incident.id.desc())
    if which.status:
        query = query.where(Incident.status == which.status)
    if which.service:
        query = query.where(Incident.service == which.service)
    if which.since is not None:
        query = query.where(Incident.created_at >= which.since)
    if which.until is not None:
        query = query.where(Incident.created_at < which.until)
    if after is not None:
        at, incident_id = after
        query = query.where(
            or_(
                Incident.created_at < at,
                and_(Incident.created_at == at, Incident.id < incident_id),
            )
        )
    return session.scalars(query.limit(limit)).all()


def timeline(session: Session, incident_id: int) -> Sequence[TimelineEntry]:
    query = (
        select(TimelineEntry)
        .where(TimelineEntry.incident_id == incident_id)
        .order_by(TimelineEntry.at, TimelineEntry.id)
    )
    return session.scalars(query).all()


def unacknowledged_after(session: Session, incident_id: int, since: datetime) -> bool:
    """Whether the incident was un-acknowledged (by hand or by its ack timeout) after `since`:
    what was paged before then belongs to a round of paging that is over."""
    query = select(TimelineEntry.id).where(
        TimelineEntry.incident_id == incident_id,
        TimelineEntry.kind == "unacknowledged",
        TimelineEntry.at > since,
    )
    return session.scalars(query.limit(1)).first() is not None


def add_timeline(session: Session, incident_id: int, at: datetime, kind: str, message: str) -> None:
    row = {"incident_id": incident_id, "at": at, "kind": kind, "message": message}
    session.connection().execute(_INSERT_TIMELINE, row)  # no flush: see add_new
    # Every change of an incident comes here: noted for what tells of changes as the
    # transaction commits (flows.webhooks).
    session.info.setdefault(TIMELINE_NOTES, []).append((incident_id, kind, message, at))


def take_timeline_notes(session: Session) -> list[tuple[int, str, str, datetime]]:
    """The (incident, kind, message, at) of each timeline line this transaction added since
    the last take; taken, they are forgotten."""
    notes: list[tuple[int, str, str, datetime]] = session.info.pop(TIMELINE_NOTES, [])
    return notes


def add_new(session: Session, incident: Incident) -> None:
    """Insert a new incident at once and keep it in `session` as if it had been loaded.

    One INSERT gives its id: a flush would too, but its unit of work costs several times the
    INSERT, and intake inserts an incident, its alert and a timeline line per webhook.
    """
    incident.id = session.connection().execute(_INSERT_INCIDENT, _values(incident)).scalar_one()
    make_transient_to_detached(incident)
    session.add(incident)


@dataclass(slots=True)
class NewAlert:
    """An alert first seen in a delivery, until `add_alerts` inserts it: a plain object, as a
    mapped `Alert` costs several times more to build and a storm brings thousands."""

    incident_id: int
    integration: str
    fingerprint: str
    status: str
    name: str
    summary: str | None
    labels: dict[str, Any]
    annotations: dict[str, Any]
    starts_at: datetime | None
    ends_at: datetime | None
    generator_url: str | None
    first_seen_at: datetime
    last_seen_at: datetime


_NEW_ALERT_COLUMNS = tuple(column.name for column in fields(NewAlert))


def add_alerts(session: Session, alerts: list[NewAlert]) -> None:
    """Insert new alerts with one statement. They are not in `session`: what changes them
    afterwards must load them."""
    if alerts:
        rows = [{key: getattr(alert, key) for key in _NEW_ALERT_COLUMNS} for alert in alerts]
        session.connection().execute(_INSERT_ALERT, rows)


def _values(row: Base) -> dict[str, Any]:
    """The columns set on a new (transient) row, for an INSERT."""
    state = inspect(row)
    return {
        column.key: state.dict[column.key]
        for column in state.mapper.column_attrs
        if column.key in state.dict
    }


_INSERT_INCIDENT = insert(Incident).returning(Incident.id)
_INSERT_ALERT = insert(Alert)
_INSERT_TIMELINE = insert(TimelineEntry)


def due_for_escalation(session: Session, now: datetime, limit: int = 100) -> list[int]:
    query = (
        select(Incident.id)
        .where(Incident.status == IncidentState.TRIGGERED, Incident.escalation_due_at <= now)
        .order_by(Incident.escalation_due_at)
        .limit(limit)
    )
    return list(session.scalars(query))


def claim_step(
    session: Session, incident_id: int, step: int, next_step: int, next_due: datetime | None
) -> bool:
    """Move the incident from `step` to `next_step`; False when another runner got there first.

    The conditional UPDATE is the claim: on PostgreSQL a second runner blocks on the row lock,
    then sees the step already moved and updates nothing (DESIGN invariant 4).
    """
    return _at_step(
        session, incident_id, step, escalation_step=next_step, escalation_due_at=next_due
    )


def _at_step(session: Session, incident_id: int, step: int, **values: object) -> bool:
    """Set `values` on the incident if it is still triggered at `step`; False if it is not."""
    result = session.execute(
        update(Incident)
        .where(
            Incident.id == incident_id,
            Incident.status == IncidentState.TRIGGERED,
            Incident.escalation_step == step,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def hold_in_window(session: Session, incident_id: int, was: datetime, until: datetime) -> bool:
    """Keep a silenced incident unpaged until `until` (another window covers it); False when
    another runner moved it first."""
    return _in_window(session, incident_id, was, silenced_until=until, escalation_due_at=until)


def leave_window(session: Session, incident_id: int, was: datetime) -> bool:
    """Take the incident out of its window: the claim that only one runner re-arms it."""
    return _in_window(session, incident_id, was, silenced_until=None)


def _in_window(session: Session, incident_id: int, was: datetime, **values: object) -> bool:
    result = session.execute(
        update(Incident)
        .where(
            Incident.id == incident_id,
            Incident.status == IncidentState.TRIGGERED,
            Incident.silenced_until == was,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def wake_silenced(session: Session, service: str | None, now: datetime) -> int:
    """Make the silenced incidents of `service` (None: of every service) due now, as a window
    of theirs ended early or the planned ones changed: the runner decides whether a window
    still holds them. Returns how many."""
    query = update(Incident).where(
        Incident.status == IncidentState.TRIGGERED,
        Incident.silenced_until.is_not(None),
        Incident.escalation_due_at > now,
    )
    if service is not None:
        query = query.where(Incident.service == service)
    result = session.execute(
        query.values(escalation_due_at=now).execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def most_overdue_escalation(session: Session, now: datetime) -> datetime | None:
    """When the escalation step longest overdue at `now` was due (None: nothing overdue)."""
    query = select(func.min(Incident.escalation_due_at)).where(
        Incident.status == IncidentState.TRIGGERED, Incident.escalation_due_at <= now
    )
    return session.scalar(query)


def next_escalation_due(session: Session) -> datetime | None:
    query = select(func.min(Incident.escalation_due_at)).where(
        Incident.status == IncidentState.TRIGGERED
    )
    return session.scalar(query)


def _pages_to(phone: str, via: str | None) -> Select[int | None]:
    """The incidents of the pages to `phone`; with `via`, only pages that provider carried
    (itself, or in the digest that carried them) or that no provider has tried yet."""
    query = select(Notification.incident_id).where(Notification.phone == phone)
    if via is None:
        return query
    carried = exists().where(
        Attempt.provider == via,
        or_(
            Attempt.notification_id == Notification.id,
            Attempt.notification_id == Notification.digest_of,
        ),
    )
    untried = ~exists().where(Attempt.notification_id == Notification.id)
    return query.where(or_(carried, untried))


def open_incidents_paged_to(
    session: Session, phone: str, via: str | None = None
) -> Sequence[Incident]:
    """Open incidents that paged `phone` (the only ones that number may acknowledge); with
    `via`, only those that provider paged it for."""
    query = (
        select(Incident)
        .where(Incident.id.in_(_pages_to(phone, via)), Incident.status.in_(OPEN))
        .order_by(Incident.id)
    )
    return session.scalars(query).all()


def paged_to_person(session: Session, person: str, limit: int) -> Sequence[Incident]:
    """The incidents that paged `person` (by handle, on any number): open ones first, then the
    newest."""
    theirs = select(Notification.incident_id).where(
        Notification.person == person, Notification.incident_id.is_not(None)
    )
    still_open = case((Incident.status.in_(OPEN), 0), else_=1)
    query = (
        select(Incident)
        .where(Incident.id.in_(theirs))
        .order_by(still_open, Incident.id.desc())
        .limit(limit)
    )
    return session.scalars(query).all()


def ever_paged(session: Session, phone: str, via: str | None = None) -> bool:
    """Whether we ever paged `phone`. With `via` (the sandbox): whether `phone` is that
    provider's own pretend phone, paged through it and never tried by any other provider."""
    if via is None:
        return session.scalars(_pages_to(phone, None).limit(1)).first() is not None
    tried = (
        select(Attempt.provider)
        .join(Notification, Notification.id == Attempt.notification_id)
        .where(Notification.phone == phone)
        .distinct()
    )
    return set(session.scalars(tried)) == {via}


def person_paged(session: Session, incident_id: int, phone: str) -> str | None:
    """The name of the person we paged at `phone` for this incident."""
    query = select(Notification.person_name).where(
        Notification.incident_id == incident_id, Notification.phone == phone
    )
    return session.scalars(query.limit(1)).first()


def recently_resolved(
    session: Session, integration: str, fingerprint: str, group_key: str | None, since: datetime
) -> Incident | None:
    """The latest incident of `integration` resolved since `since` that held this alert (or
    this group)."""
    holds_alert = select(Alert.incident_id).where(
        Alert.integration == integration, Alert.fingerprint == fingerprint
    )
    same: ColumnElement[bool] = Incident.id.in_(holds_alert)
    if group_key:
        same = or_(same, Incident.group_key == group_key)
    query = (
        select(Incident)
        .where(
            Incident.integration == integration,
            Incident.status == IncidentState.RESOLVED,
            Incident.resolved_at >= since,
            same,
        )
        .order_by(Incident.resolved_at.desc())
    )
    return session.scalars(query).first()


def postpone_step(session: Session, incident_id: int, step: int, until: datetime) -> bool:
    """Make the incident's current step due later; False when another runner moved it."""
    return _at_step(session, incident_id, step, escalation_due_at=until)


def acks_expired(session: Session, now: datetime) -> Sequence[Incident]:
    """Acknowledged incidents whose ack timeout (held in `escalation_due_at`) has passed."""
    query = (
        select(Incident)
        .where(Incident.status == IncidentState.ACKNOWLEDGED, Incident.escalation_due_at <= now)
        .with_for_update(skip_locked=True)
    )
    return session.scalars(query).all()
