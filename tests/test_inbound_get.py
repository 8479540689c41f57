"""Inbound SMS delivered as GET, as a Vonage account can be set to (Dashboard > Settings >
SMS > HTTP method GET): verified and acted on like a POST, through the real SDK's signer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pager.app import build_pager
from pager.config import ProviderSettings
from pager.domain.reply_texts import help_text
from pager.web import create_app
from tests.conftest import make_settings
from tests.fakes.twilio import serve_in_background, stop_server
from tests.fakes.vonage import FakeVonage
from tests.helpers import ALICE

OUR_NUMBER = "+15005550006"


@pytest.fixture
def served(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, FakeVonage]]:
    with FakeVonage(auto_status=None) as fake:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_bundle)
        options = fake.provider_options(OUR_NUMBER)
        pager = build_pager(
            make_settings(sqlite_url, ProviderSettings("vonage", "vonage", options))
        )
        server = serve_in_background(create_app(pager))
        try:
            yield f"http://127.0.0.1:{server.port}", fake
        finally:
            stop_server(server)
            pager.db.dispose()


def test_it_takes_a_signed_inbound_sms_sent_as_get(served) -> None:
    url, fake = served
    answer = fake.send_inbound_sms(
        f"{url}/providers/vonage/inbound", ALICE, OUR_NUMBER, "HELP", method="GET"
    )
    assert answer.status_code == 200, answer.text
    [reply] = fake.wait_for_messages(1)  # answered through Vonage's SMS API
    assert reply["to"] == ALICE.lstrip("+") and reply["text"] == help_text()


def test_it_refuses_an_unsigned_get(served) -> None:
    url, _ = served
    import requests

    forged = requests.get(
        f"{url}/providers/vonage/inbound",
        params={
            "msisdn": ALICE.lstrip("+"),
            "to": OUR_NUMBER.lstrip("+"),
            "text": "RES ALL",
            "messageId": "x",
        },
        timeout=10,
    )
    assert forged.status_code == 403
