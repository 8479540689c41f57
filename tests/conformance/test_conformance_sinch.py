"""Sinch's own SMS webhook examples (sinch-sdk-java's test resources, see README.md here):
an inbound `mo_text` and a `recipient_delivery_report_sms`, signed as Sinch signs callbacks
(x-sinch-webhook-signature over body.nonce.timestamp), each signature checked by Sinch's Python
SDK before pager gets it (pager's own check goes through that SDK too), and replayed through
the app."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from freezegun import freeze_time
from sinch.domains.sms.sinch_events.v1 import sms_sinch_event as sinch_events
from sqlalchemy import select

from pager.app import build_pager
from pager.config import ProviderSettings
from pager.flows import incidents
from pager.flows.context import Pager
from pager.store.models import Attempt
from pager.web import create_app
from tests.conftest import make_settings
from tests.fakes.sinch import FakeSinch, sign
from tests.helpers import ALICE, payload, receive, run_due
from tests.test_twilio_loop import T0

HERE = Path(__file__).parent / "sinch"
SECRET = "sinch-callback-secret-" + "7c" * 8
OUR_NUMBER = "+13185551234"  # the `to` of Sinch's mo_text example


@pytest.fixture
def sinch(database_url: str) -> Iterator[tuple[Pager, FlaskClient, FakeSinch]]:
    with FakeSinch(webhook_secret=SECRET, auto_status=None) as fake:
        options = {
            "service_plan_id": fake.service_plan_id,
            "api_token": fake.api_token,
            "from": OUR_NUMBER,
            "base_url": fake.base_url,
            "webhook_secret": SECRET,
        }
        pager = build_pager(
            make_settings(database_url, ProviderSettings("sinch", "sinch", options))
        )
        yield pager, create_app(pager).test_client(), fake
        pager.db.dispose()


def example(name: str) -> bytes:
    return (HERE / name).read_bytes()


def changed(name: str, **fields: object) -> bytes:
    return json.dumps({**json.loads(example(name)), **fields}).encode()


def deliver(client: FlaskClient, path: str, raw: bytes):
    """`raw` posted as Sinch posts callbacks, its signature first accepted by Sinch's SDK."""
    headers = sign(SECRET, raw)
    assert sinch_events.SmsSinchEvent(SECRET).validate_authentication_header(headers, raw)
    return client.post(path, data=raw, headers=headers, content_type="application/json")


def test_sinchs_sdk_reads_the_stored_examples_as_the_events_they_are() -> None:
    parse = sinch_events.SmsSinchEvent(SECRET).parse_event
    assert parse(example("IncomingSMSText.json")).type == "mo_text"
    report = parse(example("DeliveryReportRecipientSMSDto.json"))
    assert (report.type, report.status) == ("recipient_delivery_report_sms", "Dispatched")


def test_it_takes_sinchs_mo_text_example_from_a_stranger_quietly(sinch) -> None:
    pager, client, _ = sinch
    answer = deliver(client, "/providers/sinch/inbound", example("IncomingSMSText.json"))
    assert answer.status_code == 200, answer.data
    assert incidents.listing(pager, None) == []


def paged(pager: Pager, fake: FakeSinch) -> tuple[int, dict]:
    with freeze_time(T0):
        [incident_id] = receive(
            pager, "payments-am", payload("alertmanager_firing.json"), T0
        ).opened
        run_due(pager, T0)
    [batch] = fake.wait_for_messages(1)
    return incident_id, batch


def test_it_acks_from_sinchs_mo_text_sent_by_the_person_paged(sinch) -> None:
    pager, client, fake = sinch
    incident_id, batch = paged(pager, fake)
    code = re.search(r"ACK (\d+)", batch["body"]).group(1)  # type: ignore[union-attr]
    # Two fields changed: `from` (Alice, whom we paged, as Sinch writes MSISDNs) and `body`.
    raw = changed("IncomingSMSText.json", **{"from": ALICE.lstrip("+"), "body": f"ACK {code}"})
    answer = deliver(client, "/providers/sinch/inbound", raw)
    assert answer.status_code == 200, answer.data
    assert incidents.view(pager, incident_id).status == "acknowledged"


def status_path(batch: dict) -> str:
    url = batch["callback_url"]
    return url[url.index("/providers/") :]


def attempt_of(pager: Pager, batch_id: str) -> Attempt:
    with pager.db.transaction() as session:
        query = select(Attempt).where(Attempt.provider_message_id == batch_id)
        attempt = session.scalars(query).one()
        session.expunge(attempt)
        return attempt


def test_it_answers_sinchs_report_for_a_batch_it_never_sent_quietly(sinch) -> None:
    pager, client, fake = sinch
    _, batch = paged(pager, fake)
    raw = example("DeliveryReportRecipientSMSDto.json")  # unchanged: Sinch's own batch id
    answer = deliver(client, "/providers/sinch/status?a=no-such-attempt", raw)
    assert answer.status_code == 204  # Sinch must stop retrying
    assert attempt_of(pager, batch["id"]).status == "queued"


def test_it_records_sinchs_dispatched_report_for_our_batch(sinch) -> None:
    pager, client, fake = sinch
    _, batch = paged(pager, fake)
    raw = changed("DeliveryReportRecipientSMSDto.json", batch_id=batch["id"])  # one field
    answer = deliver(client, status_path(batch), raw)
    assert answer.status_code == 204
    assert attempt_of(pager, batch["id"]).status == "sent"


def test_it_records_a_failed_report_with_its_code(sinch) -> None:
    pager, client, fake = sinch
    _, batch = paged(pager, fake)
    # batch_id, and the status and code of a failure (Sinch's 402 is in its 400-418 range).
    raw = changed(
        "DeliveryReportRecipientSMSDto.json", batch_id=batch["id"], status="Failed", code=402
    )
    answer = deliver(client, status_path(batch), raw)
    assert answer.status_code == 204
    attempt = attempt_of(pager, batch["id"])
    assert (attempt.status, attempt.error_code) == ("failed", "402")


def test_it_refuses_sinchs_example_signed_with_another_secret(sinch) -> None:
    _, client, _ = sinch
    raw = example("IncomingSMSText.json")
    headers = sign("not-our-secret", raw)
    answer = client.post(
        "/providers/sinch/inbound", data=raw, headers=headers, content_type="application/json"
    )
    assert answer.status_code == 403
