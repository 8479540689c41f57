"""`pager canary --now` against the running daemon: the daemon sends the canary through the
fake Twilio to a second number of ours, the test (the phone network) brings it back as Twilio's
signed incoming-message webhook, and the command reports the round trip and exits 0."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.daemon import CONFIG, TWILIO_NUMBER, daemon_env, start_daemon
from tests.fakes.twilio import FakeTwilio

pytestmark = pytest.mark.e2e

OUR_OTHER_NUMBER = "+15017122662"  # pager receives on it, at Twilio too
# A second Twilio entry, on the number the canary goes to: Twilio posts its incoming SMS to
# /providers/twilio-in/inbound. (CONFIG is a template: its braces are doubled.)
TWILIO_IN = """\
  - name: twilio-in
    type: twilio
    account_sid: ${{TWILIO_ACCOUNT_SID}}
    auth_token: ${{TWILIO_AUTH_TOKEN}}
    from: "+15017122662"
    api_base_url: {twilio_url}
"""
CANARIES = f"""\
canaries:
  - {{route: twilio, to: "{OUR_OTHER_NUMBER}", service: payments, every: 6h, timeout: 30s}}
"""


def test_pager_canary_now_reports_a_round_trip(tmp_path: Path) -> None:
    with FakeTwilio(auto_status="delivered") as twilio:
        config = CONFIG.replace("integrations:", TWILIO_IN + "integrations:")
        daemon = start_daemon(tmp_path, twilio, extra_config=CANARIES, config_template=config)
        try:
            command = subprocess.Popen(
                [sys.executable, "-m", "pager", "canary", "--now"],
                cwd=tmp_path,
                env={**daemon_env(tmp_path, twilio, None), "PAGER_CONFIG": "pager.yaml"},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            try:
                out = _bring_back_until_done(twilio, daemon.url, command)
            finally:
                if command.poll() is None:
                    command.kill()
        finally:
            daemon.stop()
    said = out.decode()
    assert command.returncode == 0, said
    assert "twilio -> +15*****2662: ok, back in" in said
    # The daemon ran its canary as it started, and the command one more; nothing answered them.
    assert [m["To"] for m in twilio.messages] == [OUR_OTHER_NUMBER] * 2


def _bring_back_until_done(twilio: FakeTwilio, url: str, command: subprocess.Popen[bytes]) -> bytes:
    """The phone network: each canary SMS Twilio took comes back as Twilio's signed incoming
    webhook, until the command exits (bounded: 30 s)."""
    brought = 0
    deadline = time.monotonic() + 30
    while command.poll() is None and time.monotonic() < deadline:
        sent = [m for m in twilio.messages if m["To"] == OUR_OTHER_NUMBER]
        for sms in sent[brought:]:
            assert sms["From"] == TWILIO_NUMBER
            back = twilio.send_inbound_sms(
                f"{url}/providers/twilio-in/inbound", TWILIO_NUMBER, OUR_OTHER_NUMBER, sms["Body"]
            )
            assert back.status_code == 200, back.text
        brought = len(sent)
        time.sleep(0.05)
    out, _ = command.communicate(timeout=10)
    return out
