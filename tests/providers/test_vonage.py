"""The Vonage provider, through the real `vonage` SDK, against a fake Vonage on 127.0.0.1 (TLS)."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from pager.providers.base import (
    InboundSms,
    KeypadInput,
    ProviderError,
    Sent,
    SmsLookup,
    StatusUpdate,
    WebhookInvalid,
    WebRequest,
    WebResponse,
)
from pager.providers.vonage import CALL_STATES, SMS_STATES, VonageProvider
from tests.fakes.twilio import bind_local_port
from tests.fakes.vonage import FakeVonage, WebhookSink, private_key_pem

OUR_NUMBER = "+15005550006"
ALICE = "+447700900123"
NAME = "vonage-main"
STATUS_URL = "https://pager.example/providers/vonage-main/status?a=cb-7f3a"


def provider_for(fake: FakeVonage, **changes: Any) -> VonageProvider:
    options: dict[str, Any] = {
        "api_key": fake.api_key,
        "api_secret": fake.api_secret,
        "application_id": fake.application_id,
        "private_key": fake.private_key,
        "signature_secret": fake.signature_secret,
        "api_host": fake.host,
        "rest_host": fake.host,
        "timeout": 5,
    }
    options.update(changes)
    return VonageProvider(NAME, from_number=OUR_NUMBER, **options)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeVonage]:
    with FakeVonage(auto_status=None) as fake:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_bundle)  # the SDK uses requests
        yield fake


@pytest.fixture
def sink() -> Iterator[WebhookSink]:
    with WebhookSink() as sink:
        yield sink


@pytest.fixture
def provider(fake: FakeVonage) -> VonageProvider:
    return provider_for(fake)


def url(sink: WebhookSink, kind: str) -> str:
    """Our webhook URL; the inbound one is set in Vonage's dashboard, so it has no query."""
    query = "" if kind == "inbound" else "?a=cb-7f3a"
    return f"{sink.base_url}/providers/{NAME}/{kind}{query}"


@pytest.fixture
def inbound(fake: FakeVonage, sink: WebhookSink) -> WebRequest:
    """Vonage's real inbound-SMS webhook (POST form), as it reached our endpoint."""
    fake.send_inbound_sms(url(sink, "inbound"), ALICE, OUR_NUMBER, "ACK 4821")
    [request] = sink.wait_for(1)
    return request


@pytest.fixture
def call_event(fake: FakeVonage, provider: VonageProvider, sink: WebhookSink) -> WebRequest:
    """A signed `answered` event of one of our calls, as it reached our endpoint."""
    sent = provider.call(ALICE, "Disk full", url(sink, "voice"), url(sink, "status"))
    fake.send_call_event(url(sink, "status"), sent.provider_message_id, "answered")
    [request] = sink.wait_for(1)
    return request


def webhook(body: dict[str, Any]) -> WebRequest:
    data = json.dumps(body).encode()
    return WebRequest("https://pager.example/hook", "POST", headers={}, form={}, body=data)


# Sending


def test_it_sends_an_sms_with_numbers_as_digits_and_the_status_callback(
    fake: FakeVonage, provider: VonageProvider
) -> None:
    sent = provider.send_sms(ALICE, "Disk full on db-1. Reply ACK 4821", STATUS_URL)

    assert fake.messages == [
        {
            "message-ids": [sent.provider_message_id],
            "to": "447700900123",
            "from": "15005550006",
            "text": "Disk full on db-1. Reply ACK 4821",
            "callback": STATUS_URL,
        }
    ]
    assert sent.state == "queued"


def test_it_sends_text_outside_gsm7_as_unicode(fake: FakeVonage, provider: VonageProvider) -> None:
    provider.send_sms(ALICE, "Disk full ✓", STATUS_URL)

    assert fake.messages[0]["type"] == "unicode"


def test_it_sends_an_sms_as_a_form_after_a_call(fake: FakeVonage, provider: VonageProvider) -> None:
    # One SDK client would keep the call's JWT and JSON content type for the SMS that follows.
    provider.call(ALICE, "Disk full", "https://pager.example/k", STATUS_URL)

    provider.send_sms(ALICE, "Disk full", STATUS_URL)

    assert [m["text"] for m in fake.messages] == ["Disk full"]


def test_it_places_a_call_that_reads_the_page_and_waits_for_one_digit(
    fake: FakeVonage, provider: VonageProvider
) -> None:
    speech = "Disk full on db-1. Press 1 to acknowledge."

    sent = provider.call(ALICE, speech, "https://pager.example/k?a=1", STATUS_URL)

    [call] = fake.calls
    assert call["ncco"] == [
        {"action": "talk", "text": speech, "bargeIn": True, "loop": 2},
        {
            "action": "input",
            "type": ["dtmf"],
            "dtmf": {"maxDigits": 1, "timeOut": 8},
            "eventUrl": ["https://pager.example/k?a=1"],
        },
        {"action": "talk", "text": "No input received. Goodbye."},
    ]
    assert call["to"] == [{"type": "phone", "number": "447700900123"}]
    assert call["from"] == {"type": "phone", "number": "15005550006"}
    assert call["event_url"] == [STATUS_URL]
    assert (sent.provider_message_id, sent.state) == (call["uuid"], "queued")


def test_it_offers_voice_only_with_an_application(fake: FakeVonage) -> None:
    sms_only = provider_for(fake, application_id=None, private_key=None)

    assert provider_for(fake).channels == {"sms", "voice"}
    assert sms_only.channels == {"sms"}
    with pytest.raises(ProviderError, match="application_id") as raised:
        sms_only.call(ALICE, "Disk full", "https://pager.example/k", STATUS_URL)
    assert raised.value.permanent


def test_it_is_refused_a_call_signed_with_another_private_key(fake: FakeVonage) -> None:
    other = private_key_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))

    with pytest.raises(ProviderError) as raised:
        provider_for(fake, private_key=other).call(ALICE, "Disk", "https://p.example/k", STATUS_URL)

    assert (raised.value.permanent, raised.value.code) == (True, "401")
    assert fake.calls == []


@pytest.mark.parametrize(
    ("status", "permanent", "text"),
    [
        ("1", False, "Throttled"),
        ("5", False, "Internal Error"),
        ("10", False, "Too Many Existing Binds"),
        ("6", True, "Invalid Message"),
        ("9", True, "Partner Quota Violation"),
        ("15", True, "Illegal Sender Address - rejected"),
    ],
)
def test_it_reports_an_sms_api_status_with_its_permanence(
    fake: FakeVonage, provider: VonageProvider, status: str, permanent: bool, text: str
) -> None:
    fake.fail_next, fake.fail_next_as = 1, (200, status)

    with pytest.raises(ProviderError) as raised:
        provider.send_sms(ALICE, "Disk full", STATUS_URL)

    assert (raised.value.permanent, raised.value.code) == (permanent, status)
    assert str(raised.value).endswith(f"status {status}: {text}")


def test_it_reports_a_part_of_a_long_sms_that_failed(
    fake: FakeVonage, provider: VonageProvider
) -> None:
    fake.fail_next, fake.fail_next_as = 1, (200, "1")

    with pytest.raises(ProviderError) as raised:
        provider.send_sms(ALICE, "Disk full. " * 30, STATUS_URL)

    assert (raised.value.permanent, raised.value.code) == (False, "1")


def test_it_reports_wrong_credentials_as_permanent_without_the_secret(fake: FakeVonage) -> None:
    with pytest.raises(ProviderError) as raised:
        provider_for(fake, api_secret="wrong-secret-5d1e").send_sms(ALICE, "Disk", STATUS_URL)

    assert (raised.value.permanent, raised.value.code) == (True, "4")
    assert "wrong-secret-5d1e" not in str(raised.value)
    assert fake.messages == []


def test_it_reports_an_invalid_number_as_permanent_without_the_number(
    provider: VonageProvider,
) -> None:
    with pytest.raises(ProviderError) as raised:
        provider.send_sms("+4477", "Disk full", STATUS_URL)

    assert (raised.value.permanent, raised.value.code) == (True, "3")
    assert "4477" not in str(raised.value)


def test_it_refuses_a_callback_url_vonage_would_refuse(
    fake: FakeVonage, provider: VonageProvider
) -> None:
    with pytest.raises(ProviderError, match="callback") as raised:
        provider.send_sms(ALICE, "Disk full", "https://pager.example/" + "x" * 100)

    assert raised.value.permanent
    assert fake.messages == []


@pytest.mark.parametrize(
    ("http_status", "permanent"), [(500, False), (503, False), (429, False), (401, True)]
)
@pytest.mark.parametrize("channel", ["sms", "voice"])
def test_it_reports_http_errors_with_their_permanence(
    fake: FakeVonage, provider: VonageProvider, channel: str, http_status: int, permanent: bool
) -> None:
    fake.fail_next, fake.fail_next_as = 1, (http_status, "")

    with pytest.raises(ProviderError) as raised:
        if channel == "sms":
            provider.send_sms(ALICE, "Disk full", STATUS_URL)
        else:
            provider.call(ALICE, "Disk full", "https://pager.example/k", STATUS_URL)

    assert (raised.value.permanent, raised.value.code) == (permanent, str(http_status))
    assert f"HTTP {http_status}" in str(raised.value)


def test_it_reports_an_unreachable_api_as_temporary(fake: FakeVonage) -> None:
    provider = provider_for(fake)
    fake.stop()

    with pytest.raises(ProviderError) as raised:
        provider.send_sms(ALICE, "Disk full", STATUS_URL)

    assert (raised.value.permanent, raised.value.code) == (False, None)
    assert "ConnectionError" in str(raised.value)


def test_it_reports_an_api_that_never_answers_as_temporary(fake: FakeVonage) -> None:
    silent = bind_local_port()  # listens, never accepts: the request waits for the timeout
    try:
        host = f"127.0.0.1:{silent.getsockname()[1]}"
        provider = provider_for(fake, api_host=host, rest_host=host, timeout=0.5)
        with pytest.raises(ProviderError) as raised:
            provider.send_sms(ALICE, "Disk full", STATUS_URL)
    finally:
        silent.close()

    assert raised.value.permanent is False
    assert "Timeout" in str(raised.value)


def test_it_refuses_settings_it_cannot_use(fake: FakeVonage) -> None:
    with pytest.raises(ValueError, match="signature_method 'md5hash'"):
        provider_for(fake, signature_method="md5hash")
    with pytest.raises(ValueError, match="private_key"):
        provider_for(fake, private_key="not a key")
    with pytest.raises(ValueError, match="both application_id and private_key"):
        provider_for(fake, private_key=None)


# Webhook signatures


@pytest.mark.parametrize("method", ["POST", "POST-JSON", "GET"])
def test_it_accepts_an_sms_webhook_signed_by_vonage(
    fake: FakeVonage, provider: VonageProvider, sink: WebhookSink, method: str
) -> None:
    fake.send_inbound_sms(url(sink, "inbound"), ALICE, OUR_NUMBER, "ACK 4821 & co", method=method)

    [request] = sink.wait_for(1)
    assert provider.verify_webhook(request)


def test_it_rejects_a_tampered_sms_webhook(provider: VonageProvider, inbound: WebRequest) -> None:
    tampered = dataclasses.replace(inbound, form={**inbound.form, "text": "ACK 9999"})

    assert not provider.verify_webhook(tampered)


@pytest.mark.parametrize("field", ["sig", "timestamp"])
def test_it_rejects_an_sms_webhook_missing_its_signature(
    provider: VonageProvider, inbound: WebRequest, field: str
) -> None:
    form = {k: v for k, v in inbound.form.items() if k != field}

    assert not provider.verify_webhook(dataclasses.replace(inbound, form=form))


@pytest.mark.parametrize("kind", ["sms", "voice"])
@pytest.mark.parametrize(("age", "valid"), [(290, True), (310, False), (-310, False)])
def test_it_accepts_a_signed_webhook_only_while_it_is_recent(
    fake: FakeVonage, provider: VonageProvider, sink: WebhookSink, kind: str, age: int, valid: bool
) -> None:
    signed_at = time.time() - age
    if kind == "sms":
        params = {"msisdn": "447700900123", "to": "15005550006", "messageId": "0B1", "text": "1"}
        fake.post_signed_sms_webhook(url(sink, "inbound"), params, at=signed_at)
    else:
        body = {"uuid": "a1", "status": "answered"}
        fake.post_signed_voice_webhook(url(sink, "status"), body, at=signed_at)

    [request] = sink.wait_for(1)
    assert provider.verify_webhook(request) is valid


@pytest.mark.parametrize(
    "secret",
    ["another-secret-" + "0123456789" * 3, None],
    ids=["another secret", "no secret: fail closed"],
)
def test_it_rejects_webhooks_it_cannot_check_against_its_secret(
    fake: FakeVonage, sink: WebhookSink, secret: str | None
) -> None:
    provider = provider_for(fake, signature_secret=secret)
    fake.send_inbound_sms(url(sink, "inbound"), ALICE, OUR_NUMBER, "ACK 4821")
    fake.send_call_event(url(sink, "status"), "a1", "answered")

    assert [provider.verify_webhook(r) for r in sink.wait_for(2)] == [False, False]


def test_it_accepts_a_voice_webhook_signed_by_vonage(
    provider: VonageProvider, call_event: WebRequest
) -> None:
    lower = {name.lower(): value for name, value in call_event.headers.items()}

    spaced = json.dumps(json.loads(call_event.body), indent=2).encode()

    assert provider.verify_webhook(call_event)
    assert provider.verify_webhook(dataclasses.replace(call_event, headers=lower))
    # The JWT hashes the body as compact JSON, whatever spacing the body itself has.
    assert provider.verify_webhook(dataclasses.replace(call_event, body=spaced))


def test_it_rejects_a_voice_webhook_with_a_tampered_body(
    provider: VonageProvider, call_event: WebRequest
) -> None:
    body = call_event.body.replace(b'"answered"', b'"busy"')

    assert not provider.verify_webhook(dataclasses.replace(call_event, body=body))


def test_it_rejects_a_voice_webhook_without_its_token(
    provider: VonageProvider, call_event: WebRequest
) -> None:
    headers = {k: v for k, v in call_event.headers.items() if k != "Authorization"}

    assert not provider.verify_webhook(dataclasses.replace(call_event, headers=headers))


def test_it_rejects_a_voice_webhook_for_another_account(
    fake: FakeVonage, sink: WebhookSink
) -> None:
    provider = provider_for(fake, api_key="f0f0f0f0")
    fake.send_call_event(url(sink, "status"), "a1", "answered")

    [request] = sink.wait_for(1)
    assert not provider.verify_webhook(request)


# Reading webhooks


@pytest.mark.parametrize("method", ["POST", "POST-JSON", "GET"])
def test_it_reads_an_inbound_sms_in_e164(
    fake: FakeVonage, provider: VonageProvider, sink: WebhookSink, method: str
) -> None:
    fake.send_inbound_sms(url(sink, "inbound"), ALICE, OUR_NUMBER, "ACK 4821", method=method)

    [request] = sink.wait_for(1)
    sms = provider.parse_inbound(request)
    assert (sms.sender, sms.recipient, sms.body) == (ALICE, OUR_NUMBER, "ACK 4821")
    assert sms.provider_message_id


@pytest.mark.parametrize("field", ["msisdn", "to", "messageId"])
def test_it_refuses_an_inbound_sms_missing_a_field(
    provider: VonageProvider, inbound: WebRequest, field: str
) -> None:
    form = {k: v for k, v in inbound.form.items() if k != field}

    with pytest.raises(WebhookInvalid, match=field):
        provider.parse_inbound(dataclasses.replace(inbound, form=form))


@pytest.mark.parametrize(
    ("fail_status", "update"),
    [(None, ("delivered", "delivered", None)), ("expired", ("failed", "expired", "1"))],
)
def test_it_reads_the_delivery_receipts_vonage_posts(
    sink: WebhookSink, monkeypatch: pytest.MonkeyPatch, fail_status: str | None, update: tuple
) -> None:
    with FakeVonage() as fake:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_bundle)
        fake.fail_status = fail_status
        provider = provider_for(fake)
        sent = provider.send_sms(ALICE, "Disk full", url(sink, "status"))

        [receipt] = sink.wait_for(1)

    assert provider.verify_webhook(receipt)
    assert provider.parse_status(receipt) == StatusUpdate(sent.provider_message_id, *update)


@pytest.mark.parametrize(
    ("fail_status", "states"),
    [
        (None, ["queued", "sent", "answered", "answered"]),
        ("busy", ["queued", "sent", "no_answer", "answered"]),
        ("unanswered", ["queued", "sent", "no_answer", "answered"]),
        ("rejected", ["queued", "sent", "failed"]),
    ],
)
def test_it_reads_the_call_events_vonage_posts(
    sink: WebhookSink, monkeypatch: pytest.MonkeyPatch, fail_status: str | None, states: list
) -> None:
    with FakeVonage() as fake:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_bundle)
        fake.fail_status = fail_status
        provider = provider_for(fake)
        sent = provider.call(ALICE, "Disk full", url(sink, "voice"), url(sink, "status"))

        events = sink.wait_for(len(states))

    assert all(provider.verify_webhook(event) for event in events)
    updates = [provider.parse_status(event) for event in events]
    assert {u.provider_message_id for u in updates} == {sent.provider_message_id}
    assert [u.state for u in updates] == states


@pytest.mark.parametrize(("pressed", "digits"), [("1", "1"), ("", "")])
def test_it_reads_the_digits_pressed_during_a_call(
    fake: FakeVonage, provider: VonageProvider, sink: WebhookSink, pressed: str, digits: str
) -> None:
    sent = provider.call(ALICE, "Disk full", url(sink, "voice"), url(sink, "status"))

    fake.press_keys(url(sink, "voice"), sent.provider_message_id, pressed)

    [request] = sink.wait_for(1)
    assert provider.verify_webhook(request)
    assert provider.parse_keypad(request) == KeypadInput(sent.provider_message_id, digits)


@pytest.mark.parametrize(
    ("body", "digits"),
    [
        ({"uuid": "a1", "dtmf": "2"}, "2"),  # the webhook's older form
        ({"uuid": "a1"}, None),
        ({"uuid": "a1", "dtmf": {"digits": "x"}}, None),
    ],
)
def test_it_reads_keypad_input_only_when_it_is_digits(
    provider: VonageProvider, body: dict[str, Any], digits: str | None
) -> None:
    if digits is None:
        with pytest.raises(WebhookInvalid, match="dtmf"):
            provider.parse_keypad(webhook(body))
    else:
        assert provider.parse_keypad(webhook(body)) == KeypadInput("a1", digits)


@pytest.mark.parametrize(
    ("body", "state"),
    [({"messageId": "0B1", "status": s}, state) for s, state in SMS_STATES.items()]
    + [({"uuid": "a1", "status": s}, state) for s, state in CALL_STATES.items()]
    + [({"call_uuid": "a1", "status": "machine"}, "no_answer")],
)
def test_it_maps_each_vonage_status_to_a_delivery_state(
    provider: VonageProvider, body: dict[str, str], state: str
) -> None:
    update = provider.parse_status(webhook(body))

    assert (update.state, update.raw_status) == (state, body["status"])


@pytest.mark.parametrize(
    "body",
    [{"messageId": "0B1", "status": "sent"}, {"uuid": "a1", "status": "transfer"}, {"uuid": "a1"}],
)
def test_it_refuses_a_status_webhook_it_cannot_read(
    provider: VonageProvider, body: dict[str, str]
) -> None:
    with pytest.raises(WebhookInvalid):
        provider.parse_status(webhook(body))


def test_it_refuses_a_body_that_is_not_json(provider: VonageProvider) -> None:
    broken = dataclasses.replace(webhook({}), body=b"{not json")

    with pytest.raises(WebhookInvalid, match="JSON"):
        provider.parse_status(broken)


# Answers


def test_it_replies_to_an_sms_through_the_api_and_answers_empty(
    fake: FakeVonage, provider: VonageProvider
) -> None:
    sms = InboundSms(ALICE, OUR_NUMBER, "ACK 4821", "0B1")

    assert provider.sms_reply(sms, "Acked #4821") == WebResponse("", "text/plain")
    assert provider.sms_reply(sms, None) == WebResponse("", "text/plain")
    assert [(m["to"], m["from"], m["text"]) for m in fake.messages] == [
        ("447700900123", "15005550006", "Acked #4821")
    ]
    assert "callback" not in fake.messages[0]


def test_it_still_answers_an_sms_when_the_reply_fails(
    fake: FakeVonage, provider: VonageProvider, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail_next = 1

    with caplog.at_level(logging.WARNING, logger="pager.providers.vonage"):
        answer = provider.sms_reply(InboundSms(ALICE, OUR_NUMBER, "ACK 4821", "0B1"), "Acked")

    assert answer == WebResponse("", "text/plain")
    assert "event=sms_reply_failed" in caplog.text
    assert "+44******0123" in caplog.text
    assert ALICE not in caplog.text


def test_it_answers_a_keypad_webhook_with_an_ncco_that_speaks(provider: VonageProvider) -> None:
    said = provider.voice_reply(KeypadInput("call-1", "1"), "Acknowledged. Thank you.")
    assert said == WebResponse(
        '[{"action": "talk", "text": "Acknowledged. Thank you."}]', "application/json"
    )


# Looking up an SMS after a timeout


def test_it_sends_our_reference_as_client_ref_and_finds_the_sms_by_it_after_a_timeout(
    fake: FakeVonage,
) -> None:
    provider = provider_for(fake, timeout=1)
    fake.stall_next, fake.stall_seconds = 1, 4
    since = datetime.now(UTC)
    with pytest.raises(ProviderError) as raised:
        provider.send_sms(ALICE, "Disk full", STATUS_URL, reference="pager-5e1f")
    assert raised.value.outcome_unknown is True

    found = provider.find_sms(SmsLookup(ALICE, "Disk full", "pager-5e1f", since))

    [sms] = fake.messages
    assert sms["client-ref"] == "pager-5e1f"
    assert found == Sent(sms["message-ids"][0], "sent")
    [query] = fake.searches  # the Reports API's synchronous records
    assert query | {"date_start": "-"} == {
        "account_id": fake.api_key,
        "product": "SMS",
        "direction": "outbound",
        "client_ref": "pager-5e1f",
        "date_start": "-",
    }


def test_it_finds_no_sms_under_another_reference_or_already_accounted_for(
    fake: FakeVonage, provider: VonageProvider
) -> None:
    since = datetime.now(UTC)
    sent = provider.send_sms(ALICE, "Disk full", STATUS_URL, reference="pager-1")

    def find(reference: str | None, skip: frozenset[str] = frozenset()) -> Sent | None:
        return provider.find_sms(SmsLookup(ALICE, "Disk full", reference, since, skip))

    assert find("pager-1") == Sent(sent.provider_message_id, "sent")
    assert find("pager-2") is None
    assert find("pager-1", frozenset({sent.provider_message_id})) is None
    assert find(None) is None


def test_it_reports_a_refused_lookup_as_temporary(fake: FakeVonage) -> None:
    provider = provider_for(fake, api_secret="wrong-secret-5d1e")
    with pytest.raises(ProviderError) as raised:
        provider.find_sms(SmsLookup(ALICE, "Disk full", "pager-1", datetime.now(UTC)))
    assert raised.value.permanent is False
    assert "looking up an SMS failed: HTTP 401: Unauthorized" in str(raised.value)


@pytest.mark.parametrize("claimed", ["é" * 64, "\udcff", "ü"])
def test_it_calls_a_voice_token_with_a_non_ascii_payload_hash_invalid(claimed: str) -> None:
    """Found by tests/test_parsers_fuzz.py: a signed token whose `payload_hash` is not ASCII
    made hmac.compare_digest raise TypeError (a 500) instead of answering False."""
    from pager.providers.vonage_webhooks import voice_token_valid

    now = 1_765_000_000.0
    claims = {"iat": int(now), "jti": "x", "payload_hash": claimed, "api_key": "key"}
    token = jwt.encode(claims, "s" * 32, algorithm="HS256")
    assert voice_token_valid(token, "s" * 32, "key", b'{"a":1}', now) is False
