"""Coverage: when a service's first escalation step would page nobody."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from pager.domain.layers import uncovered
from pager.domain.rotations import Schedule


@dataclass(frozen=True)
class Gap:
    """Nobody is paged first for `service` from `start` to `end` (aware UTC); `timezone` is
    where to show it (that of the first rotation the service pages)."""

    service: str
    start: datetime
    end: datetime
    timezone: str

    def describe(self) -> str:
        zone = ZoneInfo(self.timezone)
        return (
            f"service '{self.service}' has nobody on call from {_local(self.start, zone)} "
            f"to {_local(self.end, zone)} ({self.timezone})"
        )


def service_gaps(schedule: Schedule, start: datetime, end: datetime) -> list[Gap]:
    """For each service, in order, the parts of [start, end) in which the first step of its
    policy pages nobody."""
    gaps: list[Gap] = []
    for service in schedule.services.values():
        targets = schedule.first_step_targets(service.policy)
        if any(target.kind == "person" for target in targets):
            continue  # a person is always there to page
        rotations = [target.name for target in targets if target.kind == "rotation"]
        covered = [
            (shift.start, shift.end)
            for rotation in rotations
            for shift in schedule.shifts(rotation, start, end)
            if shift.person is not None
        ]
        zone = schedule.rotations[rotations[0]].timezone if rotations else "UTC"
        gaps.extend(Gap(service.id, a, b, zone) for a, b in uncovered(covered, start, end))
    return gaps


def _local(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%a %Y-%m-%d %H:%M")
