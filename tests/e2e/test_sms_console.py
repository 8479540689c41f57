"""The SMS console in the real daemon: each command comes in as Twilio posts it, signed with the
Twilio SDK's own RequestValidator (tests/fakes/twilio.py), and its answer goes back in TwiML;
each leaves its line on the incident's timeline. SNOOZE's second page is proven without waiting
in tests/test_sms_commands_flow.py (freezegun); here only that the daemon takes and records it."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from pager.domain.reply_texts import help_text
from tests.e2e.daemon import TWILIO_NUMBER, Daemon, running_daemon
from tests.helpers import ALICE, BOB, payload

pytestmark = pytest.mark.e2e


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    with running_daemon(tmp_path) as running:
        yield running


def command(daemon: Daemon, body: str, sender: str = ALICE) -> str:
    """Text `body` to pager from `sender`; the auto-reply the daemon answers with."""
    response = daemon.twilio.send_inbound_sms(
        f"{daemon.url}/providers/twilio/inbound", sender, TWILIO_NUMBER, body
    )
    assert response.status_code == 200, response.text
    found = re.fullmatch(
        r'<\?xml version="1.0" encoding="UTF-8"\?><Response><Message>(.*)</Message></Response>',
        response.text,
    )
    assert found, response.text
    return html.unescape(found.group(1))


def timeline(daemon: Daemon, incident_id: int) -> list[str]:
    return [entry["message"] for entry in daemon.api(f"/incidents/{incident_id}")["timeline"]]


def paged(daemon: Daemon) -> tuple[int, str]:
    [incident_id] = daemon.post_alerts(payload("alertmanager_firing.json")).json()["opened"]
    [sms] = daemon.twilio.wait_for_messages(1)
    found = re.search(r"Reply ACK (\d+) to acknowledge", sms["Body"])
    assert found, sms["Body"]
    return incident_id, found.group(1)


def answered(daemon: Daemon, incident_id: int, reply: str) -> None:
    assert f"answered Alice Example: {reply}" in timeline(daemon, incident_id)


def test_it_escalates_notes_and_snoozes_by_sms(daemon: Daemon) -> None:
    incident_id, code = paged(daemon)

    reply = command(daemon, f"ESC {code}")
    assert reply == f"Escalated #{incident_id}: step 2 of 3, calling Alice Example now."
    [call] = daemon.twilio.wait_for_calls(1)  # the runner woke for it: no 5 minutes' wait
    assert call["To"] == ALICE
    lines = timeline(daemon, incident_id)
    assert f"Alice Example (+44******0101) replied 'ESC {code}'" in lines
    assert "Alice Example asked to escalate now (sms)" in lines
    answered(daemon, incident_id, reply)

    reply = command(daemon, f"note {code} restarted the primary")
    assert reply == f"Noted on #{incident_id} payments: HighErrorRate."
    assert "Alice Example (sms): restarted the primary" in timeline(daemon, incident_id)
    answered(daemon, incident_id, reply)

    reply = command(daemon, f"SNOOZE {code} 30m")
    assert re.fullmatch(
        rf"Snoozed #{incident_id} payments: HighErrorRate\. Pages again at \d\d:\d\d unless "
        rf"resolved \(RES {code}\)\.",
        reply,
    ), reply
    incident = daemon.api(f"/incidents/{incident_id}")
    assert (incident["status"], incident["acknowledged_by"]) == ("acknowledged", "Alice Example")
    lines = timeline(daemon, incident_id)
    assert any(
        re.fullmatch(
            r"snoozed by Alice Example \(sms\) for 30m: escalates again at \d\d:\d\d UTC "
            r"unless resolved",
            line,
        )
        for line in lines
    ), lines
    answered(daemon, incident_id, reply)

    reply = command(daemon, "STATUS")
    assert re.fullmatch(
        rf"1 open: #{incident_id} payments acked by Alice Example until \d\d:\d\d, code {code}\.",
        reply,
    ), reply
    audit = daemon.api("/audit?action=sms_command")["entries"]
    assert [(e["actor"], e["way"]) for e in audit] == [("Alice Example", "sms")] * 4


def test_it_answers_oncall_and_help_by_sms(daemon: Daemon, tmp_path: Path) -> None:
    paged(daemon)  # Alice is now a number pager texted; Bob is only in the rotation
    team = (tmp_path / "rotations" / "team.yaml").read_text()
    start = re.search(r"(?m)^    start: \S+T(\d\d:\d\d)$", team)
    assert start, team
    # The weekly shift started a day ago, so it ends in six days: a weekday, no date.
    reply = command(daemon, "ONCALL", BOB)
    assert re.fullmatch(
        r"On call \(America/New_York\): sre-primary Alice Example until "
        r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d\d:\d\d, then Bob Example\.",
        reply,
    ), reply
    mine = command(daemon, "oncall sre-primary")
    assert re.fullmatch(
        rf"On call \(Europe/London\): sre-primary Alice Example until "
        rf"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) {start.group(1)}, then Bob Example\.",
        mine,
    ), mine
    assert command(daemon, "HELP") == help_text()
    assert command(daemon, "help snooze").startswith("SNOOZE <code> 30m acknowledges now")
    audit = daemon.api("/audit?action=sms_command")["entries"]
    assert sorted(e["actor"] for e in audit) == ["Alice Example"] * 3 + ["Bob Example"]
