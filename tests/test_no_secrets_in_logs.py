"""No secret and no full phone number in what the daemon writes, whatever happens.

The real daemon (`pager serve`, at DEBUG so every logger speaks) takes an alert, pages by SMS,
takes a signed reply with the code, a reply with a wrong code and one from a stranger, a
request with a wrong token, and a provider call that fails with an error naming the number
(failover to the next provider). Then its output, the file its stdout and stderr go to, must
hold none of the secrets it was given and phone numbers only masked (`+44******0101`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from werkzeug.wrappers import Response

from tests.e2e.daemon import API_TOKEN, INTEGRATION_TOKEN, TWILIO_NUMBER, Daemon, start_daemon
from tests.fakes.twilio import DEFAULT_ACCOUNT_SID, FakeTwilio, _error
from tests.helpers import ALICE, payload

pytestmark = pytest.mark.e2e
AUTH_TOKEN = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"  # distinct from every other string in the log
STRANGER = "+447700900999"
FULL_NUMBER = re.compile(r"\+\d{8,15}")  # E.164 with every digit shown


class RefusingTwilio(FakeTwilio):
    """Refuses the next `refuse_next` SMS as Twilio refuses a bad number: its message quotes
    the number in full, which the daemon must not copy into its log."""

    def __init__(self) -> None:
        super().__init__(DEFAULT_ACCOUNT_SID, AUTH_TOKEN, auto_status="delivered")
        self.refuse_next = 0

    def _create_message(self, form: Any) -> Response:
        with self._changed:
            refuse, self.refuse_next = self.refuse_next > 0, max(self.refuse_next - 1, 0)
        if refuse:
            to = form.get("To", "")
            return _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        response: Response = super()._create_message(form)
        return response


def timeline(daemon: Daemon, incident_id: int) -> list[str]:
    return [entry["message"] for entry in daemon.api(f"/incidents/{incident_id}")["timeline"]]


def open_incident(daemon: Daemon, fingerprint: str) -> int:
    body = payload("alertmanager_firing.json")
    body["groupKey"] = fingerprint
    body["alerts"] = [dict(body["alerts"][0], fingerprint=fingerprint)]
    response = daemon.post_alerts(body)
    assert response.status_code == 200, response.text
    [incident_id] = response.json()["opened"]
    return int(incident_id)


def exercise(daemon: Daemon, twilio: RefusingTwilio) -> None:
    """An alert, its SMS and a signed ACK; wrong code and stranger replies; a bad token; a
    refused SMS that fails over to the sandbox."""
    inbound = f"{daemon.url}/providers/twilio/inbound"
    first = open_incident(daemon, "secrets-1")
    [sms] = twilio.wait_for_messages(1, timeout=20)
    code = re.search(r"ACK (\d{4})", sms["Body"]).group(1)  # type: ignore[union-attr]
    wrong = f"{(int(code) + 1) % 10000:04d}"
    assert twilio.send_inbound_sms(inbound, ALICE, TWILIO_NUMBER, f"ACK {wrong}").ok
    assert twilio.send_inbound_sms(inbound, STRANGER, TWILIO_NUMBER, f"ACK {code}").ok
    assert twilio.send_inbound_sms(inbound, ALICE, TWILIO_NUMBER, f"ACK {code}").ok
    assert daemon.api(f"/incidents/{first}")["status"] == "acknowledged"
    refused = requests.post(
        f"{daemon.url}/integrations/payments-am",
        json=payload("alertmanager_firing.json"),
        headers={"Authorization": "Bearer not-the-token"},
        timeout=10,
    )
    assert refused.status_code == 401

    twilio.refuse_next = 1
    second = open_incident(daemon, "secrets-2")
    daemon.wait_for(
        lambda: any("sent via sandbox" in m for m in timeline(daemon, second)),
        timeout=20,
        what="failover to the sandbox after twilio refused the number",
    )
    assert any("via twilio failed (21211" in m for m in timeline(daemon, second))


@pytest.fixture(scope="module")
def daemon_output(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Everything `pager serve` wrote while it was exercised (stdout and stderr)."""
    workdir = tmp_path_factory.mktemp("secrets")
    with pytest.MonkeyPatch.context() as env, RefusingTwilio() as twilio:
        env.setenv("PAGER_LOG_LEVEL", "DEBUG")
        daemon = start_daemon(workdir, twilio)
        try:
            exercise(daemon, twilio)
        finally:
            daemon.stop()
        yield daemon.log.read_text()


def test_it_writes_phone_numbers_masked_only(daemon_output: str) -> None:
    assert FULL_NUMBER.findall(daemon_output) == []
    assert "+44******0101" in daemon_output  # the numbers are there, masked
    assert "+44******0999" in daemon_output  # the stranger too


SECRETS = {
    "twilio auth token": AUTH_TOKEN,
    "integration token": INTEGRATION_TOKEN,
    "API token": API_TOKEN,
}


# The start-up banner (stdout) is in the output too: it shows only tokens pager generated.
@pytest.mark.parametrize("secret", SECRETS.values(), ids=SECRETS.keys())
def test_it_writes_no_secret(daemon_output: str, secret: str) -> None:
    assert secret not in daemon_output
