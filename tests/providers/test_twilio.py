"""The Twilio provider, through the real `twilio` SDK, against a fake Twilio API on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from pager.providers.base import (
    DeliveryState,
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
from pager.providers.twilio import INBOUND_FIELDS, TwilioProvider, signed_content
from tests.fakes.twilio import FakeTwilio, WebhookSink, bind_local_port

OUR_NUMBER = "+15005550006"
ALICE = "+447700900123"
NAME = "twilio-main"


def provider_for(
    fake: FakeTwilio, auth_token: str | None = None, timeout: float = 5
) -> TwilioProvider:
    return TwilioProvider(
        NAME,
        fake.account_sid,
        auth_token or fake.auth_token,
        OUR_NUMBER,
        api_base_url=fake.base_url,
        timeout=timeout,
    )


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio(auto_status=None) as fake:
        yield fake


@pytest.fixture
def sink() -> Iterator[WebhookSink]:
    with WebhookSink() as sink:
        yield sink


@pytest.fixture
def provider(fake: FakeTwilio) -> TwilioProvider:
    return provider_for(fake)


@pytest.fixture
def inbound(fake: FakeTwilio, sink: WebhookSink) -> WebRequest:
    """Twilio's real incoming-SMS webhook, as it reached our endpoint."""
    fake.send_inbound_sms(
        f"{sink.base_url}/providers/{NAME}/sms?v=1", ALICE, OUR_NUMBER, "ACK 4821"
    )
    [request] = sink.wait_for(1)
    return request


def status_url(sink: WebhookSink) -> str:
    return f"{sink.base_url}/providers/{NAME}/status/cb-7f3a"


def keypad_url(sink: WebhookSink) -> str:
    return f"{sink.base_url}/providers/{NAME}/keypad/cb-7f3a"


def webhook(**form: str) -> WebRequest:
    return WebRequest(url="https://pager.example/hook", method="POST", headers={}, form=form)


# Sending


def test_it_sends_an_sms_with_the_status_callback(
    fake: FakeTwilio, provider: TwilioProvider
) -> None:
    sent = provider.send_sms(
        ALICE, "Disk full on db-1. Reply ACK 4821", "https://pager.example/s/1"
    )

    assert fake.messages == [
        {
            "sid": sent.provider_message_id,
            "To": ALICE,
            "From": OUR_NUMBER,
            "Body": "Disk full on db-1. Reply ACK 4821",
            "StatusCallback": "https://pager.example/s/1",
        }
    ]
    assert sent.provider_message_id.startswith("SM")
    assert sent.state == "queued"


def test_it_ignores_twilio_edge_and_region_in_the_environment(
    fake: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWILIO_EDGE", "sydney")
    monkeypatch.setenv("TWILIO_REGION", "au1")

    provider_for(fake).send_sms(ALICE, "Disk full", "https://pager.example/s/1")

    assert len(fake.messages) == 1


def test_it_places_a_call_that_gathers_one_digit_at_the_keypad_url(
    fake: FakeTwilio, provider: TwilioProvider
) -> None:
    speech = "Disk full on db-1 & <db-2>. Press 1 to acknowledge."

    sent = provider.call(
        ALICE, speech, "https://pager.example/k/1?x=1&y=2", "https://pager.example/s/1"
    )

    [call] = fake.calls
    assert sent.provider_message_id == call["sid"]
    assert sent.provider_message_id.startswith("CA")
    assert (call["To"], call["From"]) == (ALICE, OUR_NUMBER)
    assert call["StatusCallback"] == "https://pager.example/s/1"
    assert call["StatusCallbackEvent"] == "completed"
    response = ET.fromstring(call["Twiml"])
    gather, goodbye = list(response)
    assert gather.tag == "Gather"
    assert gather.attrib == {
        "action": "https://pager.example/k/1?x=1&y=2",
        "method": "POST",
        "numDigits": "1",
        "timeout": "8",
    }
    [say] = list(gather)
    assert (say.tag, say.text, say.get("loop")) == ("Say", speech, "2")
    assert (goodbye.tag, goodbye.text) == ("Say", "No input received. Goodbye.")


# Errors


def test_it_reports_a_server_error_as_temporary(fake: FakeTwilio, provider: TwilioProvider) -> None:
    fake.fail_next = 1

    with pytest.raises(ProviderError) as raised:
        provider.send_sms(ALICE, "Disk full", "https://pager.example/s/1")

    assert raised.value.permanent is False
    assert raised.value.code == "20500"
    assert NAME in str(raised.value)
    provider.send_sms(ALICE, "Disk full", "https://pager.example/s/1")
    assert len(fake.messages) == 1


def test_it_reports_rate_limiting_as_temporary(fake: FakeTwilio, provider: TwilioProvider) -> None:
    fake.fail_next = 1
    fake.fail_next_as = (429, 20429)

    with pytest.raises(ProviderError) as raised:
        provider.call(ALICE, "Disk full", "https://pager.example/k/1", "https://pager.example/s/1")

    assert (raised.value.permanent, raised.value.code) == (False, "20429")


def test_it_reports_wrong_credentials_as_permanent_without_the_token(fake: FakeTwilio) -> None:
    provider = provider_for(fake, auth_token="wrong-token-5d1e")

    with pytest.raises(ProviderError) as raised:
        provider.send_sms(ALICE, "Disk full", "https://pager.example/s/1")

    assert (raised.value.permanent, raised.value.code) == (True, "20003")
    assert "HTTP 401" in str(raised.value)
    assert "wrong-token-5d1e" not in str(raised.value)
    assert fake.auth_token not in str(raised.value)
    assert fake.messages == []


def test_it_reports_an_invalid_number_as_permanent_without_the_number(
    provider: TwilioProvider,
) -> None:
    with pytest.raises(ProviderError) as raised:
        provider.send_sms("+4477", "Disk full", "https://pager.example/s/1")

    assert (raised.value.permanent, raised.value.code) == (True, "21211")
    assert "+4477" not in str(raised.value)


def test_it_reports_a_missing_number_as_permanent(provider: TwilioProvider) -> None:
    with pytest.raises(ProviderError) as raised:
        provider.send_sms("", "Disk full", "https://pager.example/s/1")

    assert (raised.value.permanent, raised.value.code) == (True, "21604")
    assert str(raised.value).endswith("A 'To' phone number is required.")


def test_it_reports_an_unreachable_api_as_temporary(fake: FakeTwilio) -> None:
    provider = provider_for(fake)
    fake.stop()

    with pytest.raises(ProviderError) as raised:
        provider.send_sms(ALICE, "Disk full", "https://pager.example/s/1")

    assert (raised.value.permanent, raised.value.code) == (False, None)
    assert "ConnectionError" in str(raised.value)
    assert raised.value.outcome_unknown is False  # refused: nothing was sent


def test_it_reports_an_api_that_never_answers_as_temporary() -> None:
    silent = bind_local_port()  # listens, never accepts: the request waits for the timeout
    try:
        port = silent.getsockname()[1]
        provider = TwilioProvider(
            NAME, "AC" + "1" * 32, "token", OUR_NUMBER, f"http://127.0.0.1:{port}", timeout=0.5
        )
        with pytest.raises(ProviderError) as raised:
            provider.send_sms(ALICE, "Disk full", "https://pager.example/s/1")
    finally:
        silent.close()

    assert raised.value.permanent is False
    assert "Timeout" in str(raised.value)
    assert raised.value.outcome_unknown is True  # the request went out: it may have been taken


# Looking up an SMS after a timeout


def test_it_finds_an_sms_it_took_without_answering_in_time(fake: FakeTwilio) -> None:
    provider = provider_for(fake, timeout=0.5)
    fake.stall_next, fake.stall_seconds = 1, 3
    since = datetime.now(UTC)
    with pytest.raises(ProviderError) as raised:
        provider.send_sms(ALICE, "Disk full", "https://pager.example/s/1", reference="pager-1")
    assert raised.value.outcome_unknown is True

    found = provider.find_sms(SmsLookup(ALICE, "Disk full", "pager-1", since))

    [sms] = fake.messages
    assert found == Sent(sms["sid"], "queued")
    # Twilio keeps no reference of ours: the lookup is by recipient and sender, then text.
    assert "pager-1" not in str(sms)
    assert fake.searches == [{"To": ALICE, "From": OUR_NUMBER, "PageSize": "20"}]


def test_it_finds_no_sms_with_other_text_sent_before_or_already_accounted_for(
    fake: FakeTwilio, provider: TwilioProvider
) -> None:
    since = datetime.now(UTC)
    earlier = provider.send_sms(ALICE, "Disk full", "https://pager.example/s/1")
    provider.send_sms("+447700900999", "Disk full", "https://pager.example/s/2")

    def find(body: str, since: datetime, skip: frozenset[str] = frozenset()) -> Sent | None:
        return provider.find_sms(SmsLookup(ALICE, body, None, since, skip))

    assert find("Disk full", since) == Sent(earlier.provider_message_id, "queued")
    assert find("CPU hot", since) is None
    assert find("Disk full", since + timedelta(minutes=5)) is None
    assert find("Disk full", since, frozenset({earlier.provider_message_id})) is None


def test_it_reports_a_lookup_it_cannot_make_as_temporary(fake: FakeTwilio) -> None:
    provider = provider_for(fake)
    fake.stop()
    with pytest.raises(ProviderError) as raised:
        provider.find_sms(SmsLookup(ALICE, "Disk full", None, datetime.now(UTC)))
    assert raised.value.permanent is False
    assert "looking up an SMS failed" in str(raised.value)


# Webhook signatures


def test_it_accepts_a_webhook_signed_by_twilio(
    provider: TwilioProvider, inbound: WebRequest
) -> None:
    assert provider.verify_webhook(inbound)


def test_it_finds_the_signature_header_in_any_case(
    provider: TwilioProvider, inbound: WebRequest
) -> None:
    lower = {name.lower(): value for name, value in inbound.headers.items()}

    assert provider.verify_webhook(dataclasses.replace(inbound, headers=lower))


def test_it_rejects_a_tampered_form(provider: TwilioProvider, inbound: WebRequest) -> None:
    tampered = dataclasses.replace(inbound, form={**inbound.form, "Body": "ACK 9999"})

    assert not provider.verify_webhook(tampered)


def test_it_rejects_a_webhook_without_a_signature(
    provider: TwilioProvider, inbound: WebRequest
) -> None:
    headers = {k: v for k, v in inbound.headers.items() if k != "X-Twilio-Signature"}

    assert not provider.verify_webhook(dataclasses.replace(inbound, headers=headers))


def test_it_rejects_a_signature_made_for_another_url(
    provider: TwilioProvider, inbound: WebRequest
) -> None:
    moved = dataclasses.replace(inbound, url=inbound.url.replace("v=1", "v=2"))

    assert not provider.verify_webhook(moved)


def test_it_rejects_a_signature_made_with_another_token(
    provider: TwilioProvider, sink: WebhookSink
) -> None:
    impostor = FakeTwilio(auth_token="1" * 32)
    impostor.send_inbound_sms(f"{sink.base_url}/sms", ALICE, OUR_NUMBER, "ACK 4821")

    [request] = sink.wait_for(1)
    assert not provider.verify_webhook(request)


def test_it_rejects_a_webhook_signed_with_a_shared_key_it_does_not_have(
    provider: TwilioProvider, inbound: WebRequest
) -> None:
    settings = {"X-Twilio-Webhooks-Signature-Settings": "key=KS1,algorithm=HMAC_SHA256"}
    headers = {**inbound.headers, **settings}

    assert not provider.verify_webhook(dataclasses.replace(inbound, headers=headers))


# Reading webhooks


def test_it_reads_an_inbound_sms(provider: TwilioProvider, inbound: WebRequest) -> None:
    assert provider.parse_inbound(inbound) == InboundSms(
        sender=ALICE,
        recipient=OUR_NUMBER,
        body="ACK 4821",
        provider_message_id=inbound.form["MessageSid"],
        signed_content=signed_content(inbound.url, inbound.form),
    )


@pytest.mark.parametrize("field", INBOUND_FIELDS)
def test_it_refuses_an_inbound_sms_missing_a_field(
    provider: TwilioProvider, inbound: WebRequest, field: str
) -> None:
    form = {k: v for k, v in inbound.form.items() if k != field}

    with pytest.raises(WebhookInvalid, match=field):
        provider.parse_inbound(dataclasses.replace(inbound, form=form))


def test_it_reads_the_sms_status_callbacks_twilio_posts(sink: WebhookSink) -> None:
    with FakeTwilio(auto_status="delivered") as fake:
        provider = provider_for(fake)
        sid = provider.send_sms(ALICE, "Disk full", status_url(sink)).provider_message_id

        callbacks = sink.wait_for(2)

    assert all(provider.verify_webhook(callback) for callback in callbacks)
    assert [provider.parse_status(callback) for callback in callbacks] == [
        StatusUpdate(sid, "sent", "sent"),
        StatusUpdate(sid, "delivered", "delivered"),
    ]


def test_it_reads_an_undelivered_sms_as_failed_with_its_error_code(sink: WebhookSink) -> None:
    with FakeTwilio() as fake:
        fake.fail_status = "undelivered"
        provider = provider_for(fake)
        sid = provider.send_sms(ALICE, "Disk full", status_url(sink)).provider_message_id

        callbacks = sink.wait_for(2)

    assert provider.parse_status(callbacks[-1]) == StatusUpdate(
        sid, "failed", "undelivered", error_code="30003"
    )


@pytest.mark.parametrize(
    ("fail_status", "raw_status", "state"),
    [
        (None, "completed", "answered"),
        ("no-answer", "no-answer", "no_answer"),
        ("busy", "busy", "no_answer"),
        ("failed", "failed", "failed"),
    ],
)
def test_it_reads_the_call_outcome_twilio_posts(
    sink: WebhookSink, fail_status: str | None, raw_status: str, state: DeliveryState
) -> None:
    with FakeTwilio() as fake:
        fake.fail_status = fail_status
        provider = provider_for(fake)
        sent = provider.call(ALICE, "Disk full", keypad_url(sink), status_url(sink))

        [callback] = sink.wait_for(1)

    assert provider.verify_webhook(callback)
    assert provider.parse_status(callback) == StatusUpdate(
        sent.provider_message_id, state, raw_status
    )


def test_it_reads_the_digits_pressed_during_a_call(
    fake: FakeTwilio, provider: TwilioProvider, sink: WebhookSink
) -> None:
    sid = provider.call(ALICE, "Disk full", keypad_url(sink), status_url(sink)).provider_message_id

    fake.press_keys(keypad_url(sink), sid, "1")

    [request] = sink.wait_for(1)
    assert provider.verify_webhook(request)
    assert provider.parse_keypad(request) == KeypadInput(provider_message_id=sid, digits="1")


def test_it_refuses_a_keypad_callback_without_digits(provider: TwilioProvider) -> None:
    with pytest.raises(WebhookInvalid, match="Digits"):
        provider.parse_keypad(webhook(CallSid="CA" + "2" * 32))


SMS_STATES = [
    ("queued", "queued"),
    ("accepted", "queued"),
    ("scheduled", "queued"),
    ("sending", "queued"),
    ("sent", "sent"),
    ("delivered", "delivered"),
    ("read", "delivered"),
    ("undelivered", "failed"),
    ("failed", "failed"),
    ("canceled", "failed"),
]
CALL_STATES = [
    ("queued", "queued"),
    ("initiated", "queued"),
    ("ringing", "sent"),
    ("in-progress", "answered"),
    ("completed", "answered"),
    ("busy", "no_answer"),
    ("no-answer", "no_answer"),
    ("canceled", "no_answer"),
    ("failed", "failed"),
]


@pytest.mark.parametrize(
    ("sid_field", "status_field", "raw_status", "state"),
    [("MessageSid", "MessageStatus", *row) for row in SMS_STATES]
    + [("CallSid", "CallStatus", *row) for row in CALL_STATES],
)
def test_it_maps_each_twilio_status_to_a_delivery_state(
    provider: TwilioProvider, sid_field: str, status_field: str, raw_status: str, state: str
) -> None:
    update = provider.parse_status(webhook(**{sid_field: "XX1", status_field: raw_status}))

    assert (update.provider_message_id, update.state, update.raw_status) == (
        "XX1",
        state,
        raw_status,
    )


@pytest.mark.parametrize(
    "form",
    [
        {"MessageSid": "SM1", "MessageStatus": "received"},
        {"MessageSid": "SM1"},
        {"MessageStatus": "sent"},
        {"CallSid": "CA1", "CallStatus": "answered"},
        {},
    ],
)
def test_it_refuses_a_status_callback_it_cannot_read(
    provider: TwilioProvider, form: dict[str, str]
) -> None:
    with pytest.raises(WebhookInvalid):
        provider.parse_status(webhook(**form))


# Answers


def test_it_replies_to_an_sms_with_twiml(provider: TwilioProvider, inbound: WebRequest) -> None:
    sms = provider.parse_inbound(inbound)

    assert provider.sms_reply(sms, "Acked #4821 & <db-1>") == WebResponse(
        '<?xml version="1.0" encoding="UTF-8"?>'
        "<Response><Message>Acked #4821 &amp; &lt;db-1&gt;</Message></Response>",
        "application/xml",
    )
    assert provider.sms_reply(sms, None) == WebResponse(
        '<?xml version="1.0" encoding="UTF-8"?><Response />', "application/xml"
    )


def test_it_answers_a_keypad_callback_by_speaking_and_hanging_up(
    provider: TwilioProvider,
) -> None:
    said = provider.voice_reply(KeypadInput("call-1", "1"), "Acknowledged. Thank you.")
    assert said == WebResponse(
        '<?xml version="1.0" encoding="UTF-8"?>'
        "<Response><Say>Acknowledged. Thank you.</Say><Hangup /></Response>",
        "application/xml",
    )
