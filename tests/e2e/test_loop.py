"""The whole loop in the real daemon: Alertmanager webhook -> SMS at a fake Twilio -> signed
`ACK` reply -> acknowledged, with the auto-reply and the timeline."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.e2e.daemon import TWILIO_NUMBER, Daemon, running_daemon, start_daemon
from tests.fakes.twilio import FakeTwilio
from tests.helpers import ALICE, payload

pytestmark = pytest.mark.e2e


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    with running_daemon(tmp_path) as running:
        yield running


def timeline(daemon: Daemon, incident_id: int) -> list[str]:
    return [entry["message"] for entry in daemon.api(f"/incidents/{incident_id}")["timeline"]]


def test_it_pages_by_sms_and_takes_an_ack_by_reply(daemon: Daemon) -> None:
    response = daemon.post_alerts(payload("alertmanager_firing.json"))
    assert response.status_code == 200, response.text
    [incident_id] = response.json()["opened"]

    [sms] = daemon.twilio.wait_for_messages(1)
    assert (sms["To"], sms["From"]) == (ALICE, TWILIO_NUMBER)
    code = re.search(r"Reply ACK (\d{4}) to acknowledge", sms["Body"]).group(1)  # type: ignore[union-attr]
    assert sms["Body"].startswith(f"[pager] #{incident_id} payments: HighErrorRate (2 firing)")
    assert sms["StatusCallback"].startswith(f"{daemon.url}/providers/twilio/status?a=")
    daemon.wait_for(
        lambda: (
            {"sent via twilio", "delivered (twilio)"}
            <= {m.split(") ", 1)[-1] for m in timeline(daemon, incident_id)}
        ),
        what="the send and its delivery status on the timeline",
    )

    reply = daemon.twilio.send_inbound_sms(
        f"{daemon.url}/providers/twilio/inbound", ALICE, TWILIO_NUMBER, f"ack {code}"
    )
    assert reply.status_code == 200
    assert reply.headers["Content-Type"].startswith("application/xml")
    assert reply.text == (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Message>'
        f"Acknowledged #{incident_id} payments: HighErrorRate. Reply RES {code} when resolved."
        "</Message></Response>"
    )
    incident = daemon.api(f"/incidents/{incident_id}")
    assert (incident["status"], incident["acknowledged_by"]) == ("acknowledged", "Alice Example")
    assert timeline(daemon, incident_id) == [
        "opened by payments-am (alertmanager): HighErrorRate",
        "step 1: paging Alice Example by sms",
        "sms to Alice Example (+44******0101) sent via twilio",
        "sms to Alice Example (+44******0101) delivered (twilio)",
        f"Alice Example (+44******0101) replied 'ack {code}'",
        "acknowledged by Alice Example (sms)",
        f"answered Alice Example: Acknowledged #{incident_id} payments: HighErrorRate. "
        f"Reply RES {code} when resolved.",
    ]


def test_it_refuses_an_unsigned_or_forged_reply(daemon: Daemon) -> None:
    daemon.post_alerts(payload("alertmanager_firing.json"))
    [sms] = daemon.twilio.wait_for_messages(1)
    code = re.search(r"ACK (\d{4})", sms["Body"]).group(1)  # type: ignore[union-attr]
    url = f"{daemon.url}/providers/twilio/inbound"
    form = {
        "From": ALICE,
        "To": TWILIO_NUMBER,
        "Body": f"ACK {code}",
        "MessageSid": "SM" + "1" * 32,
    }
    unsigned = requests.post(url, data=form, timeout=5)
    forged = requests.post(url, data=form, headers={"X-Twilio-Signature": "bm9wZQ=="}, timeout=5)
    assert (unsigned.status_code, forged.status_code) == (403, 403)
    assert unsigned.json()["error"] == "invalid_signature"
    assert daemon.api("/incidents?status=triggered")["incidents"][0]["id"] == 1


def test_it_fails_over_to_the_next_provider_when_twilio_errors(daemon: Daemon) -> None:
    daemon.twilio.fail_next = 1
    [incident_id] = daemon.post_alerts(payload("alertmanager_firing.json")).json()["opened"]
    daemon.wait_for(
        lambda: any("sent via sandbox" in m for m in timeline(daemon, incident_id)), what="failover"
    )
    lines = timeline(daemon, incident_id)
    assert any(m.startswith("sms to Alice Example via twilio failed (20500") for m in lines), lines
    assert daemon.twilio.messages == []


def test_it_fails_over_when_twilio_reports_the_sms_undelivered(daemon: Daemon) -> None:
    daemon.twilio.fail_status = "undelivered"
    [incident_id] = daemon.post_alerts(payload("alertmanager_firing.json")).json()["opened"]
    daemon.twilio.wait_for_messages(1)
    daemon.wait_for(
        lambda: any("sent via sandbox" in m for m in timeline(daemon, incident_id)),
        what="failover after undelivered",
    )
    lines = timeline(daemon, incident_id)
    assert "sms to Alice Example (+44******0101) sent via twilio" in lines
    assert any("via twilio failed (30003" in m and "trying sandbox" in m for m in lines), lines


def test_it_pages_with_web_and_worker_in_separate_processes(tmp_path: Path) -> None:
    """The Procfile's shape: `pager web` (gunicorn) takes the alert, `pager worker` pages."""
    from tests.e2e.daemon import daemon_env, free_port, start_process, stop_process

    with FakeTwilio(auto_status="delivered") as twilio:
        web = start_daemon(tmp_path, twilio, command="web")
        env = daemon_env(tmp_path, twilio, None)
        log = tmp_path / "worker.log"
        metrics_port = free_port()
        args = [
            "--config",
            str(tmp_path / "pager.yaml"),
            "--metrics-bind",
            f"127.0.0.1:{metrics_port}",
        ]
        worker = start_process("worker", args, tmp_path, env, log)
        try:
            [incident_id] = web.post_alerts(payload("alertmanager_firing.json")).json()["opened"]
            [sms] = twilio.wait_for_messages(1, timeout=20)
            assert sms["To"] == ALICE
            assert "pager is listening on http://127.0.0.1:" in web.log.read_text()  # banner
            sent = 'pager_notifications_sent_total{channel="sms",provider="twilio"} 1.0'
            web.wait_for(  # the worker counts a send once Twilio's answer is recorded
                lambda: sent in requests.get(f"http://127.0.0.1:{metrics_port}/metrics").text,
                what="the worker's send counter on its own /metrics",
            )
            web.wait_for(
                lambda: any("delivered (twilio)" in m for m in timeline(web, incident_id)),
                what="the delivery callback handled by the web process",
            )
            # gunicorn's two workers each take some of these; every scrape adds them all up.
            for _ in range(11):
                web.post_alerts(payload("alertmanager_firing.json"))
            received = re.compile(r"pager_alerts_received_total\{[^}]*\} (\S+)")
            scrapes = [
                received.findall(requests.get(f"{web.url}/metrics", timeout=5).text)
                for _ in range(6)
            ]
            alerts = 12 * len(payload("alertmanager_firing.json")["alerts"])
            assert all(s == [f"{alerts}.0"] for s in scrapes), scrapes
            valid = requests.get(f"{web.url}/metrics", timeout=5).text
            assert re.findall(r"^pager_rotations_valid (\S+)$", valid, re.M) == ["1.0"]
        finally:
            stop_process(worker)
            web.stop()
