"""Per-number limits in the paging loop: held back, never dropped, then sent as one digest."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from freezegun import freeze_time

from pager.flows import incidents, replies
from pager.flows.context import Pager
from pager.providers.base import InboundSms
from tests.helpers import ALICE, payload, phone, receive, run_due

T0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def open_incident(pager: Pager, n: int, at: datetime) -> int:
    body = payload("alertmanager_firing.json")
    body["groupKey"] = f"g{n}"
    body["alerts"] = [dict(body["alerts"][0], fingerprint=f"fp{n:04d}")]
    with freeze_time(at):
        [incident_id] = receive(pager, "payments-am", body, at).opened
        run_due(pager, at)
    return incident_id


def sms_to_alice(pager: Pager) -> list[str]:
    return [m.body for m in phone(pager, ALICE) if m.channel == "sms" and m.direction == "out"]


def test_it_holds_the_sixth_sms_in_fifteen_minutes_and_sends_the_held_ones_as_one_digest(
    pager: Pager,
) -> None:
    ids = [open_incident(pager, n, T0 + timedelta(seconds=n)) for n in range(8)]
    assert len(sms_to_alice(pager)) == 5
    held = [entry.message for entry in incidents.view(pager, ids[5]).timeline]
    assert (
        "sms to Alice Example (+44******0101) held back: the per-number limit is reached; "
        "it goes out in a digest at 03:15:00 UTC; calling Alice Example now instead, as the "
        "incident is high urgency"
    ) in held
    with freeze_time(T0 + timedelta(minutes=14)):
        run_due(pager, T0 + timedelta(minutes=14))
    assert len(sms_to_alice(pager)) == 5
    with freeze_time(T0 + timedelta(minutes=15)):
        run_due(pager, T0 + timedelta(minutes=15))
    texts = sms_to_alice(pager)
    assert len(texts) == 6
    assert texts[-1].startswith(f"[pager] 3 new incidents: #{ids[5]} payments: HighErrorRate (ACK ")
    assert texts[-1].endswith("Reply ACK ALL to acknowledge all, or ACK <code> for one.")


def test_it_acknowledges_every_open_page_on_ack_all(pager: Pager) -> None:
    ids = [open_incident(pager, n, T0 + timedelta(seconds=n)) for n in range(7)]
    inbound = InboundSms(ALICE, "pager", "ack all", "SM" + secrets.token_hex(16))
    answer = replies.handle_sms(pager, "sandbox", inbound, T0 + timedelta(minutes=1))
    assert answer == "Acknowledged 7 incidents: all your open pages."
    assert {incidents.view(pager, i).status for i in ids} == {"acknowledged"}
    # Held pages of acknowledged incidents are dropped from the queue, not sent later.
    with freeze_time(T0 + timedelta(minutes=20)):
        run_due(pager, T0 + timedelta(minutes=20))
    assert len(sms_to_alice(pager)) == 5


def calls_to_alice(pager: Pager) -> list[datetime]:
    return [m.at for m in phone(pager, ALICE) if m.channel == "voice" and m.direction == "out"]


def test_it_calls_at_once_when_an_sms_limit_holds_a_high_urgency_page(pager: Pager) -> None:
    """The 6th SMS in 15 minutes waits for its digest, but its person is called at once."""
    for n in range(5):
        open_incident(pager, n, T0 + timedelta(seconds=n))
    assert calls_to_alice(pager) == []
    sixth_at = T0 + timedelta(seconds=30)
    sixth = open_incident(pager, 5, sixth_at)
    [called_at] = calls_to_alice(pager)
    assert called_at - sixth_at <= timedelta(seconds=60)
    assert len(sms_to_alice(pager)) == 5  # the SMS itself still waits for the digest
    timeline = [entry.message for entry in incidents.view(pager, sixth).timeline]
    assert any("calling Alice Example now instead" in line for line in timeline), timeline
    assert "call to Alice Example (+44******0101) sent via sandbox" in timeline


def test_it_keeps_the_call_limits_when_calling_instead(pager: Pager) -> None:
    for n in range(10):
        open_incident(pager, n, T0 + timedelta(seconds=n))
    assert len(calls_to_alice(pager)) == 3  # voice: at most 3 in 15 minutes


def test_it_calls_nobody_instead_for_a_low_urgency_page(pager: Pager) -> None:
    from dataclasses import replace

    integration = pager.settings.integrations["payments-am"]
    low = replace(integration, urgency={"critical": "low"})
    pager.settings = replace(
        pager.settings, integrations={**pager.settings.integrations, "payments-am": low}
    )
    midday = T0 + timedelta(hours=9)  # low urgency pages nobody at night
    for n in range(6):
        open_incident(pager, n, midday + timedelta(seconds=n))
    assert len(sms_to_alice(pager)) == 5
    assert calls_to_alice(pager) == []


def test_it_counts_a_conversation_apart_from_a_flood(pager: Pager) -> None:
    """Alice replied to us within the window: one more SMS goes to her at once."""
    for n in range(5):
        open_incident(pager, n, T0 + timedelta(seconds=n))
    inbound = InboundSms(ALICE, "pager", "HELP", "SM" + secrets.token_hex(16))
    replies.handle_sms(pager, "sandbox", inbound, T0 + timedelta(seconds=10))
    sixth = open_incident(pager, 5, T0 + timedelta(seconds=20))
    assert len(sms_to_alice(pager)) == 6
    assert calls_to_alice(pager) == []
    timeline = [entry.message for entry in incidents.view(pager, sixth).timeline]
    assert any("counts a conversation" in line for line in timeline), timeline
    open_incident(pager, 6, T0 + timedelta(seconds=30))  # the reply earned one, not more
    assert len(sms_to_alice(pager)) == 6
