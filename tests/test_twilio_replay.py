"""Replayed and re-cut Twilio webhooks change nothing (issue 12, item 5).

Twilio signs the URL followed by each name and value with no separator, sorted by name, so a
captured request can be re-cut (`MessageSid=SM…` + `NumMedia=0` signs exactly like
`MessageSid=SM…NumMedia0`) and still carry a valid signature. The fields of a real inbound are
those of Twilio's "Twilio's request to your incoming message Webhook URL"
(https://www.twilio.com/docs/messaging/guides/webhook-request); tests/fakes/twilio.py
`inbound_sms_form` builds them, field for field.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from pager.flows import incidents, replies
from pager.flows.context import Pager
from pager.providers.base import WebhookInvalid, WebRequest
from pager.providers.twilio import TwilioProvider, signed_content
from tests import test_hostile
from tests.fakes.twilio import inbound_sms_form
from tests.helpers import payload
from tests.test_hostile import page_someone
from tests.test_parsers_fuzz import SECRET, TWILIO_ACCOUNT, signature_headers

on_both = test_hostile.on_both  # the fixture: every provider, on SQLite and PostgreSQL
OUR_NUMBER = "+15005550006"
URL = "http://127.0.0.1:8080/providers/twilio/inbound"
SID = "SM" + "ab12" * 8


def another_alert() -> dict[str, Any]:
    """Alertmanager's example payload for an alert other than the first incident's."""
    body = payload("alertmanager_firing.json")
    for alert in body["alerts"]:
        alert["labels"]["alertname"] = "DiskFull"
        alert["fingerprint"] = "f" + alert.get("fingerprint", "")
    body["groupKey"] = body.get("groupKey", "") + "-disk"
    return body


def post_form(client: FlaskClient, form: dict[str, str], signature: str) -> TestResponse:
    return client.post(
        "/providers/twilio/inbound", data=form, headers={"X-Twilio-Signature": signature}
    )


def recut(form: dict[str, str], name: str, into: str) -> dict[str, str]:
    """`form` with field `name` glued onto the value of `into`, which Twilio's signature
    cannot tell apart from the original."""
    changed = {k: v for k, v in form.items() if k != name}
    changed[into] = form[into] + name + form[name]
    return changed


def test_it_signs_a_recut_form_like_the_original() -> None:
    form = inbound_sms_form(TWILIO_ACCOUNT, SID, "+447700900101", OUR_NUMBER, "ACK 4821")
    shifted = recut(form, "NumMedia", "MessageSid")

    assert signature_headers("twilio", URL, shifted, b"") == signature_headers(
        "twilio", URL, form, b""
    )
    assert signed_content(URL, shifted) == signed_content(URL, form)


def test_it_does_not_ack_again_when_a_recut_reply_is_replayed_after_an_unack(
    on_both: tuple[Pager, FlaskClient, str],
) -> None:
    pager, client, _ = on_both
    incident_id, number, code = page_someone(pager, client)
    form = inbound_sms_form(TWILIO_ACCOUNT, SID, number, OUR_NUMBER, f"ACK {code}")
    signature = signature_headers("twilio", URL, form, urlencode(form).encode())
    assert post_form(client, form, signature["X-Twilio-Signature"]).status_code == 200
    assert incidents.view(pager, incident_id).status == "acknowledged"
    incidents.unacknowledge(pager, incident_id, "alice", datetime.now(UTC))

    replayed = post_form(
        client, recut(form, "NumMedia", "MessageSid"), signature["X-Twilio-Signature"]
    )

    assert replayed.status_code == 400, replayed.data[:300]
    assert replayed.json["error"] == "invalid_webhook"
    assert incidents.view(pager, incident_id).status == "triggered"


def test_it_does_not_act_twice_on_the_same_signed_content_under_another_message_id(
    on_both: tuple[Pager, FlaskClient, str],
) -> None:
    """With the fields checked no re-cut of a Twilio form can change its MessageSid; the
    signed content is the guard that does not depend on that, for every provider that sets
    it: `ACK ALL` replayed after an unack acks neither the old incident nor a newer one."""
    pager, client, _ = on_both
    first_id, number, _ = page_someone(pager, client)
    form = inbound_sms_form(TWILIO_ACCOUNT, SID, number, OUR_NUMBER, "ACK ALL")
    sms = TwilioProvider("twilio", TWILIO_ACCOUNT, SECRET, OUR_NUMBER).parse_inbound(
        WebRequest(url=URL, method="POST", headers={}, form=form, body=b"", query={})
    )
    assert replies.handle_sms(pager, "twilio", sms, datetime.now(UTC)) is not None
    incidents.unacknowledge(pager, first_id, "alice", datetime.now(UTC))
    second_id, _, _ = page_someone(pager, client, another_alert())

    renamed = dataclasses.replace(sms, provider_message_id="SM" + "cd34" * 8)

    assert replies.handle_sms(pager, "twilio", renamed, datetime.now(UTC)) is None
    assert incidents.view(pager, first_id).status == "triggered"
    assert incidents.view(pager, second_id).status == "triggered"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"MessageSid": "SMabc"}, "malformed MessageSid"),
        ({"MessageSid": "SM" + "g" * 32}, "malformed MessageSid"),
        ({"AccountSid": "AC" + "1" * 32}, "AccountSid"),
        ({"To": "+15005550007"}, "To is not our number"),
        ({"NumMedia": "zero"}, "NumMedia"),
    ],
)
def test_it_refuses_an_inbound_sms_that_twilio_would_not_send(
    change: dict[str, str], problem: str
) -> None:
    provider = TwilioProvider("twilio", TWILIO_ACCOUNT, SECRET, OUR_NUMBER, "http://127.0.0.1:9")
    form = {**inbound_sms_form(TWILIO_ACCOUNT, SID, "+447700900101", OUR_NUMBER, "HI"), **change}
    request = WebRequest(url=URL, method="POST", headers={}, form=form, body=b"", query={})

    with pytest.raises(WebhookInvalid, match=problem):
        provider.parse_inbound(request)
