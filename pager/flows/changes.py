"""Change events: what changed on a service (a deploy, a config push), stored as they come
(`POST /v2/change/enqueue`) and shown beside the service's incidents, as PagerDuty shows
"recent changes". They page nobody.

PagerDuty keeps no key for change events; a sender that retries one (a timeout, a 5xx) would
list it twice, so the same event (same integration, same body) within a minute is stored once.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from pager.config import IntegrationSettings
from pager.flows.context import Pager
from pager.sources.pagerduty import ChangeEvent as ReceivedChange
from pager.store import change_events
from pager.store.models import ChangeEvent

log = logging.getLogger(__name__)

RETRIES_WITHIN = timedelta(minutes=1)
BEFORE_INCIDENT = timedelta(hours=4)  # changes this long before an incident opened are shown
SHOWN = 10


@dataclass(frozen=True)
class ChangeView:
    at: datetime
    summary: str
    source: str | None
    links: tuple[tuple[str, str], ...]
    custom_details: dict[str, object]


def record_change(
    pager: Pager, integration: IntegrationSettings, change: ReceivedChange, now: datetime
) -> bool:
    """Store `change` (committed before the caller answers); False for a retry of one stored."""
    sent = json.dumps(
        [
            integration.name,
            change.summary,
            change.source,
            change.timestamp and change.timestamp.isoformat(),
            change.custom_details,
            change.links,
        ],
        sort_keys=True,
        default=str,
    )
    digest = hashlib.sha256(sent.encode()).hexdigest()
    with pager.db.transaction() as session:
        if change_events.seen_since(session, digest, now - RETRIES_WITHIN):
            return False
        change_events.add(
            session,
            ChangeEvent(
                integration=integration.name,
                service=integration.service,
                summary=change.summary[:1024],
                source=(change.source or "")[:1024] or None,
                happened_at=change.timestamp or now,
                received_at=now,
                links={"links": [list(link) for link in change.links]},
                custom_details=change.custom_details,
                digest=digest,
            ),
        )
    log.info(
        "event=change_received integration=%s service=%s", integration.name, integration.service
    )
    return True


def recent_changes(
    pager: Pager, service: str, opened_at: datetime, now: datetime
) -> list[ChangeView]:
    """The service's changes from 4 h before an incident opened until now, newest first."""
    with pager.db.read() as session:
        found = change_events.of_service(session, service, opened_at - BEFORE_INCIDENT, now, SHOWN)
        return [
            ChangeView(
                c.happened_at,
                c.summary,
                c.source,
                tuple((str(h), str(t)) for h, t in c.links.get("links", [])),
                dict(c.custom_details),
            )
            for c in found
        ]
