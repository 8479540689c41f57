"""An alert storm against the real daemon: 10,000 alerts across 500 incidents (issue 7).

`pager serve` on SQLite (the default install), a fake Twilio that takes 0.3 s over each SMS
(a slow provider must not slow intake), 50 people each on call for 10 of the incidents' services,
and the default per-number limits (5 SMS in 15 min, 11 an hour). Alertmanager-style deliveries
from 8 threads: each group arrives twice, first with 10 alerts, then with all 20 (as Alertmanager
re-sends a group that grew), so 1,000 webhooks carry 15,000 alerts of which 10,000 differ.

Promises checked: every webhook is answered 200 and every alert is stored, once; each group is
one incident; every incident's page goes out soon (alone, or inside a digest SMS) or is held by
the per-number limit with its due time, never dropped; nobody gets more SMS than the limit
allows. The figures (storm length, webhooks/s, pages) are printed, never asserted.
PAGER_STORM_GROUPS changes the number of incidents (default 500).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine

from tests.e2e.daemon import INTEGRATION_TOKEN, start_daemon
from tests.e2e.test_instances import PagesTwilio, rows, write_rotations
from tests.helpers import payload

pytestmark = pytest.mark.e2e
GROUPS = int(os.environ.get("PAGER_STORM_GROUPS", "500"))
ALERTS_PER_GROUP = 20
PEOPLE = 50
SMS_LIMIT = 5  # the default: 5 SMS to one number in 15 minutes
PROVIDER_DELAY = 0.3
CALLED = ("sent", "delivered", "answered", "no_answer")  # a call that went out


def delivery(group: int, alerts: int) -> dict[str, Any]:
    """Alertmanager's webhook for group `group` holding its first `alerts` alerts."""
    body = payload("alertmanager_firing.json")
    template = body["alerts"][0]
    body["groupKey"] = f'{{}}:{{alertname="Storm{group}"}}'
    body["alerts"] = [
        dict(
            template,
            fingerprint=f"g{group}-a{n}",
            labels=dict(template["labels"], alertname=f"Storm{group}", instance=f"host-{n}"),
        )
        for n in range(alerts)
    ]
    return body


def test_a_storm_of_ten_thousand_alerts_is_stored_and_paged_within_the_limits(
    tmp_path: Path,
) -> None:
    rotations = write_rotations(tmp_path / "rotations", PEOPLE)
    integrations = "".join(
        f'  s{i}: {{service: s{i}, source: alertmanager, token: "${{PAYMENTS_AM_TOKEN}}"}}\n'
        for i in range(PEOPLE)
    )
    with PagesTwilio(delay=PROVIDER_DELAY) as twilio:
        daemon = start_daemon(tmp_path, twilio, rotations=rotations, extra_config=integrations)
        db = create_engine(f"sqlite:///{tmp_path / 'pager.db'}")
        try:

            def post(job: tuple[int, int]) -> int:
                group, alerts = job
                response = requests.post(
                    f"{daemon.url}/integrations/s{group % PEOPLE}",
                    json=delivery(group, alerts),
                    headers={"Authorization": f"Bearer {INTEGRATION_TOKEN}"},
                    timeout=60,
                )
                return response.status_code

            jobs = [(g, ALERTS_PER_GROUP // 2) for g in range(GROUPS)]
            jobs += [(g, ALERTS_PER_GROUP) for g in range(GROUPS)]
            started = time.monotonic()
            with ThreadPoolExecutor(8) as pool:
                answers = Counter(pool.map(post, jobs))
            took = time.monotonic() - started
            storm_end = datetime.now(UTC)
            assert answers == Counter({200: 2 * GROUPS})

            [(alerts, distinct, incidents)] = rows(
                db,
                "SELECT count(*), count(DISTINCT fingerprint),"
                " (SELECT count(*) FROM incidents) FROM alerts",
            )
            assert (alerts, distinct, incidents) == (
                GROUPS * ALERTS_PER_GROUP,
                GROUPS * ALERTS_PER_GROUP,
                GROUPS,
            )

            def accounted() -> dict[str, int] | None:
                """Each incident's page: sent (alone or heading a digest), inside a digest that
                was sent, or held by the limit; None while any is still on its way."""
                found = rows(
                    db,
                    "SELECT i.id, n.status, n.next_attempt_at, h.status FROM incidents i"
                    " LEFT JOIN notifications n ON n.incident_id = i.id AND n.channel = 'sms'"
                    " LEFT JOIN notifications h ON h.id = n.digest_of",
                )
                # An SMS held by the limit is carried by a call at once (the person can be
                # called): each such call must have gone out too.
                calls = rows(db, "SELECT status FROM notifications WHERE channel = 'voice'")
                if any(status not in CALLED for (status,) in calls):
                    return None
                kinds: Counter[str] = Counter(calls=len(calls))
                for _, status, due, head in found:
                    if status in ("sent", "delivered"):
                        kinds["sent"] += 1
                    elif status == "digested" and head in ("sent", "delivered"):
                        kinds["in a digest"] += 1
                    elif status == "pending" and _held(due, storm_end, datetime.now(UTC)):
                        kinds["held by the limit"] += 1
                    else:
                        return None
                return dict(kinds) if sum(kinds.values()) - len(calls) == GROUPS else None

            outcome = daemon.wait_for(accounted, timeout=120, what="every page sent or held")
            per_person = Counter(m["To"] for m in twilio.messages)
            print(
                f"\nstorm: {2 * GROUPS} webhooks, {alerts} alerts in {took:.1f} s "
                f"({2 * GROUPS / took:.0f} webhooks/s, {15 * GROUPS / took:.0f} alerts/s "
                f"posted); pages: {outcome}; SMS sent: {len(twilio.messages)} to "
                f"{len(per_person)} people, at most {max(per_person.values())} each"
            )
            assert len(per_person) == PEOPLE  # everyone on call heard of their incidents
            assert max(per_person.values()) <= SMS_LIMIT
            assert outcome.get("held by the limit", 0) + outcome.get("in a digest", 0) > 0
        finally:
            daemon.stop()
            db.dispose()


def _held(due: Any, storm_end: datetime, now: datetime) -> bool:
    """Held back by the per-number limit: due later, within the limit's 15 minutes. (A page
    pending and due already is still on its way.)"""
    if due is None:
        return False
    when = datetime.fromisoformat(str(due)).replace(tzinfo=UTC)
    return now < when <= storm_end + timedelta(minutes=15, seconds=5)
