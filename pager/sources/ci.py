"""What CI sources share: a failed build on a watched branch fires, the next success resolves.

One alert per repository + workflow (or job) + branch: every failed run of it joins the open
incident, and the first success after them resolves it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from pager.domain.alerts import AlertEvent, AlertStatus, fingerprint_of
from pager.sources.delivery import Received
from pager.sources.errors import Ignored


def watched_branch(branch: str | None, configured: Collection[str], default: str | None) -> str:
    """`branch`, when it is watched: the integration's `branches`, else the default branch."""
    watched = tuple(configured) or ((default,) if default else ())
    if branch is not None and branch in watched:
        return branch
    if not watched:
        raise Ignored("no branch to watch: the payload names no default branch; set 'branches'")
    shown = f"'{branch}'" if branch else "(none)"
    raise Ignored(f"branch {shown} is not watched (watched: {', '.join(watched)})")


def outcome(
    result: object, failing: Collection[str], passing: Collection[str], what: str
) -> AlertStatus:
    """'firing' for a failing result, 'resolved' for a passing one; other results are ignored."""
    if result in failing:
        return "firing"
    if result in passing:
        return "resolved"
    raise Ignored(f"{what} '{result}' neither fails nor fixes the build")


def build_alert(
    identity: Mapping[str, str],
    status: AlertStatus,
    title: str,
    summary: str,
    details: Mapping[str, str | None],
    url: str | None = None,
    started: datetime | None = None,
) -> Received:
    """The alert for one finished build; `identity` (repository, workflow, branch) is its key."""
    labels = {**identity, **{k: v for k, v in details.items() if v is not None}}
    event = AlertEvent(
        fingerprint=fingerprint_of(identity),
        status=status,
        name=title[:500],
        summary=summary,
        labels=labels,
        generator_url=url,
        starts_at=started,
    )
    return Received(events=(event,))
