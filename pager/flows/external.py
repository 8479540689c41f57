"""What outside tools ask of incidents beyond alert states: PagerDuty's `acknowledge` action."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from pager.config import IntegrationSettings
from pager.flows.context import Pager
from pager.flows.incidents import acknowledge_in
from pager.store import incidents

log = logging.getLogger(__name__)


def acknowledge_alerts(
    pager: Pager, integration: IntegrationSettings, fingerprints: Iterable[str], now: datetime
) -> list[int]:
    """Acknowledge the open incidents holding these firing alerts; the ids acknowledged.

    An alert that is resolved, or unknown, is skipped quietly, as PagerDuty drops such events.
    """
    acknowledged: list[int] = []
    wanted = list(fingerprints)
    with pager.db.transaction() as session:
        found = incidents.open_alerts(session, integration.name, set(wanted))
        for fingerprint in wanted:
            alert = found.get(fingerprint)
            if alert is None or alert.status != "firing":
                continue
            if acknowledge_in(session, alert.incident, integration.name, integration.source, now):
                acknowledged.append(alert.incident_id)
    log.info(
        "event=alerts_acknowledged integration=%s incidents=%s", integration.name, acknowledged
    )
    return acknowledged
