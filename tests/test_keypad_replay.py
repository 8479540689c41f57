"""A keypad press acts once per call and digit, and only while its call is current (issue 12,
item 5): a signed `Digits=1` replayed after an un-ack neither acks again nor cancels the new
call, and a press on a call from before the un-ack changes nothing.

Through the real Twilio SDK against tests/fakes/twilio.py, each callback signed by Twilio's own
`RequestValidator`. The fields are those of a Gather action request ("Twilio's request to your
application", https://www.twilio.com/docs/voice/twiml/gather#action), as in
tests/test_twilio_loop.py.
"""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta

from flask.testing import FlaskClient
from freezegun import freeze_time
from werkzeug.test import TestResponse

from pager.flows import incidents
from pager.flows.context import Pager
from pager.store import incidents as store_incidents
from tests.fakes.twilio import FakeTwilio
from tests.helpers import ALICE, run_due
from tests.test_twilio_loop import T0, loop, page_until_called, signed_post

__all__ = ["loop"]  # the fixture, on SQLite and PostgreSQL
API = {"Authorization": "Bearer api-token"}


def press(client: FlaskClient, fake: FakeTwilio, call: dict, digit: str) -> TestResponse:
    """The Gather action callback of `call` with `digit` pressed, signed as Twilio signs it."""
    keypad_url = html.unescape(re.search(r'action="([^"]+)"', call["Twiml"]).group(1))  # type: ignore[union-attr]
    params = {
        "CallSid": call["sid"],
        "Digits": digit,
        "FinishedOnKey": "",
        "From": call["From"],
        "To": call["To"],
        "AccountSid": fake.account_sid,
        "CallStatus": "in-progress",
        "Direction": "outbound-api",
        "ApiVersion": "2010-04-01",
    }
    return signed_post(client, fake, keypad_url, params)


def next_step_due(pager: Pager, incident_id: int) -> datetime | None:
    """When the incident's next step (here: the call) is due; None once it is cancelled."""
    with pager.db.read() as session:
        incident = store_incidents.get(session, incident_id)
        assert incident is not None
        return incident.escalation_due_at


def test_it_acts_on_a_keypad_press_once_and_only_while_its_call_is_current(loop) -> None:
    pager, client, fake = loop
    incident_id, first_call = page_until_called(pager, fake)
    with freeze_time(T0 + timedelta(minutes=6)):
        acked = press(client, fake, first_call, "1")
        assert acked.status_code == 200
        assert f"Incident {incident_id} acknowledged" in acked.text
        unacked = client.post(f"/api/v1/incidents/{incident_id}/unack", headers=API, json={})
        assert unacked.status_code == 200, unacked.text
        assert incidents.view(pager, incident_id).status == "triggered"
    later = T0 + timedelta(minutes=7)
    with freeze_time(later):
        run_due(pager, later)  # paging again from step 1: the SMS now, the call to come
        call_due = next_step_due(pager, incident_id)
        assert call_due == later + timedelta(minutes=5), "the new call is to come"

        replayed = press(client, fake, first_call, "1")
        assert replayed.status_code == 200
        assert "acknowledged" not in replayed.text
        assert incidents.view(pager, incident_id).status == "triggered"
        assert next_step_due(pager, incident_id) == call_due, "the new call is not cancelled"

        stale = press(client, fake, first_call, "2")  # never pressed, but its call is over
        assert "resolved" not in stale.text
        assert incidents.view(pager, incident_id).status == "triggered"
    then = T0 + timedelta(minutes=12)
    with freeze_time(then):
        run_due(pager, then)
    second_call = fake.wait_for_calls(2)[-1]
    assert (second_call["To"], second_call["sid"] != first_call["sid"]) == (ALICE, True)
    with freeze_time(then + timedelta(minutes=1)):
        current = press(client, fake, second_call, "1")
        assert f"Incident {incident_id} acknowledged" in current.text
        again = press(client, fake, second_call, "1")
        assert "acknowledged." not in again.text
    view = incidents.view(pager, incident_id)
    assert view.status == "acknowledged"
    pressed = [e.message for e in view.timeline if e.message.startswith("acknowledged by")]
    assert len(pressed) == 2  # the first call's press and the second call's, nothing more
