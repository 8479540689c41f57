"""The loop through the Twilio provider in-process: calls with keypad acks, status callbacks and
signed replies, through the real SDK against the fake Twilio and Flask's test client."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from freezegun import freeze_time
from twilio.request_validator import RequestValidator

from pager.app import build_pager
from pager.flows import incidents
from pager.flows.context import Pager
from pager.web import create_app
from tests.conftest import make_settings, twilio_settings
from tests.fakes.twilio import FakeTwilio
from tests.helpers import ALICE, payload, receive, run_due

T0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


@pytest.fixture
def loop(
    database_url: str, fake_twilio: FakeTwilio
) -> Iterator[tuple[Pager, FlaskClient, FakeTwilio]]:
    pager = build_pager(make_settings(database_url, twilio_settings(fake_twilio)))
    yield pager, create_app(pager).test_client(), fake_twilio
    pager.db.dispose()


def signed_post(client: FlaskClient, fake: FakeTwilio, url: str, params: dict[str, str]):
    signature = RequestValidator(fake.auth_token).compute_signature(url, params)
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


def page_until_called(pager: Pager, fake: FakeTwilio) -> tuple[int, dict]:
    with freeze_time(T0):
        incident_id = receive(pager, "payments-am", payload("alertmanager_firing.json"), T0).opened[
            0
        ]
        run_due(pager, T0)
    with freeze_time(T0 + timedelta(minutes=5)):
        run_due(pager, T0 + timedelta(minutes=5))
    [call] = fake.wait_for_calls(1)
    return incident_id, call


def test_it_calls_with_the_alert_read_aloud_and_acks_on_keypad_1(loop) -> None:
    pager, client, fake = loop
    incident_id, call = page_until_called(pager, fake)
    assert call["To"] == ALICE
    assert f"Incident {incident_id} for payments: HighErrorRate, 2 firing." in call["Twiml"]
    keypad_url = html.unescape(re.search(r'action="([^"]+)"', call["Twiml"]).group(1))  # type: ignore[union-attr]
    assert keypad_url.startswith("http://127.0.0.1:8080/providers/twilio/voice?a=")

    params = {
        "CallSid": call["sid"],
        "Digits": "1",
        "From": call["From"],
        "To": ALICE,
        "AccountSid": fake.account_sid,
        "CallStatus": "in-progress",
    }
    forged = client.post(
        urlsplit(keypad_url).path, data=params, headers={"X-Twilio-Signature": "x"}
    )
    assert forged.status_code == 403

    answer = signed_post(client, fake, keypad_url, params)
    assert answer.status_code == 200
    assert f"<Say>Incident {incident_id} acknowledged. Goodbye.</Say><Hangup />" in answer.text
    view = incidents.view(pager, incident_id)
    assert (view.status, view.acknowledged_by) == ("acknowledged", "Alice Example")
    assert "acknowledged by Alice Example (voice)" in [e.message for e in view.timeline]


def test_it_records_an_unanswered_call_on_the_timeline_and_keeps_escalating(loop) -> None:
    pager, client, fake = loop
    incident_id, call = page_until_called(pager, fake)
    params = {
        "CallSid": call["sid"],
        "CallStatus": "no-answer",
        "AccountSid": fake.account_sid,
        "From": call["From"],
        "To": ALICE,
    }
    response = signed_post(client, fake, call["StatusCallback"], params)
    assert response.status_code == 204
    view = incidents.view(pager, incident_id)
    assert "call to Alice Example (+44******0101) not answered: no-answer (twilio)" in [
        e.message for e in view.timeline
    ]
    assert view.status == "triggered"


def test_it_answers_a_status_callback_for_an_unknown_message_quietly(loop) -> None:
    _, client, fake = loop
    url = "http://127.0.0.1:8080/providers/twilio/status?a=unknown"
    params = {
        "MessageSid": "SM" + "0" * 32,
        "MessageStatus": "delivered",
        "AccountSid": fake.account_sid,
    }
    assert signed_post(client, fake, url, params).status_code == 204


def test_it_takes_a_signed_sms_reply_and_answers_in_twiml(loop) -> None:
    pager, client, fake = loop
    with freeze_time(T0):
        incident_id = receive(pager, "payments-am", payload("alertmanager_firing.json"), T0).opened[
            0
        ]
        run_due(pager, T0)
    [sms] = fake.wait_for_messages(1)
    code = re.search(r"ACK (\d+)", sms["Body"]).group(1)  # type: ignore[union-attr]
    params = {
        "From": ALICE,
        "To": sms["From"],
        "Body": f"RES {code}",
        "MessageSid": "SM" + "2" * 32,
        "AccountSid": fake.account_sid,
        "NumMedia": "0",
    }
    answer = signed_post(client, fake, "http://127.0.0.1:8080/providers/twilio/inbound", params)
    assert answer.text == (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Message>'
        f"Resolved #{incident_id} payments: HighErrorRate.</Message></Response>"
    )
    assert incidents.view(pager, incident_id).status == "resolved"


def test_it_escalates_at_once_when_the_callee_presses_3(loop) -> None:
    pager, client, fake = loop
    incident_id, call = page_until_called(pager, fake)
    keypad_url = html.unescape(re.search(r'action="([^"]+)"', call["Twiml"]).group(1))  # type: ignore[union-attr]
    params = {
        "CallSid": call["sid"],
        "Digits": "3",
        "From": call["From"],
        "To": ALICE,
        "AccountSid": fake.account_sid,
        "CallStatus": "in-progress",
    }
    with freeze_time(T0 + timedelta(minutes=6)):
        answer = signed_post(client, fake, keypad_url, params)
        assert f"Incident {incident_id} escalated now. Goodbye." in answer.text
        run_due(pager, T0 + timedelta(minutes=6))  # step 3 was due at 10 minutes
    assert [m["To"] for m in fake.messages][-1] == "+447700900103"  # carol
