"""The work waiting, for `/metrics`: the oldest unsent page, how late escalation runs, how many
runners are alive, how many outgoing webhooks wait. Read from the database at each scrape, so
every process that answers one (`pager serve`, any `pager web` worker, `pager worker
--metrics-bind`) tells the same story."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError

from pager import metrics
from pager.domain.phones import mask
from pager.flows.canaries import latest_results
from pager.flows.context import Pager
from pager.store import incidents, outbox, runners, webhook_deliveries

log = logging.getLogger(__name__)


def measure_backlog(pager: Pager, now: datetime, clock: datetime | None = None) -> None:
    """Set the backlog gauges from the database at `now`; `clock` is the database's time (read
    if not given), which judges runners' heartbeats and senders' leases as the runners do.
    A database error leaves them as they were: the rest is still worth scraping, and `/readyz`
    says what is wrong."""
    try:
        with pager.db.read() as session:
            clock = clock or runners.database_now(session)
            oldest = outbox.oldest_due(session, now, clock)
            overdue = incidents.most_overdue_escalation(session, now)
            live = runners.live(session, clock)
            webhooks_waiting = webhook_deliveries.waiting_count(session)
        results = latest_results(pager)
    except SQLAlchemyError as exc:
        log.warning("event=backlog_unmeasured error=%s", type(exc).__name__)
        return
    metrics.OLDEST_UNSENT_PAGE.set(_seconds_since(oldest, now))
    metrics.ESCALATION_LAG.set(_seconds_since(overdue, now))
    metrics.RUNNERS.set(live)
    metrics.WEBHOOK_BACKLOG.set(webhooks_waiting)
    for canary, run in results:
        labels = {"route": canary.route, "to": mask(canary.to)}
        if run is not None:
            metrics.CANARY_OK.labels(**labels).set(1 if run.status == "ok" else 0)
        if run is not None and run.seconds is not None:
            metrics.CANARY_SECONDS.labels(**labels).set(run.seconds)


def _seconds_since(then: datetime | None, now: datetime) -> float:
    return 0.0 if then is None else max(0.0, (now - then).total_seconds())
