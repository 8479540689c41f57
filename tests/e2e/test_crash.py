"""kill -9 the daemon at random points, restart it, and check nothing was lost.

Each round posts alerts from two threads and kills the daemon either after a random number of
accepted alerts (so the other thread's request is cut mid-way) or from inside the fake Twilio
while it holds an SMS request (the provider took the page, the daemon never recorded it).
After the last restart: every alert answered 2xx is stored, and every incident was paged at
least once. Rounds: PAGER_FAULT_ROUNDS (default 4, a short CI mode); seed: PAGER_FAULT_SEED.
"""

from __future__ import annotations

import os
import random
import re
import signal
import threading
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.e2e.daemon import Daemon, start_daemon
from tests.fakes.twilio import FakeTwilio
from tests.helpers import payload

pytestmark = pytest.mark.e2e
ROUNDS = int(os.environ.get("PAGER_FAULT_ROUNDS", "4"))
SEED = int(os.environ.get("PAGER_FAULT_SEED", str(random.SystemRandom().randrange(10**6))))


class KillingTwilio(FakeTwilio):
    """A fake Twilio that can SIGKILL the daemon while it holds the daemon's SMS request."""

    def __init__(self) -> None:
        super().__init__(auto_status="delivered")
        self.kill_on_message: tuple[int, int] | None = None  # (message count, pid)

    def _create_message(self, form: Any) -> Any:
        response = super()._create_message(form)
        if self.kill_on_message and len(self.messages) >= self.kill_on_message[0]:
            _, pid = self.kill_on_message
            self.kill_on_message = None
            os.kill(pid, signal.SIGKILL)
        return response


def storm(daemon: Daemon, prefix: str, accepted: list[str], stop: threading.Event) -> None:
    for i in range(10_000):
        if stop.is_set():
            return
        body = payload("alertmanager_firing.json")
        fingerprint = f"{prefix}-{i}"
        body["groupKey"] = fingerprint
        body["alerts"] = [dict(body["alerts"][0], fingerprint=fingerprint)]
        try:
            if daemon.post_alerts(body).status_code == 200:
                accepted.append(fingerprint)
        except requests.RequestException:
            return


# Every incident pages the same person here: lift the per-number limits so each page goes out.
NO_LIMITS = "limits: {sms: [], voice: []}\n"


def crash_round(
    workdir: Path, twilio: KillingTwilio, number: int, rng: random.Random, accepted: list[str]
) -> None:
    daemon = start_daemon(workdir, twilio, extra_config=NO_LIMITS)
    stop = threading.Event()
    threads = [
        threading.Thread(target=storm, args=(daemon, f"r{number}t{t}", accepted, stop))
        for t in range(2)
    ]
    before = len(accepted)
    if number % 2:
        twilio.kill_on_message = (len(twilio.messages) + rng.randint(1, 8), daemon.process.pid)
    for thread in threads:
        thread.start()
    # Even rounds, or when no SMS came to kill on: kill after some accepted alerts.
    target = before + (rng.randint(1, 30) if number % 2 == 0 else 60)
    while len(accepted) < target and daemon.process.poll() is None:
        threading.Event().wait(0.001)
    if daemon.process.poll() is None:
        daemon.process.send_signal(signal.SIGKILL)
    daemon.process.wait(timeout=60)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    twilio.kill_on_message = None


def query(workdir: Path, sql: str) -> list[Any]:
    engine = create_engine(f"sqlite:///{workdir / 'pager.db'}")
    with engine.connect() as connection:
        rows = list(connection.execute(text(sql)).all())
    engine.dispose()
    return rows


def stored(workdir: Path) -> dict[str, int]:
    return dict(query(workdir, "SELECT fingerprint, incident_id FROM alerts"))  # type: ignore[arg-type]


def unpaged(workdir: Path) -> set[int]:
    """Incidents with no page sent, carried in a sent digest, or held by a per-number limit."""
    rows = query(
        workdir,
        "SELECT i.id FROM incidents i WHERE NOT EXISTS (SELECT 1 FROM notifications n "
        "WHERE n.incident_id = i.id AND (n.status IN ('sent', 'delivered') "
        "OR (n.status = 'digested' AND n.digest_of IN "
        "    (SELECT id FROM notifications WHERE status IN ('sent', 'delivered'))) "
        "OR (n.status = 'pending' AND n.next_attempt_at > datetime('now'))))",
    )
    return {row[0] for row in rows}


def paged_ids(twilio: FakeTwilio) -> list[int]:
    return [int(m) for msg in twilio.messages for m in re.findall(r"#(\d+) ", msg["Body"])]


def test_it_loses_no_alert_and_no_page_when_killed_at_random(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    accepted: list[str] = []
    with KillingTwilio() as twilio:
        for number in range(ROUNDS):
            crash_round(tmp_path, twilio, number, rng, accepted)
        daemon = start_daemon(tmp_path, twilio, extra_config=NO_LIMITS)
        try:
            found = stored(tmp_path)
            lost = [f for f in accepted if f not in found]
            assert lost == [], f"seed {SEED}: alerts answered 2xx but not stored: {lost}"
            incidents = set(found.values())
            # Every incident pages the same number, one send at a time: allow about 5 a second
            # on a busy machine, so that a long local run is not cut short.
            daemon.wait_for(
                lambda: not unpaged(tmp_path),
                timeout=max(30.0, len(incidents) / 5),
                what=f"every incident paged or held by a limit (seed {SEED})",
            )
        finally:
            daemon.stop()
    pages = paged_ids(twilio)
    duplicated = len(pages) - len(set(pages))
    print(
        f"\ncrash test seed={SEED} rounds={ROUNDS}: alerts accepted={len(accepted)} "
        f"stored={len(found)} lost=0 incidents={len(incidents)} sms={len(pages)} "
        f"duplicated={duplicated}"
    )
