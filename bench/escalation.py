"""Figure 5: escalation lag, from a step's deadline to the provider receiving its page, with
many incidents open.

Open incidents come through the webhook on the `quiet` service (its rotation starts in 2099,
so they stay open and page nobody); once the runner has settled them, one incident per person
opens with a policy of SMS, then a call `wait` seconds later (5 s in full mode). The lag of
each is the time the fake saw the call minus the step-2 deadline, which is the step-1 run time
(its SMS's created_at in the outbox) + `wait`.
"""

from __future__ import annotations

import math
import secrets
import time
from dataclasses import dataclass, field

from sqlalchemy import create_engine, func, select

from bench import load
from bench.fleet import QUIET, Fleet, integration
from bench.report import Latencies, arrivals
from pager.store.models import Incident, Notification


@dataclass
class Escalation:
    requested_open: int = 0
    open_incidents: int = 0  # open when the measured step-2 deadlines came due
    settle_seconds: float = math.nan  # runner's time to settle the quiet incidents
    lags: Latencies = field(default_factory=Latencies)  # deadline -> call at provider
    run_lags: Latencies = field(default_factory=Latencies)  # deadline -> step 2 ran (outbox)
    measured: int = 0
    not_paged: int = 0  # measured incidents whose first step never ran


def _count_open_due(running: Fleet) -> tuple[int, int]:
    """Open incidents, and `quiet` incidents the runner has still to settle."""
    engine = create_engine(running.env["PAGER_TEST_DB"])
    try:
        with engine.connect() as connection:
            opened = connection.scalar(
                select(func.count()).where(Incident.status.in_(("triggered", "acknowledged")))
            )
            due = connection.scalar(
                select(func.count()).where(
                    Incident.integration == QUIET,
                    Incident.status == "triggered",
                    Incident.escalation_due_at.is_not(None),
                )
            )
    finally:
        engine.dispose()
    return opened or 0, due or 0


def _outbox(running: Fleet) -> dict[int, dict[int, float]]:
    """incident -> {step index: created_at as a POSIX time} of every outbox row."""
    engine = create_engine(running.env["PAGER_TEST_DB"])
    rows: dict[int, dict[int, float]] = {}
    try:
        with engine.connect() as connection:
            query = select(Notification.incident_id, Notification.step, Notification.created_at)
            for incident_id, step, created in connection.execute(query):
                if incident_id is not None:  # handoff notices page for no incident
                    rows.setdefault(incident_id, {})[step] = created.timestamp()
    finally:
        engine.dispose()
    return rows


def _open_quiet(
    running: Fleet, count: int, tag: str, within: float | None = None
) -> list[load.Sent]:
    jobs = [(QUIET, f"{tag}-{i}", 1) for i in range(count)]
    return load.post_alerts(running.url, running.token, jobs, concurrency=16, within=within)


def settle(running: Fleet, timeout: float) -> float:
    """Wait until the runner has settled every `quiet` incident; returns the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if _count_open_due(running)[1] == 0:
            break
        time.sleep(0.5)
    return time.monotonic() - started


def measure(
    running: Fleet,
    *,
    first: int,
    open_incidents: int,
    measured: int,
    wait: float,
    within: float = 600,
    calls_within: float = 60,
) -> Escalation:
    """Open quiet incidents (for at most `within` seconds, then as many as there are; the
    runner gets as long again to settle them), then `measured` ones for people first.. whose
    policy calls `wait` seconds after the SMS (the fleet's rotations must have that wait);
    calls are awaited until `calls_within` seconds after the last deadline could pass."""
    result = Escalation(requested_open=open_incidents)
    measured = min(measured, open_incidents)
    already = _count_open_due(running)[0]  # quick mode shares the daemon with other figures
    quiet = max(0, open_incidents - already - measured)
    run = secrets.token_hex(3)
    _open_quiet(running, quiet, f"quiet-{run}", within)
    result.settle_seconds = settle(running, within)
    jobs = [(integration(first + i), f"esc-{run}-{i}", 1) for i in range(measured)]
    sent = load.post_alerts(running.url, running.token, jobs, concurrency=16)
    ids = {s.opened[0] for s in sent if s.opened}
    result.open_incidents = _count_open_due(running)[0]
    result.measured = len(ids)
    calls = running.twilio.wait_for_incidents(ids, wait + calls_within, kind="calls")
    gave_up = time.time()
    outbox = _outbox(running)
    deadlines = {i: steps[0] + wait for i, steps in outbox.items() if i in ids and 0 in steps}
    result.not_paged = len(ids) - len(deadlines)
    result.lags = arrivals(deadlines, calls, gave_up)
    ran = {i: steps[1] for i, steps in outbox.items() if i in deadlines and 1 in steps}
    result.run_lags = arrivals(deadlines, ran, gave_up)
    return result
