"""A send that times out may have gone out: the provider is asked before it is asked again.

Through the real SDK/HTTP clients against the fakes: Twilio (found by recipient and text) and
Sinch (found by our `client_reference`). The fake takes the SMS and then answers too late
(`stall_next`), or answers too late and never takes it (`lose_next`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from freezegun import freeze_time
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from pager.app import build_pager
from pager.config import ProviderSettings
from pager.flows import dispatch, escalate, incidents, send_answers
from pager.flows.context import Pager
from pager.store.models import Attempt, Notification
from pager.web import create_app
from tests.conftest import make_settings
from tests.fakes.sinch import FakeSinch
from tests.fakes.twilio import FakeTwilio
from tests.helpers import ALICE, payload, receive, run_due

T0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
LOOKUP = T0 + send_answers.LOOKUP_AFTER
TIMEOUT = "0.5"  # seconds the client waits for the fake's answer


@dataclass
class Setup:
    pager: Pager
    fake: FakeTwilio | FakeSinch


def twilio(fake: FakeTwilio) -> ProviderSettings:
    options = {"account_sid": fake.account_sid, "auth_token": fake.auth_token}
    options |= {"from": "+15017122661", "api_base_url": fake.base_url, "timeout": TIMEOUT}
    return ProviderSettings("twilio", "twilio", options)


def sinch(fake: FakeSinch) -> ProviderSettings:
    options = {"service_plan_id": fake.service_plan_id, "api_token": fake.api_token}
    options |= {"from": "+447700900500", "base_url": fake.base_url, "timeout": TIMEOUT}
    return ProviderSettings("sinch", "sinch", options)


@pytest.fixture(params=["twilio", "sinch"])
def setup(request: pytest.FixtureRequest, database_url: str) -> Iterator[Setup]:
    fake: Any = FakeTwilio(auto_status=None) if request.param == "twilio" else FakeSinch()
    with fake:
        fake.auto_status = None
        fake.stall_seconds = 3
        provider = twilio(fake) if request.param == "twilio" else sinch(fake)
        pager = build_pager(make_settings(database_url, provider))
        yield Setup(pager, fake)
        pager.db.dispose()


def page(pager: Pager) -> int:
    with freeze_time(T0):
        opened = receive(pager, "payments-am", payload("alertmanager_firing.json"), T0).opened
        [incident_id] = opened
        run_due(pager, T0)
    return incident_id


def run_at(pager: Pager, at: datetime) -> None:
    with freeze_time(at):
        run_due(pager, at)


def attempts(pager: Pager) -> list[tuple[str, str | None]]:
    with pager.db.transaction() as session:
        rows = session.scalars(select(Attempt).order_by(Attempt.id))
        return [(a.status, a.error_code) for a in rows]


def timeline(pager: Pager, incident_id: int) -> list[str]:
    return [e.message for e in incidents.view(pager, incident_id).timeline]


def test_it_records_an_sms_the_provider_took_before_timing_out_without_sending_it_again(
    setup: Setup,
) -> None:
    pager, fake = setup.pager, setup.fake
    fake.stall_next = 1

    incident_id = page(pager)
    assert len(fake.messages) == 1 and fake.searches == []
    assert attempts(pager) == [("unknown", None)]
    run_at(pager, LOOKUP - timedelta(seconds=1))  # the provider gets a moment to file it
    assert fake.searches == []

    run_at(pager, LOOKUP)

    [sms] = fake.messages
    assert len(fake.searches) == 1
    with pager.db.transaction() as session:
        [attempt] = session.scalars(select(Attempt)).all()
        [n] = session.scalars(select(Notification)).all()
        assert (attempt.status, n.status, n.sent_at) == ("queued", "sent", LOOKUP)
        assert attempt.provider_message_id == (sms["sid"] if "sid" in sms else sms["id"])
        assert attempt.reference is not None and attempt.reference.startswith("pager-")
    provider = "twilio" if isinstance(fake, FakeTwilio) else "sinch"
    messages = timeline(pager, incident_id)
    assert any(
        m.endswith(
            "no answer in time; asking " + provider + (" whether it went out before sending again")
        )
        for m in messages
    )
    assert (
        f"sms to Alice Example (+44******0101) sent via {provider} (found there after a timeout)"
        in messages
    )


def test_it_sends_again_once_when_the_provider_has_no_record_of_the_sms(setup: Setup) -> None:
    pager, fake = setup.pager, setup.fake
    fake.lose_next = 1

    page(pager)
    assert fake.messages == [] and attempts(pager) == [("unknown", None)]
    run_at(pager, LOOKUP)

    assert len(fake.searches) == 1
    [sms] = fake.messages
    assert (sms["To"] if "To" in sms else sms["to"][0]) == ALICE
    assert attempts(pager) == [("failed", send_answers.NOT_FOUND), ("queued", None)]


def test_it_hands_over_to_the_next_turn_when_the_second_try_is_lost_too(setup: Setup) -> None:
    pager, fake = setup.pager, setup.fake
    fake.lose_next = 2

    page(pager)
    run_at(pager, LOOKUP)  # not found: sent again, lost again
    run_at(pager, LOOKUP + send_answers.LOOKUP_AFTER)  # not found again: no third try right away

    assert fake.messages == [] and len(fake.searches) == 2
    assert attempts(pager) == [("failed", send_answers.NOT_FOUND)] * 2
    with pager.db.transaction() as session:
        [n] = session.scalars(select(Notification)).all()
        # The only provider failed: the page waits for the next round, never dropped.
        assert (n.status, n.round, n.provider_index) == ("pending", 1, 0)


def test_it_looks_up_a_send_whose_runner_died_before_recording_the_answer(setup: Setup) -> None:
    pager, fake = setup.pager, setup.fake
    with freeze_time(T0):
        receive(pager, "payments-am", payload("alertmanager_firing.json"), T0)
        escalate.escalate_due(pager, T0)
        [notification_id] = dispatch.claim_due(pager, T0, 10, owner="dead-runner")
        # The dead runner got as far as the provider call: the SMS went out, nothing recorded.
        [job] = dispatch.start(pager, [notification_id], T0)
        job.provider.send_sms(job.phone, job.body, "http://127.0.0.1:8080/s", job.reference)

    run_at(pager, T0 + dispatch.LEASE + timedelta(seconds=1))

    assert len(fake.messages) == 1 and len(fake.searches) == 1
    assert attempts(pager) == [("queued", None)]


def test_it_sends_a_send_whose_runner_died_before_the_provider_call(setup: Setup) -> None:
    pager, fake = setup.pager, setup.fake
    with freeze_time(T0):
        receive(pager, "payments-am", payload("alertmanager_firing.json"), T0)
        escalate.escalate_due(pager, T0)
        [notification_id] = dispatch.claim_due(pager, T0, 10, owner="dead-runner")
        assert dispatch.start(pager, [notification_id], T0)

    run_at(pager, T0 + dispatch.LEASE + timedelta(seconds=1))

    assert len(fake.messages) == 1 and len(fake.searches) == 1
    assert attempts(pager) == [("failed", send_answers.NOT_FOUND), ("queued", None)]


def test_it_takes_a_status_callback_after_a_timeout_as_the_answer(
    database_url: str, fake_twilio: FakeTwilio
) -> None:
    pager = build_pager(make_settings(database_url, twilio(fake_twilio)))
    fake_twilio.stall_next, fake_twilio.stall_seconds = 1, 3
    incident_id = page(pager)
    [sms] = fake_twilio.messages
    params = {
        "MessageSid": sms["sid"],
        "MessageStatus": "delivered",
        "AccountSid": fake_twilio.account_sid,
        "From": sms["From"],
        "To": ALICE,
    }
    url = sms["StatusCallback"]
    signature = RequestValidator(fake_twilio.auth_token).compute_signature(url, params)
    client = create_app(pager).test_client()
    with freeze_time(T0 + timedelta(seconds=2)):
        answer = client.post(
            url.split("8080", 1)[1], data=params, headers={"X-Twilio-Signature": signature}
        )
    assert answer.status_code == 204

    run_at(pager, LOOKUP)

    assert fake_twilio.searches == [] and len(fake_twilio.messages) == 1
    with pager.db.transaction() as session:
        [n] = session.scalars(select(Notification)).all()
        assert (n.status, n.sent_at) == ("delivered", T0)
    assert any(
        m.endswith("sent via twilio (its status came after the send timed out)")
        for m in timeline(pager, incident_id)
    )
    pager.db.dispose()
