"""Maintenance windows: while one covers a service, its alerts are stored and visible but
page nobody. Ad hoc from the API and CLI, always with an end; planned ones in the rotation
files. An incident opened in a window waits for its end (`Incident.silenced_until`, with
`escalation_due_at` at the same instant so the runner wakes then); at the end the runner starts
its policy at step 1 (`flows.escalate`), unless another window still covers it."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from pager.domain.rotations import Maintenance
from pager.flows.context import Pager
from pager.store import audit, incidents, silences
from pager.store.models import Silence

log = logging.getLogger(__name__)
MAX_LENGTH = timedelta(days=30)  # a forgotten silence must not mute a service for ever


class SilenceRefused(ValueError):
    """A silence that can't be set; the message says why and names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class SilenceView:
    id: int
    service: str
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_by: str

    def to_json(self) -> dict[str, Any]:
        """As the API answers it (and `pager silence --json` prints it)."""
        return {
            **asdict(self),
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
        }


def _view(silence: Silence) -> SilenceView:
    return SilenceView(
        silence.id,
        silence.service,
        silence.starts_at,
        silence.ends_at,
        silence.reason,
        silence.created_by,
    )


def add_silence(
    pager: Pager,
    service: str,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    by: str,
    now: datetime,
    way: str = "api",
) -> SilenceView:
    schedule = pager.rotations.schedule
    if schedule is not None and service not in schedule.services:
        known = ", ".join(sorted(schedule.services)) or "none"
        raise SilenceRefused("service", f"no service named '{service}' (known: {known})")
    if ends_at <= starts_at:
        raise SilenceRefused("ends_at", "ends_at must be after starts_at")
    if ends_at <= now:
        raise SilenceRefused("ends_at", "ends_at is in the past")
    if ends_at - starts_at > MAX_LENGTH:
        raise SilenceRefused("ends_at", "a silence may last at most 30 days")
    with pager.db.transaction() as session:
        silence = Silence(
            service=service,
            starts_at=starts_at,
            ends_at=ends_at,
            reason=reason[:1000],
            created_by=by[:200],
            created_at=now,
        )
        session.add(silence)
        session.flush()
        view = _view(silence)
        audit.record(
            session,
            now,
            by,
            way,
            "silence_added",
            f"service {service}",
            f"silence {view.id}, {starts_at.isoformat()} to {ends_at.isoformat()}: {reason}",
        )
    log.info(
        "event=silence_added silence=%d service=%s starts_at=%s ends_at=%s by=%r",
        view.id,
        service,
        starts_at.isoformat(),
        ends_at.isoformat(),
        by[:200],
    )
    return view


@dataclass(frozen=True)
class Covering:
    """The windows covering a service at an instant: the ad hoc one ending last and the
    planned one (from the rotation files) ending last."""

    silence: Silence | None
    planned: Maintenance | None

    @property
    def end(self) -> datetime | None:
        """When the last of them ends; None when none covers the service."""
        ends = [self.silence.ends_at] if self.silence is not None else []
        ends += [self.planned.end] if self.planned is not None else []
        return max(ends, default=None)


def covering(pager: Pager, session: Session, service: str, at: datetime) -> Covering:
    schedule = pager.rotations.schedule
    planned = schedule.maintenance_at(service, at) if schedule is not None else None
    return Covering(silences.active(session, service, at), planned)


def list_silences(
    pager: Pager,
    now: datetime,
    after: tuple[datetime, int] | None = None,
    limit: int | None = None,
) -> list[SilenceView]:
    """Windows in force or to come, by start; after a previous page's last (starts_at, id)."""
    with pager.db.read() as session:
        return [_view(s) for s in silences.current_and_future(session, now, after, limit)]


def end_silence(
    pager: Pager, silence_id: int, now: datetime, by: str = "api", way: str = "api"
) -> SilenceView | None:
    """End a silence now (or drop a future one); None when there is no such silence."""
    with pager.db.transaction() as session:
        silence = silences.get(session, silence_id)
        if silence is None:
            return None
        silence.ends_at = max(min(silence.ends_at, now), silence.starts_at)
        woken = incidents.wake_silenced(session, silence.service, now)
        view = _view(silence)
        audit.record(
            session,
            now,
            by,
            way,
            "silence_ended",
            f"service {view.service}",
            f"silence {silence_id}; {woken} incident(s) paging again",
        )
    log.info(
        "event=silence_ended silence=%d service=%s incidents_due=%d",
        silence_id,
        view.service,
        woken,
    )
    if woken:
        pager.wake()  # the runner pages them now, or holds them for another window
    return view


def recheck_planned_windows(pager: Pager, now: datetime) -> None:
    """New rotation files may end or move a planned window: the silenced incidents are due
    now, and the runner pages them or holds them for the windows that still cover them."""
    with pager.db.transaction() as session:
        woken = incidents.wake_silenced(session, None, now)
    if woken:
        pager.wake()
