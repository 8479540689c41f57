"""The Sinch provider (SMS REST API through Sinch's SDK) against a fake Sinch API on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

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
from pager.providers.sinch import SinchProvider
from tests.fakes.sinch import FakeSinch, WebhookBodySink
from tests.fakes.twilio import bind_local_port

OUR_NUMBER = "+447700900999"
ALICE = "+447700900123"
NAME = "sinch-main"
SECRET = "whsec-" + "5d1e" * 8
EMPTY = WebResponse("", "text/plain", 200)


def provider_for(
    fake: FakeSinch, api_token: str | None = None, webhook_secret: str | None = SECRET
) -> SinchProvider:
    return SinchProvider(
        NAME,
        fake.service_plan_id,
        api_token or fake.api_token,
        OUR_NUMBER,
        base_url=fake.base_url,
        webhook_secret=webhook_secret,
        timeout=5,
    )


@pytest.fixture
def fake() -> Iterator[FakeSinch]:
    with FakeSinch(webhook_secret=SECRET, auto_status=None) as fake:
        yield fake


@pytest.fixture
def sink() -> Iterator[WebhookBodySink]:
    with WebhookBodySink() as sink:
        yield sink


@pytest.fixture
def provider(fake: FakeSinch) -> SinchProvider:
    return provider_for(fake)


@pytest.fixture
def inbound(fake: FakeSinch, sink: WebhookBodySink) -> WebRequest:
    """Sinch's real `mo_text` callback, signed, as it reached our endpoint."""
    fake.send_inbound_sms(
        f"{sink.base_url}/providers/{NAME}/inbound", ALICE, OUR_NUMBER, "ACK 4821"
    )
    [request] = sink.wait_for(1)
    return request


def status_url(sink: WebhookBodySink) -> str:
    return f"{sink.base_url}/providers/{NAME}/status?a=cb-7f3a"


# The fields every recipient delivery report carries besides batch_id and status, as in the
# SDK's own example (sinch/sinch-sdk-python tests/unit/domains/sms/v1/models/response/
# test_recipient_delivery_report_model.py at b45a3ed35136bd9ac72a3f7bc0591f63b49bcc39).
REPORTED = {"at": "2022-08-30T08:16:08.930Z", "code": 401, "recipient": "+44231235674"}


def report(**fields: object) -> WebRequest:
    event = {"type": "recipient_delivery_report_sms", **REPORTED, **fields}
    return WebRequest("https://pager.example/s", "POST", {}, {}, json.dumps(event).encode())


# Sending


def test_it_sends_a_batch_of_one_that_reports_each_recipient_to_the_status_url(
    fake: FakeSinch, provider: SinchProvider
) -> None:
    sent = provider.send_sms(ALICE, "Disk full on db-1. Reply ACK 4821", "https://p.example/s?a=1")

    [batch] = fake.messages
    assert {k: batch[k] for k in ("from", "to", "body", "delivery_report", "callback_url")} == {
        "from": OUR_NUMBER,
        "to": [ALICE],
        "body": "Disk full on db-1. Reply ACK 4821",
        "delivery_report": "per_recipient",
        "callback_url": "https://p.example/s?a=1",
    }
    assert (sent.provider_message_id, sent.state) == (batch["id"], "queued")


def test_it_only_sends_sms(provider: SinchProvider) -> None:
    assert SinchProvider.channels == frozenset({"sms"})
    with pytest.raises(ProviderError, match="cannot place calls") as raised:
        provider.call(ALICE, "Disk full", "https://p.example/k", "https://p.example/s")
    assert raised.value.permanent is True
    with pytest.raises(WebhookInvalid):
        provider.parse_keypad(report(batch_id="b1", status="Delivered"))


# Errors


@pytest.mark.parametrize(("status", "code"), [(500, "internal_error"), (503, "unavailable")])
def test_it_reports_a_server_error_as_temporary(
    fake: FakeSinch, provider: SinchProvider, status: int, code: str
) -> None:
    fake.fail_next = 1
    fake.fail_next_as = (status, code)

    with pytest.raises(ProviderError) as raised:
        provider.send_sms(ALICE, "Disk full", "https://p.example/s")

    assert (raised.value.permanent, raised.value.code) == (False, code)
    assert f"HTTP {status}" in str(raised.value) and NAME in str(raised.value)
    provider.send_sms(ALICE, "Disk full", "https://p.example/s")
    assert len(fake.messages) == 1


def test_it_reports_rate_limiting_as_temporary(fake: FakeSinch, provider: SinchProvider) -> None:
    fake.fail_next = 1
    fake.fail_next_as = (429, "too_many_requests")

    with pytest.raises(ProviderError) as raised:
        provider.send_sms(ALICE, "Disk full", "https://p.example/s")

    assert (raised.value.permanent, raised.value.code) == (False, "too_many_requests")


def test_it_reports_a_wrong_token_as_permanent_without_the_token(fake: FakeSinch) -> None:
    provider = provider_for(fake, api_token="wrong-token-5d1e")

    with pytest.raises(ProviderError) as raised:
        provider.send_sms(ALICE, "Disk full", "https://p.example/s")

    assert (raised.value.permanent, raised.value.code) == (True, "Invalid credentials")
    assert "HTTP 401" in str(raised.value)
    assert "wrong-token-5d1e" not in str(raised.value)
    assert fake.api_token not in str(raised.value)


def test_it_reports_an_unknown_service_plan_as_permanent(fake: FakeSinch) -> None:
    provider = SinchProvider(NAME, "other-plan", fake.api_token, OUR_NUMBER, base_url=fake.base_url)

    with pytest.raises(ProviderError) as raised:
        provider.send_sms(ALICE, "Disk full", "https://p.example/s")

    assert (raised.value.permanent, raised.value.code) == (True, "unknown_service_plan")


def test_it_reports_an_invalid_number_as_permanent_without_the_number(
    provider: SinchProvider,
) -> None:
    with pytest.raises(ProviderError) as raised:
        provider.send_sms("+4477", "Disk full", "https://p.example/s")

    assert (raised.value.permanent, raised.value.code) == (True, "syntax_invalid_parameter_format")
    assert "+4477" not in str(raised.value)
    assert str(raised.value).endswith("Invalid MSISDN: <to>")


def test_it_reports_an_unreachable_api_as_temporary(fake: FakeSinch) -> None:
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
        provider = SinchProvider(
            NAME, "plan", "token", OUR_NUMBER, base_url=f"http://127.0.0.1:{port}", timeout=0.5
        )
        with pytest.raises(ProviderError) as raised:
            provider.send_sms(ALICE, "Disk full", "https://p.example/s")
    finally:
        silent.close()

    assert raised.value.permanent is False
    assert "Timeout" in str(raised.value)


# Webhook signatures


def test_it_accepts_a_callback_signed_by_sinch(
    provider: SinchProvider, inbound: WebRequest
) -> None:
    assert provider.verify_webhook(inbound)


def test_it_accepts_sinchs_own_signature_example() -> None:
    """The known answer from Sinch's .NET SDK tests (Conversation API, same HMAC scheme)."""
    body = (
        '{"app_id":"","accepted_time":"2021-10-18T17:49:13.813615Z","project_id":'
        '"e2df3a34-a71b-4448-9db5-a8d2baad28e4","contact_create_notification":{"contact":'
        '{"id":"01FJA8B466Y0R2GNXD78MD9SM1","channel_identities":[{"channel":"SMS","identity":'
        '"48123456789","app_id":""}],"display_name":"New Test Contact","email":'
        '"new.contact@email.com","external_id":"","metadata":"","language":"EN_US"}},'
        '"message_metadata":""}'
    )
    headers = {
        "x-sinch-webhook-signature-nonce": "01FJA8B4A7BM43YGWSG9GBV067",
        "x-sinch-webhook-signature-timestamp": "1634579353",
        "x-sinch-webhook-signature": "6bpJoRmFoXVjfJIVglMoJzYXxnoxRujzR4k2GOXewOE=",
    }
    provider = SinchProvider(NAME, "plan", "token", OUR_NUMBER, webhook_secret="foo_secret1234")
    request = WebRequest("https://pager.example/s", "POST", headers, {}, body.encode())

    with freeze_time(datetime.fromtimestamp(1634579353 + 60, UTC)):
        assert provider.verify_webhook(request)


def test_it_finds_the_signature_headers_in_any_case(
    provider: SinchProvider, inbound: WebRequest
) -> None:
    upper = {name.upper(): value for name, value in inbound.headers.items()}

    assert provider.verify_webhook(dataclasses.replace(inbound, headers=upper))


def test_it_rejects_a_tampered_body(provider: SinchProvider, inbound: WebRequest) -> None:
    tampered = inbound.body.replace(b"ACK 4821", b"ACK 9999")

    assert not provider.verify_webhook(dataclasses.replace(inbound, body=tampered))


@pytest.mark.parametrize("header", ["", "-nonce", "-timestamp"])
def test_it_rejects_a_callback_missing_a_signature_header(
    provider: SinchProvider, inbound: WebRequest, header: str
) -> None:
    missing = f"x-sinch-webhook-signature{header}"
    headers = {k: v for k, v in inbound.headers.items() if k.lower() != missing}

    assert not provider.verify_webhook(dataclasses.replace(inbound, headers=headers))


def test_it_rejects_another_algorithm(provider: SinchProvider, inbound: WebRequest) -> None:
    headers = {**inbound.headers, "X-Sinch-Webhook-Signature-Algorithm": "HmacSHA1"}

    assert not provider.verify_webhook(dataclasses.replace(inbound, headers=headers))


@pytest.mark.parametrize("skew", [-301, 3600, -86400])
def test_it_rejects_a_stale_or_future_signature(
    fake: FakeSinch, provider: SinchProvider, sink: WebhookBodySink, skew: int
) -> None:
    stamp = int(time.time()) + skew
    fake.send_inbound_sms(f"{sink.base_url}/in", ALICE, OUR_NUMBER, "ACK 4821", timestamp=stamp)

    [request] = sink.wait_for(1)
    assert not provider.verify_webhook(request)


def test_it_rejects_a_signature_made_with_another_secret(
    fake: FakeSinch, inbound: WebRequest
) -> None:
    assert not provider_for(fake, webhook_secret="another-secret").verify_webhook(inbound)


def test_it_rejects_every_callback_without_a_secret_configured(
    fake: FakeSinch, inbound: WebRequest
) -> None:
    assert not provider_for(fake, webhook_secret=None).verify_webhook(inbound)


# Reading webhooks


def test_it_reads_an_inbound_sms(provider: SinchProvider, inbound: WebRequest) -> None:
    event = json.loads(inbound.body)

    assert event["from"] == ALICE.lstrip("+")  # Sinch drops the +; we put it back
    assert provider.parse_inbound(inbound) == InboundSms(
        sender=ALICE, recipient=OUR_NUMBER, body="ACK 4821", provider_message_id=event["id"]
    )


@pytest.mark.parametrize("field", ["from", "to", "id"])
def test_it_refuses_an_inbound_sms_missing_a_field(
    provider: SinchProvider, inbound: WebRequest, field: str
) -> None:
    event = json.loads(inbound.body)
    del event[field]

    with pytest.raises(WebhookInvalid, match=field):
        provider.parse_inbound(dataclasses.replace(inbound, body=json.dumps(event).encode()))


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"type": "mo_binary", "body": "SGk="}'])
def test_it_refuses_an_inbound_callback_it_cannot_read(
    provider: SinchProvider, inbound: WebRequest, body: bytes
) -> None:
    with pytest.raises(WebhookInvalid):
        provider.parse_inbound(dataclasses.replace(inbound, body=body))


def test_it_reads_the_delivery_reports_sinch_posts(sink: WebhookBodySink) -> None:
    with FakeSinch(webhook_secret=SECRET, auto_status="Delivered") as fake:
        provider = provider_for(fake)
        batch_id = provider.send_sms(ALICE, "Disk full", status_url(sink)).provider_message_id

        callbacks = sink.wait_for(2)

    assert all(provider.verify_webhook(callback) for callback in callbacks)
    assert [callback.query for callback in callbacks] == [{"a": "cb-7f3a"}] * 2
    assert [provider.parse_status(callback) for callback in callbacks] == [
        StatusUpdate(batch_id, "sent", "Dispatched"),
        StatusUpdate(batch_id, "delivered", "Delivered"),
    ]


def test_it_reads_a_failed_delivery_with_its_code(sink: WebhookBodySink) -> None:
    with FakeSinch(webhook_secret=SECRET, auto_status="Failed") as fake:
        provider = provider_for(fake)
        batch_id = provider.send_sms(ALICE, "Disk full", status_url(sink)).provider_message_id

        callbacks = sink.wait_for(2)

    assert provider.parse_status(callbacks[-1]) == StatusUpdate(
        batch_id, "failed", "Failed", error_code="402"
    )


STATES = [
    ("Queued", "queued"),
    ("Dispatched", "sent"),
    ("Unknown", "sent"),
    ("Delivered", "delivered"),
    ("Aborted", "failed"),
    ("Cancelled", "failed"),
    ("Rejected", "failed"),
    ("Deleted", "failed"),
    ("Failed", "failed"),
    ("Expired", "failed"),
    ("DELIVERED", "delivered"),  # Sinch's newer SDKs spell statuses in capitals
]


@pytest.mark.parametrize(("raw_status", "state"), STATES)
def test_it_maps_each_sinch_status_to_a_delivery_state(
    provider: SinchProvider, raw_status: str, state: DeliveryState
) -> None:
    update = provider.parse_status(report(batch_id="01B", status=raw_status))

    assert (update.provider_message_id, update.state, update.raw_status) == (
        "01B",
        state,
        raw_status,
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"batch_id": "01B", "status": "Sent"},
        {"batch_id": "01B"},
        {"status": "Delivered"},
        {"type": "delivery_report_sms", "batch_id": "01B", "status": "Delivered"},
    ],
)
def test_it_refuses_a_delivery_report_it_cannot_read(
    provider: SinchProvider, fields: dict[str, str]
) -> None:
    with pytest.raises(WebhookInvalid):
        provider.parse_status(report(**fields))


# Answers


def test_it_replies_to_an_sms_with_a_batch_of_its_own(
    fake: FakeSinch, provider: SinchProvider, inbound: WebRequest
) -> None:
    sms = provider.parse_inbound(inbound)

    assert provider.sms_reply(sms, None) == EMPTY  # nothing to say: nothing sent
    assert provider.sms_reply(sms, "Acked #4821") == EMPTY
    assert provider.voice_reply(KeypadInput("call-1", "1"), "Acknowledged.") == EMPTY

    [batch] = fake.messages
    assert (batch["from"], batch["to"], batch["body"]) == (OUR_NUMBER, [ALICE], "Acked #4821")
    assert batch["delivery_report"] == "none" and "callback_url" not in batch


def test_it_logs_a_reply_it_could_not_send_and_still_answers_200(
    fake: FakeSinch, provider: SinchProvider, inbound: WebRequest, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail_next = 1

    with caplog.at_level(logging.WARNING, logger="pager.providers.sinch"):
        assert provider.sms_reply(provider.parse_inbound(inbound), "Acked #4821") == EMPTY

    [record] = caplog.records
    assert "event=sms_reply_failed" in record.getMessage()
    assert "+44******0123" in record.getMessage() and ALICE not in record.getMessage()


# Looking up an SMS after a timeout


def test_it_sends_our_reference_and_finds_the_batch_by_it_after_a_timeout(
    fake: FakeSinch,
) -> None:
    provider = SinchProvider(
        NAME, fake.service_plan_id, fake.api_token, OUR_NUMBER, base_url=fake.base_url, timeout=0.5
    )
    fake.stall_next, fake.stall_seconds = 1, 3
    since = datetime.now(UTC)
    with pytest.raises(ProviderError) as raised:
        provider.send_sms(ALICE, "Disk full", "https://p.example/s", reference="pager-5e1f")
    assert raised.value.outcome_unknown is True

    found = provider.find_sms(SmsLookup(ALICE, "Disk full", "pager-5e1f", since))

    [batch] = fake.messages
    assert batch["client_reference"] == "pager-5e1f"
    assert found == Sent(batch["id"], "queued")
    [query] = fake.searches
    assert query["client_reference"] == "pager-5e1f"
    # Whole seconds, 30 s before the attempt (our clock against Sinch's), in UTC: the shape of
    # Sinch's own SDK's example (test_list_batches_endpoint.py, datetime(2024, 6, 1) in UTC).
    start = (since - timedelta(seconds=30)).replace(microsecond=0)
    assert query["start_date"] == start.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_it_finds_no_batch_under_another_reference_or_already_accounted_for(
    fake: FakeSinch, provider: SinchProvider
) -> None:
    since = datetime.now(UTC)
    sent = provider.send_sms(ALICE, "Disk full", "https://p.example/s", reference="pager-1")

    def find(reference: str | None, skip: frozenset[str] = frozenset()) -> Sent | None:
        return provider.find_sms(SmsLookup(ALICE, "Disk full", reference, since, skip))

    assert find("pager-1") == sent
    assert find("pager-2") is None
    assert find("pager-1", frozenset({sent.provider_message_id})) is None
    assert find(None) is None  # an attempt from before references: nothing to look up by


def test_it_reports_a_refused_lookup_with_the_api_error(fake: FakeSinch) -> None:
    provider = provider_for(fake, api_token="wrong-token")
    with pytest.raises(ProviderError) as raised:
        provider.find_sms(SmsLookup(ALICE, "Disk full", "pager-1", datetime.now(UTC)))
    assert (raised.value.permanent, raised.value.code) == (True, "Invalid credentials")
    assert "looking up an SMS failed: HTTP 401" in str(raised.value)
