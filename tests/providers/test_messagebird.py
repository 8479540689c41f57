"""The MessageBird provider (REST API over `requests`) against a fake MessageBird on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import jwt
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
from pager.providers.messagebird import MessageBirdProvider
from tests.fakes.messagebird import FakeMessageBird
from tests.fakes.sinch import WebhookBodySink
from tests.fakes.twilio import bind_local_port

OUR_NUMBER = "+447700900999"
ALICE = "+447700900123"
NAME = "bird-main"
EMPTY = WebResponse("", "text/plain", 200)


def provider_for(
    fake: FakeMessageBird, access_key: str | None = None, signing_key: str | None = "fake's"
) -> MessageBirdProvider:
    return MessageBirdProvider(
        NAME,
        access_key or fake.access_key,
        OUR_NUMBER,
        base_url=fake.base_url,
        signing_key=fake.signing_key if signing_key == "fake's" else signing_key,
        timeout=5,
    )


@pytest.fixture
def fake() -> Iterator[FakeMessageBird]:
    with FakeMessageBird(auto_status=None) as fake:
        yield fake


@pytest.fixture
def sink() -> Iterator[WebhookBodySink]:
    with WebhookBodySink() as sink:
        yield sink


@pytest.fixture
def provider(fake: FakeMessageBird) -> MessageBirdProvider:
    return provider_for(fake)


@pytest.fixture
def inbound(fake: FakeMessageBird, sink: WebhookBodySink) -> WebRequest:
    """MessageBird's inbound SMS webhook, signed, as it reached our endpoint."""
    fake.send_inbound_sms(
        f"{sink.base_url}/providers/{NAME}/inbound", ALICE, OUR_NUMBER, "ACK 4821"
    )
    [request] = sink.wait_for(1)
    return request


def status_url(sink: WebhookBodySink) -> str:
    return f"{sink.base_url}/providers/{NAME}/status?a=cb-7f3a"


def reported(**query: str) -> WebRequest:
    return WebRequest("https://pager.example/s", "GET", {}, {}, b"", query)


# Sending


def test_it_sends_an_sms_whose_status_is_reported_to_the_status_url(
    fake: FakeMessageBird, provider: MessageBirdProvider
) -> None:
    sent = provider.send_sms(ALICE, "Disk full on db-1. Reply ACK 4821", "https://p.example/s?a=1")

    assert fake.messages == [
        {
            "id": sent.provider_message_id,
            "originator": OUR_NUMBER,
            "recipients": ["447700900123"],
            "body": "Disk full on db-1. Reply ACK 4821",
            "reportUrl": "https://p.example/s?a=1",
        }
    ]
    assert sent.state == "sent"  # MessageBird answers with the recipient already "sent"


def test_it_places_a_voice_message_that_reads_the_page_twice_and_skips_voicemail(
    fake: FakeMessageBird, provider: MessageBirdProvider
) -> None:
    sent = provider.call(
        ALICE, "Disk full on db-1.", "https://p.example/k?a=1", "https://p.example/s?a=1"
    )

    assert fake.calls == [
        {
            "id": sent.provider_message_id,
            "originator": OUR_NUMBER,
            "recipients": ["447700900123"],
            "body": "Disk full on db-1.",
            "reportUrl": "https://p.example/s?a=1",
            "language": "en-gb",
            "voice": "female",
            "repeat": 2,
            "ifMachine": "hangup",
        }
    ]
    assert sent.state == "sent"  # "calling"


def test_it_cannot_read_keys_pressed_during_a_call(provider: MessageBirdProvider) -> None:
    with pytest.raises(WebhookInvalid, match="acknowledge by SMS"):
        provider.parse_keypad(reported(id="v1", digits="1"))


# Errors


@pytest.mark.parametrize(("status", "code"), [(500, 99), (429, 98)])
def test_it_reports_a_server_error_or_rate_limiting_as_temporary(
    fake: FakeMessageBird, provider: MessageBirdProvider, status: int, code: int
) -> None:
    fake.fail_next = 1
    fake.fail_next_as = (status, code)

    with pytest.raises(ProviderError) as raised:
        provider.call(ALICE, "Disk full", "https://p.example/k", "https://p.example/s")

    assert (raised.value.permanent, raised.value.code) == (False, str(code))
    assert f"HTTP {status}" in str(raised.value) and NAME in str(raised.value)
    provider.send_sms(ALICE, "Disk full", "https://p.example/s")
    assert len(fake.messages) == 1


def test_it_reports_a_wrong_access_key_as_permanent_without_the_key(
    fake: FakeMessageBird,
) -> None:
    provider = provider_for(fake, access_key="wrong-key-5d1e")

    with pytest.raises(ProviderError) as raised:
        provider.send_sms(ALICE, "Disk full", "https://p.example/s")

    assert (raised.value.permanent, raised.value.code) == (True, "2")
    assert str(raised.value).endswith(
        "HTTP 401, code 2: Request not allowed (incorrect access_key)"
    )
    assert "wrong-key-5d1e" not in str(raised.value) and fake.access_key not in str(raised.value)


def test_it_reports_an_invalid_number_as_permanent(provider: MessageBirdProvider) -> None:
    with pytest.raises(ProviderError) as raised:
        provider.send_sms("+4477", "Disk full", "https://p.example/s")

    assert (raised.value.permanent, raised.value.code) == (True, "9")
    assert "HTTP 422" in str(raised.value) and "4477" not in str(raised.value)


def test_it_reports_an_unreachable_api_as_temporary(fake: FakeMessageBird) -> None:
    provider = provider_for(fake)
    fake.stop()

    with pytest.raises(ProviderError) as raised:
        provider.send_sms(ALICE, "Disk full", "https://p.example/s")

    assert (raised.value.permanent, raised.value.code) == (False, None)
    assert "ConnectionError" in str(raised.value)


def test_it_reports_an_api_that_never_answers_as_temporary() -> None:
    silent = bind_local_port()  # listens, never accepts: the request waits for the timeout
    try:
        port = silent.getsockname()[1]
        provider = MessageBirdProvider(
            NAME, "key", OUR_NUMBER, base_url=f"http://127.0.0.1:{port}", timeout=0.5
        )
        with pytest.raises(ProviderError) as raised:
            provider.call(ALICE, "Disk full", "https://p.example/k", "https://p.example/s")
    finally:
        silent.close()

    assert raised.value.permanent is False
    assert "Timeout" in str(raised.value)


# Webhook signatures


def test_it_accepts_a_post_and_a_get_signed_by_messagebird(
    fake: FakeMessageBird, provider: MessageBirdProvider, sink: WebhookBodySink, inbound: WebRequest
) -> None:
    fake.get_signed(status_url(sink), {"id": "m1", "status": "delivered", "price[amount]": "0.07"})

    [post, get] = sink.wait_for(2)
    assert (post.method, get.method, get.body) == ("POST", "GET", b"")
    assert provider.verify_webhook(post) and provider.verify_webhook(get)


@pytest.mark.parametrize(
    "change",
    [
        {"body": b"id=1&originator=447700900123&body=ACK+9999"},  # a body it did not sign
        {"url": f"https://pager.example/providers/{NAME}/inbound"},  # another URL
        {"headers": {}},  # no signature at all
    ],
)
def test_it_rejects_a_changed_or_unsigned_request(
    provider: MessageBirdProvider, inbound: WebRequest, change: dict[str, Any]
) -> None:
    assert not provider.verify_webhook(dataclasses.replace(inbound, **change))


@pytest.mark.parametrize("signing_key", ["sk_" + "0" * 40, None])
def test_it_rejects_a_signature_without_the_right_signing_key(
    fake: FakeMessageBird, inbound: WebRequest, signing_key: str | None
) -> None:
    assert not provider_for(fake, signing_key=signing_key).verify_webhook(inbound)


@pytest.mark.parametrize("shift", [-3600, 3600])  # expired, and not valid yet
def test_it_rejects_a_stale_or_future_signature(
    fake: FakeMessageBird, provider: MessageBirdProvider, sink: WebhookBodySink, shift: int
) -> None:
    fake.send_inbound_sms(
        f"{sink.base_url}/in", ALICE, OUR_NUMBER, "ACK 1", now=time.time() + shift
    )

    [request] = sink.wait_for(1)
    assert not provider.verify_webhook(request)


def signed_by(
    fake: FakeMessageBird, request: WebRequest, algorithm: str = "HS256", **claims: object
) -> WebRequest:
    """`request` with a token of our own making: the fake's claims, changed by `claims`."""
    token = fake.signature(request.url, request.body)
    made = {**jwt.decode(token, options={"verify_signature": False}), **claims}
    made = {k: v for k, v in made.items() if v is not None}
    key = "" if algorithm == "none" else fake.signing_key
    header = jwt.encode(made, key, algorithm=algorithm)
    return dataclasses.replace(request, headers={"MessageBird-Signature-JWT": header})


@pytest.mark.parametrize(
    ("algorithm", "claims"),
    [
        ("HS256", {"exp": None}),  # MessageBird's SDKs require exp, nbf and iss
        ("HS256", {"nbf": None}),
        ("HS256", {"iss": "Someone"}),
        ("HS256", {"payload_hash": None}),  # a body nobody vouched for
        ("HS256", {"url_hash": hashlib.sha256(b"https://elsewhere.example/").hexdigest()}),
        ("none", {}),  # an unsigned token
    ],
)
def test_it_rejects_a_token_whose_claims_do_not_hold(
    fake: FakeMessageBird,
    provider: MessageBirdProvider,
    inbound: WebRequest,
    algorithm: str,
    claims: dict[str, object],
) -> None:
    assert provider.verify_webhook(signed_by(fake, inbound))  # the unchanged claims pass
    assert not provider.verify_webhook(signed_by(fake, inbound, algorithm, **claims))


def test_it_rejects_a_payload_hash_when_no_body_came(
    fake: FakeMessageBird, provider: MessageBirdProvider, inbound: WebRequest
) -> None:
    bodyless = dataclasses.replace(inbound, body=b"")
    claims = {"payload_hash": hashlib.sha256(inbound.body).hexdigest()}

    assert not provider.verify_webhook(signed_by(fake, bodyless, **claims))


# Reading webhooks


def test_it_reads_an_inbound_sms(provider: MessageBirdProvider, inbound: WebRequest) -> None:
    assert inbound.form["originator"] == "447700900123"  # MessageBird drops the +
    assert provider.parse_inbound(inbound) == InboundSms(
        sender=ALICE, recipient=OUR_NUMBER, body="ACK 4821", provider_message_id=inbound.form["id"]
    )


def test_it_reads_an_inbound_sms_forwarded_as_a_get(provider: MessageBirdProvider) -> None:
    request = reported(id="i1", originator="447700900123", recipient="447700900999", body="ACK 7")

    assert provider.parse_inbound(request) == InboundSms(ALICE, OUR_NUMBER, "ACK 7", "i1")


@pytest.mark.parametrize("field", ["originator", "recipient", "id"])
def test_it_refuses_an_inbound_sms_missing_a_field(
    provider: MessageBirdProvider, inbound: WebRequest, field: str
) -> None:
    form = {k: v for k, v in inbound.form.items() if k != field}

    with pytest.raises(WebhookInvalid, match=field):
        provider.parse_inbound(dataclasses.replace(inbound, form=form))


@pytest.mark.parametrize(
    ("fail_status", "final"),
    [
        (None, ("delivered", "delivered", None, None)),
        ("delivery_failed", ("failed", "delivery_failed", "103", "recipient sent STOP")),
    ],
)
def test_it_reads_the_sms_status_reports_messagebird_sends(
    sink: WebhookBodySink,
    fail_status: str | None,
    final: tuple[DeliveryState, str, str | None, str | None],
) -> None:
    with FakeMessageBird() as fake:
        fake.fail_status = fail_status
        provider = provider_for(fake)
        message_id = provider.send_sms(ALICE, "Disk full", status_url(sink)).provider_message_id

        reports = sink.wait_for(2)

    assert all(report.method == "GET" and provider.verify_webhook(report) for report in reports)
    assert all(report.query["a"] == "cb-7f3a" for report in reports)
    assert [provider.parse_status(report) for report in reports] == [
        StatusUpdate(message_id, "sent", "sent"),
        StatusUpdate(message_id, *final),
    ]


@pytest.mark.parametrize(
    ("fail_status", "outcome"),
    [
        (None, ("answered", "answered", None, None)),
        ("failed", ("failed", "failed", None, None)),
    ],
)
def test_it_reads_the_call_outcome_messagebird_reports(
    sink: WebhookBodySink,
    fail_status: str | None,
    outcome: tuple[DeliveryState, str, str | None, str | None],
) -> None:
    with FakeMessageBird() as fake:
        fake.fail_status = fail_status
        provider = provider_for(fake)
        sent = provider.call(ALICE, "Disk full", "https://p.example/k", status_url(sink))

        [report] = sink.wait_for(1)

    assert provider.verify_webhook(report)
    assert provider.parse_status(report) == StatusUpdate(sent.provider_message_id, *outcome)


STATES = [
    ("scheduled", "queued"),
    ("sent", "sent"),
    ("buffered", "sent"),
    ("delivered", "delivered"),
    ("expired", "failed"),
    ("delivery_failed", "failed"),
    ("calling", "sent"),
    ("answered", "answered"),
    ("failed", "failed"),
]


@pytest.mark.parametrize(("raw_status", "state"), STATES)
def test_it_maps_each_messagebird_status_to_a_delivery_state(
    provider: MessageBirdProvider, raw_status: str, state: DeliveryState
) -> None:
    update = provider.parse_status(reported(id="m1", status=raw_status))

    assert (update.provider_message_id, update.state, update.raw_status) == (
        "m1",
        state,
        raw_status,
    )


@pytest.mark.parametrize(
    "query", [{"id": "m1", "status": "read"}, {"id": "m1"}, {"status": "delivered"}, {}]
)
def test_it_refuses_a_status_report_it_cannot_read(
    provider: MessageBirdProvider, query: dict[str, str]
) -> None:
    with pytest.raises(WebhookInvalid):
        provider.parse_status(reported(**query))


# Answers


def test_it_replies_to_an_sms_with_an_sms_of_its_own(
    fake: FakeMessageBird, provider: MessageBirdProvider, inbound: WebRequest
) -> None:
    sms = provider.parse_inbound(inbound)

    assert provider.sms_reply(sms, None) == EMPTY  # nothing to say: nothing sent
    assert provider.sms_reply(sms, "Acked #4821") == EMPTY
    assert provider.voice_reply(KeypadInput("call-1", "1"), "Acknowledged.") == EMPTY

    [reply] = fake.messages
    assert {k: v for k, v in reply.items() if k != "id"} == {
        "originator": OUR_NUMBER,
        "recipients": ["447700900123"],
        "body": "Acked #4821",
    }


def test_it_logs_a_reply_it_could_not_send_and_still_answers_200(
    fake: FakeMessageBird,
    provider: MessageBirdProvider,
    inbound: WebRequest,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake.fail_next = 1

    with caplog.at_level(logging.WARNING, logger="pager.providers.messagebird"):
        assert provider.sms_reply(provider.parse_inbound(inbound), "Acked #4821") == EMPTY

    [record] = caplog.records
    assert "event=sms_reply_failed" in record.getMessage()
    assert "+44******0123" in record.getMessage() and ALICE not in record.getMessage()


# Looking up an SMS after a timeout


def test_it_sends_our_reference_and_finds_the_sms_by_it_after_a_timeout(
    fake: FakeMessageBird,
) -> None:
    provider = MessageBirdProvider(
        NAME, fake.access_key, OUR_NUMBER, base_url=fake.base_url, timeout=0.5
    )
    fake.stall_next, fake.stall_seconds = 1, 3
    with pytest.raises(ProviderError) as raised:
        provider.send_sms(ALICE, "Disk full", "https://p.example/s", reference="pager-5e1f")
    assert raised.value.outcome_unknown is True

    found = provider.find_sms(SmsLookup(ALICE, "Disk full", "pager-5e1f", datetime.now(UTC)))

    [sms] = fake.messages
    assert sms["reference"] == "pager-5e1f"
    assert found == Sent(sms["id"], "sent")
    assert fake.searches == [{"recipient": ALICE.lstrip("+"), "direction": "mt", "limit": "20"}]


def test_it_finds_no_sms_under_another_reference_or_already_accounted_for(
    fake: FakeMessageBird, provider: MessageBirdProvider
) -> None:
    sent = provider.send_sms(ALICE, "Disk full", "https://p.example/s", reference="pager-1")
    provider.send_sms("+447700900999", "Disk full", "https://p.example/s", reference="pager-2")

    def find(reference: str | None, skip: frozenset[str] = frozenset()) -> Sent | None:
        lookup = SmsLookup(ALICE, "Disk full", reference, datetime.now(UTC), skip)
        return provider.find_sms(lookup)

    assert find("pager-1") == sent
    assert find("pager-2") is None  # sent, but to someone else
    assert find("pager-1", frozenset({sent.provider_message_id})) is None
    assert find(None) is None


def test_it_reports_a_refused_lookup_as_permanent(fake: FakeMessageBird) -> None:
    provider = provider_for(fake, access_key="live_wrong")
    with pytest.raises(ProviderError) as raised:
        provider.find_sms(SmsLookup(ALICE, "Disk full", "pager-1", datetime.now(UTC)))
    assert (raised.value.permanent, raised.value.code) == (True, "2")
    assert "looking up an SMS failed: HTTP 401" in str(raised.value)
