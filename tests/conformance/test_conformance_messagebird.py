"""MessageBird's own signature test vectors (python-rest-api's webhook_signature_test_data.json,
shared by its SDKs; see README.md here) against our check, each verdict also the SDK's; then
status reports and an inbound SMS signed as MessageBird signs them, the signature accepted by
the SDK's RequestValidator before the app gets the request."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import select

from pager.app import build_pager
from pager.config import ProviderSettings
from pager.flows import incidents
from pager.flows.context import Pager
from pager.providers.base import WebRequest
from pager.providers.messagebird import MessageBirdProvider
from pager.store.models import Attempt
from pager.web import create_app
from tests.conftest import make_settings
from tests.fakes.messagebird import FakeMessageBird
from tests.helpers import ALICE, payload, receive, run_due
from tests.test_twilio_loop import T0

request_validator = pytest.importorskip(
    "messagebird.request_validator", reason="needs MessageBird's SDK (test extras)"
)
from messagebird.error import ValidationError  # noqa: E402

HERE = Path(__file__).parent / "messagebird"
VECTORS: list[dict[str, Any]] = json.loads((HERE / "webhook_signature_test_data.json").read_text())
PUBLIC_URL = "http://127.0.0.1:8080"


def sdk_accepts(signing_key: str, token: str, url: str, body: bytes) -> bool:
    try:
        request_validator.RequestValidator(signing_key).validate_signature(token, url, body)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("case", VECTORS, ids=[case["name"] for case in VECTORS])
def test_it_judges_each_of_messagebirds_signature_vectors_as_messagebird_does(case) -> None:
    body = (case.get("payload") or "").encode()
    provider = MessageBirdProvider("messagebird", "key", "pager", signing_key=case.get("secret"))
    headers = {"MessageBird-Signature-JWT": case["token"]}
    request = WebRequest(case["url"], case["method"], headers, {}, body, {})
    with freeze_time(datetime.fromisoformat(case["timestamp"])):
        ours = provider.verify_webhook(request)
        sdks = bool(case.get("secret")) and sdk_accepts(
            case["secret"], case["token"], case["url"], body
        )
    assert ours is case["valid"], case.get("reason")
    assert ours is sdks


@pytest.fixture
def messagebird(database_url: str) -> Iterator[tuple[Pager, FlaskClient, FakeMessageBird]]:
    with FakeMessageBird(auto_status=None) as fake:
        options = {
            "access_key": fake.access_key,
            "originator": "+447700900500",
            "base_url": fake.base_url,
            "signing_key": fake.signing_key,
        }
        settings = make_settings(
            database_url, ProviderSettings("messagebird", "messagebird", options)
        )
        pager = build_pager(settings)
        yield pager, create_app(pager).test_client(), fake
        pager.db.dispose()


def paged(pager: Pager, fake: FakeMessageBird) -> tuple[int, dict[str, Any]]:
    with freeze_time(T0):
        [incident_id] = receive(
            pager, "payments-am", payload("alertmanager_firing.json"), T0
        ).opened
        run_due(pager, T0)
    [message] = fake.wait_for_messages(1)
    return incident_id, message


def signed_get(client: FlaskClient, fake: FakeMessageBird, url: str, params: dict[str, str]):
    """A GET as MessageBird sends status reports: the query signed with the URL."""
    full = url + ("&" if "?" in url else "?") + urlencode(params)
    token = fake.signature(full)
    assert sdk_accepts(fake.signing_key, token, full, b"")
    parts = urlsplit(full)
    return client.get(f"{parts.path}?{parts.query}", headers={"MessageBird-Signature-JWT": token})


def report(message_id: str | None = None, **changes: str) -> dict[str, str]:
    """MessageBird's example status report (its support article, see README.md here), with
    `id` set to `message_id` when given and the other `changes` made."""
    params = dict(parse_qsl((HERE / "status-report.query").read_text(), strict_parsing=True))
    if message_id is not None:
        params["id"] = message_id
    return {**params, **changes}


def attempt_of(pager: Pager, message_id: str) -> Attempt:
    with pager.db.transaction() as session:
        query = select(Attempt).where(Attempt.provider_message_id == message_id)
        attempt = session.scalars(query).one()
        session.expunge(attempt)
        return attempt


def test_it_answers_messagebirds_example_report_for_a_message_it_never_sent_quietly(
    messagebird,
) -> None:
    pager, client, fake = messagebird
    _, message = paged(pager, fake)
    url = f"{PUBLIC_URL}/providers/messagebird/status?a=no-such-attempt"
    before = attempt_of(pager, message["id"]).status
    answer = signed_get(client, fake, url, report())  # unchanged
    assert answer.status_code == 204  # MessageBird must stop retrying
    assert attempt_of(pager, message["id"]).status == before != "delivered"


def test_it_records_messagebirds_delivered_report_for_our_message(messagebird) -> None:
    pager, client, fake = messagebird
    _, message = paged(pager, fake)
    answer = signed_get(client, fake, message["reportUrl"], report(message["id"]))
    assert answer.status_code == 204
    assert attempt_of(pager, message["id"]).status == "delivered"


def test_it_records_a_failed_status_report_with_its_code_and_reason(messagebird) -> None:
    pager, client, fake = messagebird
    _, message = paged(pager, fake)
    params = report(message["id"], status="delivery_failed", statusErrorCode="103")
    answer = signed_get(client, fake, message["reportUrl"], params)
    assert answer.status_code == 204
    attempt = attempt_of(pager, message["id"])
    assert (attempt.status, attempt.error_code) == ("failed", "103")


def test_it_refuses_a_status_report_whose_query_was_changed(messagebird) -> None:
    pager, client, fake = messagebird
    _, message = paged(pager, fake)
    full = message["reportUrl"] + "&" + urlencode(report(message["id"], status="delivery_failed"))
    token = fake.signature(full)
    parts = urlsplit(full.replace("delivery_failed", "delivered"))
    answer = client.get(f"{parts.path}?{parts.query}", headers={"MessageBird-Signature-JWT": token})
    assert answer.status_code == 403
    assert attempt_of(pager, message["id"]).status != "delivered"


def test_it_acks_from_an_inbound_sms_forwarded_by_messagebird(messagebird) -> None:
    pager, client, fake = messagebird
    incident_id, message = paged(pager, fake)
    code = re.search(r"ACK (\d+)", message["body"]).group(1)  # type: ignore[union-attr]
    form = {
        "id": "e8077d803532c0b5937c639b60216938",
        "originator": ALICE.lstrip("+"),
        "recipient": "447700900500",
        "body": f"ACK {code}",
        "createdDatetime": "2026-11-25T03:01:00+00:00",
    }
    raw = urlencode(form).encode()
    url = f"{PUBLIC_URL}/providers/messagebird/inbound"
    token = fake.signature(url, raw)
    assert sdk_accepts(fake.signing_key, token, url, raw)
    headers = {"MessageBird-Signature-JWT": token}
    answer = client.post(
        "/providers/messagebird/inbound",
        data=raw,
        headers=headers,
        content_type="application/x-www-form-urlencoded",
    )
    assert answer.status_code == 200, answer.data
    assert incidents.view(pager, incident_id).status == "acknowledged"
