"""What Sinch's SDK changes in the Sinch provider, against the fake Sinch API on 127.0.0.1: it
makes one attempt (the dispatch flow retries), reads error pages that are not JSON, keeps the
token and numbers out of the logs, reads callbacks into its own models, and checks signatures
on what it would otherwise raise on."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator

import pytest

from pager.providers.base import ProviderError, WebhookInvalid, WebRequest
from pager.providers.sinch import SinchProvider, sinch_client
from tests.fakes.sinch import FakeSinch, sign
from tests.providers.test_sinch import ALICE, OUR_NUMBER, SECRET, provider_for, report


@pytest.fixture
def fake() -> Iterator[FakeSinch]:
    with FakeSinch(auto_status=None) as fake:
        yield fake


@pytest.fixture
def provider(fake: FakeSinch) -> SinchProvider:
    return provider_for(fake)


def test_it_leaves_a_rate_limited_batch_to_the_dispatch_flow_without_retrying(
    fake: FakeSinch, provider: SinchProvider
) -> None:
    fake.fail_next, fake.fail_next_as = 2, (429, "too_many_requests")

    with pytest.raises(ProviderError) as raised:
        provider.send_sms(ALICE, "Disk full", "https://p.example/s")

    assert raised.value.permanent is False
    assert fake.fail_next == 1  # one request reached Sinch: the SDK would have tried 4 times
    assert fake.messages == []


@pytest.mark.parametrize(("status", "permanent"), [(502, False), (503, False), (400, True)])
def test_it_judges_an_error_page_that_is_not_json_by_its_status(
    fake: FakeSinch, provider: SinchProvider, status: int, permanent: bool
) -> None:
    fake.fail_next, fake.fail_next_as = 1, (status, "unused")
    fake.fail_next_body = "<html><body><h1>Bad Gateway</h1></body></html>"

    with pytest.raises(ProviderError) as raised:
        provider.send_sms(ALICE, "Disk full", "https://p.example/s")

    assert (raised.value.permanent, raised.value.code) == (permanent, None)
    assert f"sending an SMS failed: HTTP {status}" in str(raised.value)


def test_it_keeps_the_token_and_the_number_out_of_the_logs_even_at_debug(
    fake: FakeSinch, provider: SinchProvider, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        provider.send_sms(ALICE, "Disk full", "https://p.example/s")
        fake.fail_next = 1
        with pytest.raises(ProviderError):
            provider.send_sms(ALICE, "Disk full", "https://p.example/s")

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert fake.api_token not in logged
    assert ALICE not in logged and ALICE.lstrip("+") not in logged


@pytest.mark.parametrize(
    ("region", "origin"),
    [("us", "https://us.sms.api.sinch.com"), ("eu", "https://eu.sms.api.sinch.com")],
)
def test_it_sends_to_the_sms_api_of_its_region_without_a_base_url(region: str, origin: str) -> None:
    client = sinch_client("plan", "token", region, None, 5)

    assert client.configuration.get_sms_origin_for_auth() == origin
    assert client.configuration.connection_timeout == 5


@pytest.mark.parametrize("field", ["at", "code", "recipient"])
def test_it_refuses_a_delivery_report_without_a_field_sinch_always_sends(
    provider: SinchProvider, field: str
) -> None:
    request = report(batch_id="01B", status="Delivered")
    event = request.body.replace(f'"{field}":'.encode(), b'"other":')

    with pytest.raises(WebhookInvalid, match=f"missing field '{field}'"):
        provider.parse_status(dataclasses.replace(request, body=event))


def test_it_refuses_a_delivery_report_with_a_code_that_is_no_number(
    provider: SinchProvider,
) -> None:
    with pytest.raises(WebhookInvalid, match="invalid field 'code'"):
        provider.parse_status(report(batch_id="01B", status="Failed", code="402"))


def test_it_reads_an_inbound_sms_timestamped_to_the_nanosecond(provider: SinchProvider) -> None:
    """Sinch writes `received_at` as ISO-8601; the SDK's model reads any precision."""
    body = (
        '{"type": "mo_text", "id": "01XX", "from": "447700900123", "to": "447700900999",'
        ' "body": "ACK 4821", "received_at": "2026-12-07T10:00:00.123456789Z"}'
    )
    sms = provider.parse_inbound(
        WebRequest("https://pager.example/i", "POST", {}, {}, body.encode())
    )

    assert (sms.sender, sms.recipient, sms.body) == (ALICE, OUR_NUMBER, "ACK 4821")


def signed(body: bytes, **headers: str) -> WebRequest:
    return WebRequest(
        "https://pager.example/s", "POST", {**sign(SECRET, body), **headers}, {}, body
    )


def test_it_checks_a_signature_whatever_charset_the_content_type_names(
    provider: SinchProvider,
) -> None:
    """Given bytes, the SDK decodes them by the Content-Type's charset, and raises on one
    that does not exist: pager hands it the body as UTF-8, which is what Sinch signs."""
    body = b'{"type": "mo_text", "body": "ACK 4821 \xe2\x9c\x93"}'

    assert provider.verify_webhook(signed(body, **{"Content-Type": "text/json; charset=x-nope"}))
    assert not provider.verify_webhook(signed(b"\xff" + body))


def test_it_refuses_a_signature_that_is_not_ascii_rather_than_raising(
    provider: SinchProvider,
) -> None:
    """hmac.compare_digest, as the SDK calls it, raises TypeError on such strings."""
    request = signed(b"{}")
    headers = {**request.headers, "x-sinch-webhook-signature": "bm90IGEgc2lnbmF0dXJl\u00e9"}

    assert not provider.verify_webhook(dataclasses.replace(request, headers=headers))
