"""Outgoing webhooks through the real daemon: the receiver is down when an incident opens,
escalates and is acknowledged; the daemon is restarted meanwhile; once the receiver is back,
every event arrives, in order, each once, each verified by the `standardwebhooks` library."""

from __future__ import annotations

import base64
import sqlite3
import time
from pathlib import Path

import pytest
import requests

from tests.e2e.daemon import BEARER, free_port, start_daemon
from tests.fakes.twilio import FakeTwilio
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.helpers import payload

pytestmark = pytest.mark.e2e

SECRET = "whsec_" + base64.b64encode(b"e2e-webhook-secret-of-32-bytes!!").decode()
HOOKS = """\
webhooks:
  - name: n8n
    url: http://127.0.0.1:{port}/hook
    secret: ${{E2E_WEBHOOK_SECRET}}
"""


def attempts(database: Path) -> list[tuple[str, int, str]]:
    with sqlite3.connect(database) as db:
        query = "SELECT event, attempts, status FROM webhook_deliveries ORDER BY id"
        return list(db.execute(query))


def test_nothing_is_lost_while_the_receiver_is_down_and_the_daemon_restarts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("E2E_WEBHOOK_SECRET", SECRET)
    port = free_port()
    hooks = HOOKS.format(port=port)
    with FakeTwilio(auto_status="delivered") as twilio:
        daemon = start_daemon(tmp_path, twilio, extra_config=hooks)
        try:
            assert daemon.post_alerts(payload("alertmanager_firing.json")).status_code == 200
            twilio.wait_for_messages(1)  # step 1 paged: escalated
            incident = daemon.api("/incidents")["incidents"][0]["id"]
            acked = requests.post(
                f"{daemon.url}/api/v1/incidents/{incident}/ack", headers=BEARER, timeout=10
            )
            assert acked.status_code == 200
            database = tmp_path / "pager.db"
            deadline = time.monotonic() + 15
            while not (tried := attempts(database)) or tried[0][1] < 1:
                assert time.monotonic() < deadline, "the first delivery was never tried"
                time.sleep(0.05)
            assert all(status == "pending" for _, _, status in tried)
        finally:
            daemon.stop()

        with WebhookReceiver(SECRET, port=port) as receiver:
            daemon = start_daemon(tmp_path, twilio, extra_config=hooks)
            try:
                got = receiver.wait_for(3, timeout=30)
            finally:
                daemon.stop()
    assert [r.type for r in got] == [
        "incident.triggered",
        "incident.escalated",
        "incident.acknowledged",
    ]
    assert len(receiver.accepted) == 3 and receiver.refused == []
    assert len({r.headers["Webhook-Id"] for r in got}) == 3
    assert [status for _, _, status in attempts(database)] == ["delivered"] * 3
