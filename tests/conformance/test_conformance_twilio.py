"""Twilio as twilio-python signs it: the SDK's own known-answer vector against our check, and
the incoming-message and status-callback webhooks with the fields Twilio documents, each signed
by the SDK's RequestValidator and replayed through the app (see README.md here)."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from freezegun import freeze_time
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from pager.flows import incidents
from pager.providers.base import WebRequest
from pager.providers.twilio import TwilioProvider
from pager.store.models import Attempt
from tests.fakes.twilio import API_VERSION, inbound_sms_form
from tests.helpers import ALICE, payload, receive, run_due
from tests.test_twilio_loop import T0, loop  # noqa: F401 (the fixture)

# twilio-python tests/unit/test_request_validator.py (commit in README.md): its token, URL,
# form and the signature Twilio computes for them.
SDK_TOKEN = "12345"
SDK_URI = "https://mycompany.com/myapp.php?foo=1&bar=2"
SDK_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
    "Caller": "+14158675309",
}
SDK_EXPECTED = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
INBOUND_URL = "http://127.0.0.1:8080/providers/twilio/inbound"


def sdk_request(url: str, form: dict[str, str], signature: str) -> WebRequest:
    headers = {"X-Twilio-Signature": signature}
    return WebRequest(url=url, method="POST", headers=headers, form=form, body=b"", query={})


def test_it_accepts_the_signature_in_twilio_pythons_own_test() -> None:
    provider = TwilioProvider("twilio", "AC" + "0" * 32, SDK_TOKEN, "+18005551212")
    assert provider.verify_webhook(sdk_request(SDK_URI, SDK_PARAMS, SDK_EXPECTED))
    # the same vector on Twilio's port-bearing https URL, which the SDK also accepts
    port_uri = SDK_URI.replace(".com", ".com:1234")
    assert provider.verify_webhook(sdk_request(port_uri, SDK_PARAMS, SDK_EXPECTED))
    tampered = dict(SDK_PARAMS, Digits="1")
    assert not provider.verify_webhook(sdk_request(SDK_URI, tampered, SDK_EXPECTED))


def signed_post(client, token: str, url: str, form: dict[str, str]):
    """POST `form` to `url` signed by twilio-python's RequestValidator, as Twilio does."""
    signature = RequestValidator(token).compute_signature(url, form)
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature})


def paged_by_sms(pager, fake) -> tuple[int, dict]:
    with freeze_time(T0):
        [incident_id] = receive(
            pager, "payments-am", payload("alertmanager_firing.json"), T0
        ).opened
        run_due(pager, T0)
    [sms] = fake.wait_for_messages(1)
    return incident_id, sms


def status_form(fake, sms: dict, status: str, **extra: str) -> dict[str, str]:
    """A message status callback with the fields of Twilio's "Track the Message Status of
    Outbound Messages" (https://www.twilio.com/docs/messaging/guides/track-outbound-message-status)."""
    return {
        "AccountSid": fake.account_sid,
        "ApiVersion": API_VERSION,
        "From": sms["From"],
        "MessageSid": sms["sid"],
        "MessageStatus": status,
        "SmsSid": sms["sid"],
        "SmsStatus": status,
        "To": sms["To"],
        **extra,
    }


def attempt_of(pager, sid: str) -> Attempt:
    with pager.db.transaction() as session:
        attempt = session.scalars(select(Attempt).where(Attempt.provider_message_id == sid)).one()
        session.expunge(attempt)
        return attempt


def test_it_acks_from_an_incoming_message_webhook_as_twilio_documents_it(loop) -> None:  # noqa: F811
    pager, client, fake = loop
    incident_id, sms = paged_by_sms(pager, fake)
    code = re.search(r"ACK (\d+)", sms["Body"]).group(1)  # type: ignore[union-attr]
    form = inbound_sms_form(fake.account_sid, "SM" + "5a" * 16, ALICE, sms["From"], f"ACK {code}")
    answer = signed_post(client, fake.auth_token, INBOUND_URL, form)
    assert answer.status_code == 200, answer.text
    assert answer.content_type.startswith("application/xml")
    assert "<Response><Message>" in answer.text
    assert incidents.view(pager, incident_id).status == "acknowledged"


def test_it_records_a_delivered_status_callback(loop) -> None:  # noqa: F811
    pager, client, fake = loop
    incident_id, sms = paged_by_sms(pager, fake)
    answer = signed_post(
        client, fake.auth_token, sms["StatusCallback"], status_form(fake, sms, "delivered")
    )
    assert answer.status_code == 204
    assert attempt_of(pager, sms["sid"]).status == "delivered"
    timeline = [e.message for e in incidents.view(pager, incident_id).timeline]
    assert "sms to Alice Example (+44******0101) delivered (twilio)" in timeline


def test_it_records_an_undelivered_status_callback_with_its_error_code(loop) -> None:  # noqa: F811
    pager, client, fake = loop
    _, sms = paged_by_sms(pager, fake)
    form = status_form(fake, sms, "undelivered", ErrorCode="30003")
    with freeze_time(T0 + timedelta(seconds=30)):
        answer = signed_post(client, fake.auth_token, sms["StatusCallback"], form)
    assert answer.status_code == 204
    attempt = attempt_of(pager, sms["sid"])
    assert (attempt.status, attempt.error_code) == ("failed", "30003")


@pytest.mark.parametrize("field", ["MessageStatus", "MessageSid"])
def test_it_refuses_a_status_callback_whose_signed_fields_were_changed(loop, field: str) -> None:  # noqa: F811
    pager, client, fake = loop
    _, sms = paged_by_sms(pager, fake)
    form = status_form(fake, sms, "undelivered", ErrorCode="30003")
    signature = RequestValidator(fake.auth_token).compute_signature(sms["StatusCallback"], form)
    form[field] = "delivered" if field == "MessageStatus" else "SM" + "0" * 32
    parts = urlsplit(sms["StatusCallback"])
    answer = client.post(
        f"{parts.path}?{parts.query}", data=form, headers={"X-Twilio-Signature": signature}
    )
    assert answer.status_code == 403
    assert attempt_of(pager, sms["sid"]).status != "failed"
