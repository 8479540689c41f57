"""The AWS SNS provider, through the real boto3 SDK, against a fake SNS Query API on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pager.providers.base import (
    InboundSms,
    KeypadInput,
    ProviderError,
    WebhookInvalid,
    WebRequest,
    WebResponse,
)
from pager.providers.sns import SnsProvider
from tests.fakes.sns import FakeSns
from tests.fakes.twilio import bind_local_port

ALICE = "+447700900123"
NAME = "sns-main"
REGION = "eu-west-1"
STATUS_URL = "https://pager.example/providers/sns-main/status?a=cb-7f3a"


def provider_for(fake: FakeSns, secret: str | None = None, **options: str) -> SnsProvider:
    return SnsProvider(
        NAME,
        REGION,
        fake.access_key_id,
        secret or fake.secret_access_key,
        endpoint_url=fake.base_url,
        timeout=5,
        **options,
    )


@pytest.fixture
def fake() -> Iterator[FakeSns]:
    with FakeSns() as fake:
        yield fake


@pytest.fixture
def provider(fake: FakeSns) -> SnsProvider:
    return provider_for(fake)


def webhook(**form: str) -> WebRequest:
    return WebRequest(url="https://pager.example/hook", method="POST", headers={}, form=form)


# Sending


def test_it_publishes_a_transactional_sms_to_the_phone_number(
    fake: FakeSns, provider: SnsProvider
) -> None:
    sent = provider.send_sms(ALICE, "Disk full on db-1. Reply ACK 4821", STATUS_URL)

    [message] = fake.messages
    assert sent.provider_message_id == message["MessageId"]
    assert sent.state == "sent"  # SNS reports nothing later: sent is final
    assert message["form"] == {
        "Action": "Publish",
        "Version": "2010-03-31",
        "PhoneNumber": ALICE,
        "Message": "Disk full on db-1. Reply ACK 4821",
        "MessageAttributes.entry.1.Name": "AWS.SNS.SMS.SMSType",
        "MessageAttributes.entry.1.Value.DataType": "String",
        "MessageAttributes.entry.1.Value.StringValue": "Transactional",
    }


def test_it_sends_the_sender_id_and_origination_number_when_configured(fake: FakeSns) -> None:
    provider = provider_for(fake, sender_id="Pager", origination_number="+447700900999")

    provider.send_sms(ALICE, "Disk full", STATUS_URL)

    [message] = fake.messages
    assert message["MessageAttributes"] == {
        "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
        "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": "Pager"},
        "AWS.MM.SMS.OriginationNumber": {"DataType": "String", "StringValue": "+447700900999"},
    }


def test_it_only_sends_sms() -> None:
    assert SnsProvider.channels == frozenset({"sms"})


def test_it_refuses_to_place_a_call_for_good(provider: SnsProvider) -> None:
    with pytest.raises(ProviderError, match="SNS cannot place calls") as raised:
        provider.call(ALICE, "Disk full", "https://pager.example/k", STATUS_URL)

    assert raised.value.permanent is True


# Errors


def test_it_reports_a_server_error_as_temporary_without_retrying_it(
    fake: FakeSns, provider: SnsProvider
) -> None:
    fake.fail_next = 2

    for _ in range(2):  # a retry inside boto3 would have used the second failure up
        with pytest.raises(ProviderError) as raised:
            provider.send_sms(ALICE, "Disk full", STATUS_URL)
        assert (raised.value.permanent, raised.value.code) == (False, "InternalError")
        assert NAME in str(raised.value)
    provider.send_sms(ALICE, "Disk full", STATUS_URL)
    assert len(fake.messages) == 1


def test_it_reports_throttling_as_temporary_although_it_is_a_400(
    fake: FakeSns, provider: SnsProvider
) -> None:
    fake.fail_next = 1
    fake.fail_next_as = (400, "Throttling")

    with pytest.raises(ProviderError) as raised:
        provider.send_sms(ALICE, "Disk full", STATUS_URL)

    assert (raised.value.permanent, raised.value.code) == (False, "Throttling")
    assert "HTTP 400" in str(raised.value)


def test_it_reports_an_invalid_number_as_permanent_without_the_number(
    provider: SnsProvider,
) -> None:
    with pytest.raises(ProviderError) as raised:
        provider.send_sms("+4477", "Disk full", STATUS_URL)

    assert (raised.value.permanent, raised.value.code) == (True, "InvalidParameter")
    assert "+4477" not in str(raised.value)
    assert "PhoneNumber Reason: <to> is not valid" in str(raised.value)


def test_it_reports_a_wrong_secret_as_permanent_without_the_secret(fake: FakeSns) -> None:
    provider = provider_for(fake, secret="wrong-secret-5d1e")

    with pytest.raises(ProviderError) as raised:
        provider.send_sms(ALICE, "Disk full", STATUS_URL)

    assert (raised.value.permanent, raised.value.code) == (True, "SignatureDoesNotMatch")
    assert "wrong-secret-5d1e" not in str(raised.value)
    assert fake.secret_access_key not in str(raised.value)
    assert fake.messages == []


def test_it_reports_an_unknown_access_key_as_permanent(fake: FakeSns) -> None:
    provider = SnsProvider(
        NAME, REGION, "AKIAUNKNOWN0000000000", "secret", endpoint_url=fake.base_url, timeout=5
    )

    with pytest.raises(ProviderError) as raised:
        provider.send_sms(ALICE, "Disk full", STATUS_URL)

    assert (raised.value.permanent, raised.value.code) == (True, "InvalidClientTokenId")


def test_it_reports_an_unreachable_api_as_temporary(fake: FakeSns) -> None:
    provider = provider_for(fake)
    fake.stop()

    with pytest.raises(ProviderError) as raised:
        provider.send_sms(ALICE, "Disk full", STATUS_URL)

    assert (raised.value.permanent, raised.value.code) == (False, None)
    assert "EndpointConnectionError" in str(raised.value)


def test_it_reports_an_api_that_never_answers_as_temporary() -> None:
    silent = bind_local_port()  # listens, never accepts: the request waits for the timeout
    try:
        port = silent.getsockname()[1]
        provider = SnsProvider(
            NAME, REGION, "AKID", "secret", endpoint_url=f"http://127.0.0.1:{port}", timeout=0.5
        )
        with pytest.raises(ProviderError) as raised:
            provider.send_sms(ALICE, "Disk full", STATUS_URL)
    finally:
        silent.close()

    assert raised.value.permanent is False
    assert "Timeout" in str(raised.value)


# Webhooks: SNS posts none, so none is trusted or read


def test_it_trusts_no_webhook(provider: SnsProvider) -> None:
    request = webhook(MessageId="m-1", Status="delivered")

    assert provider.verify_webhook(request) is False


@pytest.mark.parametrize("parse", ["parse_inbound", "parse_status", "parse_keypad"])
def test_it_reads_no_webhook(provider: SnsProvider, parse: str) -> None:
    with pytest.raises(WebhookInvalid, match="SNS posts no"):
        getattr(provider, parse)(webhook(MessageId="m-1"))


def test_it_answers_with_an_empty_200(fake: FakeSns, provider: SnsProvider) -> None:
    empty = WebResponse("", "text/plain", 200)
    sms = InboundSms(
        sender=ALICE, recipient="+447700900999", body="ACK 4821", provider_message_id="m"
    )

    assert provider.sms_reply(sms, "Acked #4821") == empty
    assert provider.voice_reply(KeypadInput("call-1", "1"), "Acknowledged.") == empty
    assert fake.messages == []  # SNS cannot have sent the SMS: no reply goes out either
