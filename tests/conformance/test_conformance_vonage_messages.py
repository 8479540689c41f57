"""Vonage's Messages API webhooks (an account whose SMS settings use the Messages API sends
inbound SMS and statuses this way), as its reference documents them, signed as Vonage signs
them (an HS256 JWT over the body's hash, which Vonage's own `vonage_jwt.verify_signature`
accepts), on the same URLs as the SMS API's: an ACK acknowledges, a status marks the attempt."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from sqlalchemy import select
from vonage_jwt import verify_signature

from pager.app import build_pager
from pager.config import ProviderSettings
from pager.flows import incidents
from pager.flows.context import Pager, utcnow
from pager.store.models import Attempt
from pager.web import create_app
from tests.conftest import make_settings
from tests.fakes.twilio import serve_in_background, stop_server
from tests.fakes.vonage import FakeVonage
from tests.helpers import ALICE, payload, receive, run_due, write_team_rotations

HERE = Path(__file__).parent / "vonage"
OUR_NUMBER = "+447700900000"


@pytest.fixture
def served(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Pager, str, FakeVonage]]:
    with FakeVonage(auto_status=None) as fake:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_bundle)
        options = fake.provider_options(OUR_NUMBER)
        settings = make_settings(
            sqlite_url,
            ProviderSettings("vonage", "vonage", options),
            rotations=write_team_rotations(tmp_path / "rotations"),
        )
        pager = build_pager(settings)
        server = serve_in_background(create_app(pager))
        try:
            yield pager, f"http://127.0.0.1:{server.port}", fake
        finally:
            stop_server(server)
            pager.db.dispose()


def documented(name: str, **changed: Any) -> dict[str, Any]:
    return {**json.loads((HERE / name).read_text()), **changed}


def page_alice(pager: Pager, fake: FakeVonage) -> tuple[int, str]:
    [incident_id] = receive(
        pager, "payments-am", payload("alertmanager_firing.json"), utcnow()
    ).opened
    run_due(pager, utcnow())
    [sms] = fake.wait_for_messages(1)
    assert sms["to"] == ALICE.lstrip("+")
    return incident_id, incidents_code(pager, incident_id)


def incidents_code(pager: Pager, incident_id: int) -> str:
    with pager.db.read() as session:
        from pager.store import incidents as store

        found = store.get(session, incident_id)
        assert found is not None
        return found.ack_code


def test_it_acknowledges_from_a_messages_api_inbound_sms(served) -> None:
    pager, url, fake = served
    incident_id, code = page_alice(pager, fake)
    body = documented(
        "messages-inbound-sms.json",
        **{"from": ALICE.lstrip("+"), "to": OUR_NUMBER.lstrip("+"), "text": f"ACK {code}"},
    )
    answer = fake.post_signed_voice_webhook(f"{url}/providers/vonage/inbound", body)
    assert answer.status_code == 200, answer.text
    assert incidents.view(pager, incident_id).status == "acknowledged"
    # The same message again (Vonage retries until it hears 200): nothing more happens.
    again = fake.post_signed_voice_webhook(f"{url}/providers/vonage/inbound", body)
    assert again.status_code == 200


def test_its_token_is_one_vonage_itself_would_accept(served) -> None:
    _, _, fake = served
    body = json.dumps(documented("messages-inbound-sms.json"), separators=(",", ":")).encode()
    import hashlib
    import time

    token = jwt.encode(
        {"iat": int(time.time()), "payload_hash": hashlib.sha256(body).hexdigest()},
        fake.signature_secret,
        algorithm="HS256",
    )
    assert verify_signature(token, fake.signature_secret)
    assert not verify_signature(token, "another-secret-of-the-same-length-0123456789abcdefgh")


def test_it_refuses_an_unsigned_or_stale_messages_api_webhook(served) -> None:
    pager, url, fake = served
    incident_id, code = page_alice(pager, fake)
    body = documented(
        "messages-inbound-sms.json",
        **{"from": ALICE.lstrip("+"), "to": OUR_NUMBER.lstrip("+"), "text": f"ACK {code}"},
    )
    unsigned = requests.post(f"{url}/providers/vonage/inbound", json=body, timeout=10)
    assert unsigned.status_code == 403
    import time

    stale = fake.post_signed_voice_webhook(
        f"{url}/providers/vonage/inbound", body, at=time.time() - 3600
    )
    assert stale.status_code == 403
    assert incidents.view(pager, incident_id).status == "triggered"
    whatsapp = fake.post_signed_voice_webhook(
        f"{url}/providers/vonage/inbound", {**body, "channel": "whatsapp"}
    )
    assert whatsapp.status_code == 400 and "whatsapp" in whatsapp.json()["message"]
    missing = {k: v for k, v in body.items() if k != "from"}
    answer = fake.post_signed_voice_webhook(f"{url}/providers/vonage/inbound", missing)
    assert (answer.status_code, answer.json()["message"]) == (
        400,
        "vonage webhook: missing field 'from'",
    )


def attempt_of(pager: Pager) -> tuple[str, str, str | None]:
    """The page's one attempt: its callback token, status and error code."""
    with pager.db.read() as session:
        [attempt] = session.scalars(select(Attempt)).all()
        return attempt.token, attempt.status, attempt.error_code


@pytest.mark.parametrize(
    ("status", "error", "recorded"),
    [
        ("delivered", None, "delivered"),
        (
            "rejected",
            {
                "type": "https://developer.vonage.com/api-errors/messages#1000",
                "title": 1000,
                "detail": "Throttled - You have exceeded the submission capacity allowed on "
                "this account.",
            },
            "failed",
        ),
    ],
)
def test_it_records_a_messages_api_status(served, status: str, error: Any, recorded: str) -> None:
    pager, url, fake = served
    page_alice(pager, fake)
    token, _, _ = attempt_of(pager)
    body = documented("messages-status-sms.json", status=status, to=ALICE.lstrip("+"))
    if error is not None:
        body["error"] = error
    answer = fake.post_signed_voice_webhook(f"{url}/providers/vonage/status?a={token}", body)
    assert answer.status_code in (200, 204), answer.text
    _, status_now, code = attempt_of(pager)
    assert status_now == recorded
    assert code == ("1000" if error is not None else None)
