"""Round-trip canaries: a route proven end to end before an outage finds it broken.

On schedule an SMS carrying a random nonce leaves through one provider entry (that one only: no
failover, it is the route under test) to a number one of pager's providers receives on; it comes
back through that provider's inbound webhook (signed, as every webhook), which proves sending,
delivery and receiving in one trip. Each run is a row (`canary_runs`) with its deadline, so a
restart loses none; the SMS is an outbox row of kind `canary` that no per-number limit holds.
Two failures in a row open an incident on the canary's service, paged through the other routes
(`flows.routes`); the next success resolves it.
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import datetime

from pager.config import IntegrationSettings
from pager.config.model import CanarySettings
from pager.domain.alerts import AlertEvent, AlertStatus
from pager.domain.phones import mask
from pager.domain.states import AttemptState, PageState, check
from pager.flows.code_carriers import code_carrier
from pager.flows.context import Pager
from pager.flows.intake import receive_alerts
from pager.store import canaries, outbox
from pager.store.models import CanaryRun

log = logging.getLogger(__name__)

NONCE = re.compile(r"\bpager canary ([0-9a-f]{16})\b")
INTEGRATION_PREFIX = "canary:"  # the integration of a failing route's incident: canary:<route>


def canary_text(nonce: str) -> str:
    return f"pager canary {nonce}: a test of this route, no action needed"


def start_due(pager: Pager, now: datetime, *, forced: bool = False) -> list[str]:
    """Start a run of every canary that is due (each `every`; all of them when `forced`, as
    `pager canary --now` does); returns the keys of those started."""
    with pager.db.read() as session:  # most looks find none due: then take no write lock
        due = [
            canary
            for canary in pager.settings.canaries
            if forced
            or (last := canaries.last_started(session, canary.key)) is None
            or now - last >= canary.every
        ]
    started = []
    for canary in due:
        with pager.db.transaction() as session:
            period = int(now.timestamp() // canary.every.total_seconds())
            key = f"now:{secrets.token_hex(8)}" if forced else str(period)
            nonce = secrets.token_hex(8)
            run = CanaryRun(
                canary=canary.key,
                route=canary.route,
                dedup_key=f"canary:{canary.key}:{key}",
                nonce=nonce,
                started_at=now,
                deadline=now + canary.timeout,
                status="sent",
            )
            if not canaries.add_once(session, run):
                continue  # another runner started this period's run
            sms = code_carrier(
                "canary",
                f"canary via {canary.route}",
                canary.to,
                "sms",
                canary_text(nonce),
                now,
                kind="canary",
            )
            session.add(sms)
            session.flush()
            run.notification_id = sms.id
        started.append(canary.key)
        log.info("event=canary_started route=%s to=%s", canary.route, mask(canary.to))
    if started:
        pager.wake()
    return started


def is_canary(text: str) -> bool:
    return NONCE.search(text) is not None


def came_back(pager: Pager, provider: str, text: str, now: datetime) -> bool:
    """An inbound SMS carrying a canary's nonce: its run is proven (once; a repeat, a late one
    or an unknown nonce changes nothing). True when it ended a run in flight."""
    found = NONCE.search(text)
    if found is None:
        return False
    with pager.db.transaction() as session:
        run = canaries.in_flight(session, found.group(1))
        if run is None:
            log.info("event=canary_late_or_unknown provider=%s", provider)
            return False
        run.status, run.finished_at = "ok", now
        run.seconds = max(0.0, (now - run.started_at).total_seconds())
        key, seconds = run.canary, run.seconds
    log.info("event=canary_ok canary=%s via=%s seconds=%.1f", key, provider, seconds)
    _judge(pager, key, now)
    return True


def time_out(pager: Pager, now: datetime) -> list[str]:
    """End the runs whose deadline passed without the SMS coming back; returns their keys."""
    with pager.db.transaction() as session:
        ended = []
        for run in canaries.overdue(session, now):
            sms = outbox.get(session, run.notification_id) if run.notification_id else None
            attempt = outbox.latest_attempt(session, sms.id) if sms else None
            if sms is not None and sms.status in (PageState.PENDING, PageState.SENDING):
                # too late to prove anything now
                sms.status = check(sms.status, PageState.CANCELLED)
            refused = attempt is not None and attempt.status == AttemptState.FAILED
            run.status, run.finished_at = "failed", now
            run.error = (
                f"{run.route} refused it: {attempt.error_code or ''} {attempt.error_message or ''}"
                if refused and attempt is not None
                else f"not back within {int((run.deadline - run.started_at).total_seconds())} s"
            )[:300]
            ended.append(run.canary)
            log.warning("event=canary_failed canary=%s error=%r", run.canary, run.error)
    for key in dict.fromkeys(ended):
        _judge(pager, key, now)
    return ended


def _judge(pager: Pager, key: str, now: datetime) -> None:
    """Two failures in a row: open (or keep) the route's incident; a success after a failure:
    resolve it."""
    canary = next((c for c in pager.settings.canaries if c.key == key), None)
    if canary is None:
        return
    with pager.db.read() as session:
        newest = [(run.status, run.error) for run in canaries.latest(session, key, 2)]
    if len(newest) == 2 and all(status == "failed" for status, _ in newest):
        _report(pager, canary, "firing", now, newest[0][1] or "failed")
    elif len(newest) == 2 and newest[0][0] == "ok" and newest[1][0] == "failed":
        _report(pager, canary, "resolved", now, "came back")


def _report(
    pager: Pager, canary: CanarySettings, status: AlertStatus, now: datetime, why: str
) -> None:
    integration = IntegrationSettings(
        f"{INTEGRATION_PREFIX}{canary.route}", canary.service, "canary", None
    )
    event = AlertEvent(
        fingerprint=f"canary:{canary.key}",
        status=status,
        name=f"Canary through {canary.route} failing",
        group_key=f"canary:{canary.key}",
        summary=(
            f"two canary SMS in a row through {canary.route} to {mask(canary.to)} did not "
            f"come back ({why}); pages avoid {canary.route} while this is open"
        ),
        labels={"canary": canary.route, "to": mask(canary.to)},
    )
    receive_alerts(pager, integration, [event], now)


def avoided_route(integration: str) -> str | None:
    """The route an incident's pages keep off: the one its canary found broken."""
    return (
        integration.removeprefix(INTEGRATION_PREFIX)
        if integration.startswith(INTEGRATION_PREFIX)
        else None
    )


def latest_results(pager: Pager) -> list[tuple[CanarySettings, CanaryRun | None]]:
    """Each configured canary and its newest finished run, for the dashboard and /metrics."""
    with pager.db.read() as session:
        finished = canaries.latest_finished(session)
        session.expunge_all()
    return [(canary, finished.get(canary.key)) for canary in pager.settings.canaries]


def latest_runs_since(
    pager: Pager, since: datetime
) -> list[tuple[CanarySettings, CanaryRun | None]]:
    """Each configured canary and its newest run started at or after `since`, finished or not."""
    with pager.db.read() as session:
        newest = {
            canary.key: next(
                (r for r in canaries.latest(session, canary.key, 1) if r.started_at >= since),
                None,
            )
            for canary in pager.settings.canaries
        }
        session.expunge_all()
    return [(canary, newest[canary.key]) for canary in pager.settings.canaries]
