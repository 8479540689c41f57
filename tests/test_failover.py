"""Failover between two real providers through their SDKs and fakes: Twilio first, Sinch next.

The page must reach the person exactly once through the secondary when the primary errors,
and again when the primary accepts it but then reports it undelivered."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from freezegun import freeze_time
from twilio.request_validator import RequestValidator

from pager.app import build_pager
from pager.config import ProviderSettings
from pager.flows import dispatch, escalate, incidents
from pager.flows.context import Pager
from pager.store import outbox
from pager.web import create_app
from tests.conftest import make_settings, twilio_settings
from tests.fakes.sinch import FakeSinch
from tests.fakes.twilio import FakeTwilio
from tests.helpers import ALICE, payload, receive, run_due

T0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


@pytest.fixture
def two_providers(
    database_url: str, fake_twilio: FakeTwilio
) -> Iterator[tuple[Pager, FlaskClient, FakeTwilio, FakeSinch]]:
    with FakeSinch(auto_status=None) as sinch:
        secondary = ProviderSettings(
            "sinch",
            "sinch",
            {
                "service_plan_id": sinch.service_plan_id,
                "api_token": sinch.api_token,
                "from": "+447700900500",
                "base_url": sinch.base_url,
            },
        )
        pager = build_pager(make_settings(database_url, twilio_settings(fake_twilio), secondary))
        yield pager, create_app(pager).test_client(), fake_twilio, sinch
        pager.db.dispose()


def page(pager: Pager) -> int:
    with freeze_time(T0):
        [incident_id] = receive(
            pager, "payments-am", payload("alertmanager_firing.json"), T0
        ).opened
        run_due(pager, T0)
    return incident_id


def test_it_sends_through_the_secondary_once_when_the_primary_errors(two_providers) -> None:
    pager, _, twilio, sinch = two_providers
    twilio.fail_next = 1
    incident_id = page(pager)
    assert twilio.messages == []
    [batch] = sinch.wait_for_messages(1)
    assert batch["to"] == [ALICE.lstrip("+")] or batch["to"] == [ALICE]
    messages = [e.message for e in incidents.view(pager, incident_id).timeline]
    assert any(
        m.startswith("sms to Alice Example via twilio failed (20500") and m.endswith("trying sinch")
        for m in messages
    )
    assert "sms to Alice Example (+44******0101) sent via sinch" in messages


def test_it_sends_through_the_secondary_once_when_the_primary_reports_undelivered(
    two_providers,
) -> None:
    pager, client, twilio, sinch = two_providers
    incident_id = page(pager)
    [sms] = twilio.wait_for_messages(1)
    assert sinch.messages == []
    params = {
        "MessageSid": sms["sid"],
        "MessageStatus": "undelivered",
        "ErrorCode": "30003",
        "AccountSid": twilio.account_sid,
        "From": sms["From"],
        "To": ALICE,
    }
    url = sms["StatusCallback"]
    signature = RequestValidator(twilio.auth_token).compute_signature(url, params)
    path = url.split("8080", 1)[1]
    with freeze_time(T0):
        assert (
            client.post(path, data=params, headers={"X-Twilio-Signature": signature}).status_code
            == 204
        )
        run_due(pager, T0)
    assert len(sinch.wait_for_messages(1)) == 1
    # A repeated callback must not fail over a second time.
    with freeze_time(T0):
        client.post(path, data=params, headers={"X-Twilio-Signature": signature})
        run_due(pager, T0)
    assert len(sinch.messages) == 1 and len(twilio.messages) == 1
    messages = [e.message for e in incidents.view(pager, incident_id).timeline]
    assert any("via twilio failed (30003" in m and m.endswith("trying sinch") for m in messages)


def test_it_fails_over_along_the_route_decided_when_the_page_was_first_claimed(
    two_providers,
) -> None:
    """The route is decided once and kept on the page: if the order changes while a page is
    on its way (a carrier lookup, a canary's verdict), its failover still walks the list its
    first try took, so it moves on to the next provider and never back to the one that failed."""
    pager, _, twilio, sinch = two_providers
    twilio.fail_next = 1
    with freeze_time(T0):
        receive(pager, "payments-am", payload("alertmanager_firing.json"), T0)
        escalate.escalate_due(pager, T0)
        [claimed] = dispatch.claim_due(pager, T0, 5)
        with pager.db.read() as session:
            assert outbox.get(session, claimed).route == ["twilio", "sinch"]
        pager.providers.reverse()  # the order as a later decision would have it
        dispatch.send(pager, claimed)  # twilio fails: on to the next of the kept route
        [again] = dispatch.claim_due(pager, T0, 5)
        dispatch.send(pager, again)
    assert twilio.messages == []
    sinch.wait_for_messages(1)
