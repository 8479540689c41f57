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
    held = incidents.view(pager, ids[5]).timeline
    assert held[-1].message == (
        "sms to Alice Example (+44******0101) held back: the per-number limit is reached; "
        "it goes out in a digest at 03:15:00 UTC"
    )
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
