"""Hostile input through Flask's test client: oversized, deeply nested and malformed bodies,
storms, injection, forged and replayed webhooks, SQL-looking text and path traversal.

A strict xfail here would be a finding: what is wrong and where the fix belongs in its reason.
When one is fixed, remove the mark (and the operation from KNOWN_5XX in test_openapi_fuzz.py).
"""

from __future__ import annotations

import hashlib
import json
import signal
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from types import FrameType
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, insert, select
from werkzeug.test import TestResponse

from pager.app import build_pager
from pager.config import IntegrationSettings
from pager.domain.jsonbody import MAX_DEPTH
from pager.flows import incidents
from pager.flows.context import Pager, Rotations
from pager.sources.grafana import TIMESTAMP_HEADER
from pager.sources.signatures import hmac_sha256_hex
from pager.store.models import Alert, Incident
from pager.web import MAX_BODY, create_app
from tests.conftest import make_settings
from tests.fakes.twilio import inbound_sms_form
from tests.helpers import payload, phone, run_due
from tests.test_dashboard import sign_in
from tests.test_parsers_fuzz import (
    EVERY_PROVIDER,
    EVERY_SOURCE,
    SECRET,
    TOKEN,
    TWILIO_ACCOUNT,
    signature_headers,
)

TIME_LIMIT = 10.0  # seconds per request: anything slower is a hang
STORM_LIMIT = 5.0  # seconds to store a 1 MiB delivery of alerts
BEARER = {"Authorization": f"Bearer {TOKEN}"}
STRANGER = "+447700900999"  # never paged
DEEP = b"[" * 100_000
SQL = [
    "'; DROP TABLE incidents; --",
    "Robert'); DELETE FROM alerts WHERE ('1'='1",
    '" OR 1=1 --',
    "1; UPDATE incidents SET status='resolved'",
    "%' UNION SELECT ack_code FROM incidents --",
]


class Hang(BaseException):
    """A request took longer than TIME_LIMIT. Not an Exception: the app's catch-all handler
    must not turn it into a 500."""


def within_time_limit(call: Callable[[], Any], seconds: float = TIME_LIMIT) -> Any:
    """`call()`, interrupted by Hang if it is still running after `seconds`."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return call()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def pager_on(url: str) -> Pager:
    """Every provider type and every source configured; API and integration tokens are TOKEN."""
    settings = make_settings(url, *EVERY_PROVIDER, api_tokens=(TOKEN,), integrations=EVERY_SOURCE)
    return build_pager(settings)


@pytest.fixture
def everything(sqlite_url: str) -> Iterator[tuple[Pager, FlaskClient]]:
    pager = pager_on(sqlite_url)
    yield pager, create_app(pager).test_client()
    pager.db.dispose()


@pytest.fixture
def on_both(database_url: str) -> Iterator[tuple[Pager, FlaskClient, str]]:
    """As `everything`, on SQLite and on PostgreSQL (when PAGER_TEST_POSTGRES_URL is set)."""
    pager = pager_on(database_url)
    yield pager, create_app(pager).test_client(), database_url.split(":")[0]
    pager.db.dispose()


def post_json(
    client: FlaskClient, path: str, body: bytes | object, *, bearer: bool = True, **headers: str
) -> TestResponse:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {**BEARER, **headers} if bearer else headers
    return client.post(path, data=data, content_type="application/json", headers=headers)


def open_incident(client: FlaskClient, body: object | None = None) -> int:
    response = post_json(
        client, "/integrations/alertmanager", body or payload("alertmanager_firing.json")
    )
    assert response.status_code == 200, response.json
    return int(response.json["opened"][0])


def page_someone(
    pager: Pager, client: FlaskClient, body: object | None = None
) -> tuple[int, str, str]:
    """Open an incident and page whoever is on call: (incident id, their number, ack code)."""
    incident_id = open_incident(client, body)
    run_due(pager, datetime.now(UTC))
    with pager.db.transaction() as session:
        incident = session.get(Incident, incident_id)
        assert incident is not None
        code = incident.ack_code
    number = next(n for n in ("+447700900101", "+447700900102", "+447700900103") if phone(pager, n))
    return incident_id, number, code


def twilio_sms(
    client: FlaskClient, sender: str, text: str, sid: str, **headers: str
) -> TestResponse:
    """An inbound SMS as Twilio posts it, signed for our public URL; `sid` names the message
    (made into a real Message SID)."""
    real_sid = "SM" + hashlib.md5(sid.encode()).hexdigest()
    form = inbound_sms_form(TWILIO_ACCOUNT, real_sid, sender, "+15005550006", text)
    url = "http://127.0.0.1:8080/providers/twilio/inbound"
    signed = signature_headers("twilio", url, form, urlencode(form).encode())
    return client.post("/providers/twilio/inbound", data=form, headers={**signed, **headers})


def timeline(pager: Pager, incident_id: int) -> list[tuple[str, str]]:
    return [(e.kind, e.message) for e in incidents.view(pager, incident_id).timeline]


def assert_error_json(response: TestResponse, status: int) -> None:
    assert response.status_code == status, response.data[:300]
    assert response.is_json and set(response.json) >= {"error", "message"}, response.data[:300]


# --- size -------------------------------------------------------------------------------------


def test_it_refuses_a_body_just_over_one_mebibyte_with_413_json(everything) -> None:
    _, client = everything
    body = b"{" + b" " * (MAX_BODY - 1) + b"}"
    for path in (
        "/integrations/alertmanager",
        "/v2/enqueue",
        "/providers/sandbox/inbound",
        "/api/v1/incidents/1/ack",
        "/api/v1/silences",
    ):
        response = post_json(client, path, body)
        assert_error_json(response, 413)
        assert response.json["error"] == "request_entity_too_large"


def test_it_takes_a_body_of_exactly_one_mebibyte(everything) -> None:
    _, client = everything
    body = json.dumps(payload("alertmanager_firing.json")).encode()
    response = post_json(client, "/integrations/alertmanager", body + b" " * (MAX_BODY - len(body)))
    assert response.status_code == 200, response.json


# --- nesting and encodings ------------------------------------------------------------------


# Every reader of a JSON body: each goes through pager.domain.jsonbody.read_json.
NESTED = [
    "/integrations/alertmanager",
    "/v2/enqueue",
    "/api/v1/silences",
    "/api/v1/incidents/1/ack",
    "/api/v1/incidents/1/unack",
    "/api/v1/incidents/1/resolve",
    # Read by verify_webhook before any signature check, so any stranger reaches it.
    "/providers/vonage/inbound",
]


@pytest.mark.parametrize("path", NESTED)
def test_it_answers_100000_levels_of_nesting_with_a_4xx(everything, path: str) -> None:
    _, client = everything
    # Vonage reads JSON bodies only when they open with "{"; the bearer would make it read a JWT.
    vonage = "vonage" in path
    response = post_json(client, path, b'{"a":' + DEEP if vonage else DEEP, bearer=not vonage)
    assert 400 <= response.status_code < 500, response.data[:300]
    assert response.is_json


def test_it_answers_a_signed_but_deeply_nested_sinch_callback_with_400(everything) -> None:
    _, client = everything
    url = "http://127.0.0.1:8080/providers/sinch/inbound"
    headers = signature_headers("sinch", url, {}, DEEP)
    response = post_json(client, "/providers/sinch/inbound", DEEP, **headers)
    assert_error_json(response, 400)
    assert "nested too deeply" in response.json["message"]


@pytest.mark.parametrize("timestamp", [b"1e400", b"-1e400", b"NaN", b"1" * 400])
def test_it_refuses_an_unsigned_vonage_webhook_with_an_absurd_timestamp(
    everything, timestamp: bytes
) -> None:
    _, client = everything
    body = b'{"sig": "00", "timestamp": ' + timestamp + b"}"
    response = post_json(client, "/providers/vonage/inbound", body, bearer=False)
    assert_error_json(response, 403)


def test_it_answers_json_nested_anywhere_up_to_the_recursion_limit_without_a_500(
    everything,
) -> None:
    """Deep enough for json.loads to take but not for json.dumps of a part further down (custom
    details, mapped labels): the nesting is capped where the body is read."""
    _, client = everything
    answers = set()
    for depth in range(MAX_DEPTH - 10, 1_000, 7):
        deep = "[" * depth + "]" * depth
        details = {"summary": f"deep {depth}", "source": "db", "severity": "critical"}
        event = {"routing_key": TOKEN, "event_action": "trigger", "payload": details}
        body = json.dumps(event)[:-2] + f', "custom_details": {deep}}}}}'
        mapped = (
            f'{{"state": "open", "incident": {{"name": "deep {depth}", "tags": {{"a": {deep}}}}}}}'
        )
        for integration, raw in (("pagerduty", body), ("generic-mapped", mapped)):
            response = deliver(client, integration, raw.encode())
            assert response.status_code in (200, 400), (integration, depth, response.data[:300])
            answers.add(response.status_code)
    assert answers == {200, 400}


def test_it_answers_moderately_deep_json_with_a_400_naming_the_field(everything) -> None:
    _, client = everything
    response = post_json(client, "/integrations/alertmanager", b"[" * 500 + b"]" * 500)
    assert_error_json(response, 400)


def test_it_answers_invalid_utf8_with_400(everything) -> None:
    _, client = everything
    body = b'{"alerts": [{"status": "firing", "labels": {"a": "\xff\xfe"}}]}'
    for path in ("/integrations/alertmanager", "/api/v1/silences"):
        assert_error_json(post_json(client, path, body), 400)
    pagerduty = post_json(client, "/v2/enqueue", body)
    assert pagerduty.status_code == 400
    assert pagerduty.json["errors"] == ["Event object is not valid JSON"]


@pytest.mark.parametrize("action", ["ack", "unack", "resolve"])
@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"by": "\xff"}', "application/json"),
        (b"by=alice", "application/x-www-form-urlencoded"),
        (b'["alice"]', "application/json"),
        (b'{"by": "alice"', "text/plain"),
    ],
    ids=["not-utf8", "a-form", "not-an-object", "cut-short"],
)
def test_it_refuses_an_unreadable_body_on_an_incident_action(
    everything, action: str, body: bytes, content_type: str
) -> None:
    pager, client = everything
    incident_id = open_incident(client)
    if action == "unack":
        post_json(client, f"/api/v1/incidents/{incident_id}/ack", b"")
    before = incidents.view(pager, incident_id).status
    response = client.post(
        f"/api/v1/incidents/{incident_id}/{action}",
        data=body,
        content_type=content_type,
        headers=BEARER,
    )
    assert_error_json(response, 400)
    assert incidents.view(pager, incident_id).status == before


def test_it_takes_an_incident_action_without_a_body(everything) -> None:
    pager, client = everything
    incident_id = open_incident(client)
    response = client.post(f"/api/v1/incidents/{incident_id}/ack", headers=BEARER)
    assert response.status_code == 200, response.data[:300]
    assert response.json["acknowledged_by"] == "api"


# A lone surrogate in a text field, and the field the 400 names.
UNPAIRED = [
    (
        "/integrations/alertmanager",
        '{"alerts": [{"status": "firing", "labels": {"alertname": "\\ud800"}}]}',
        "alerts[0].labels.alertname",
    ),
    (
        "/integrations/alertmanager",
        '{"alerts": [{"status": "firing", "labels": {"\\udbff": "x"}}]}',
        "alerts[0].labels.\\udbff",
    ),
    (
        "/api/v1/silences",
        '{"service": "payments", "duration_minutes": 5, "reason": "\\udfff"}',
        "reason",
    ),
    ("/api/v1/incidents/1/ack", '{"by": "\\ud800"}', "by"),
    ("/api/v1/incidents/1/resolve", '{"by": "ok", "note": ["\\ud800\\ud800"]}', "note[0]"),
]


@pytest.mark.parametrize(("path", "body", "field"), UNPAIRED)
def test_it_refuses_text_that_is_not_unicode_with_400(
    everything, path: str, body: str, field: str
) -> None:
    pager, client = everything
    incident_id = open_incident(client)
    response = post_json(client, path, body.encode())
    assert_error_json(response, 400)
    assert response.json["field"] == field
    assert incidents.view(pager, incident_id).status == "triggered"


def test_it_refuses_a_lone_surrogate_in_a_pagerduty_event_naming_the_field(everything) -> None:
    _, client = everything
    event = {
        "routing_key": TOKEN,
        "event_action": "trigger",
        "payload": {"summary": "\ud800", "source": "db", "severity": "critical"},
    }
    response = post_json(client, "/v2/enqueue", event, bearer=False)  # json.dumps escapes it
    assert response.status_code == 400
    assert response.json["errors"] == [
        "'payload.summary': not Unicode text: a lone surrogate \\ud800"
    ]


def test_it_takes_escaped_text_that_is_unicode(everything) -> None:
    pager, client = everything
    name = "\U0001f6a8 fire \\ud800"  # a surrogate pair, and a backslash before "ud800"
    body = {"alerts": [{"status": "firing", "labels": {"alertname": name}}]}
    assert "\\ud83d\\udea8" in json.dumps(body)  # sent escaped, as a pair
    incident_id = open_incident(client, body)
    assert incidents.view(pager, incident_id).title == name


# --- storms ----------------------------------------------------------------------------------


def storm(size: int = MAX_BODY) -> tuple[bytes, int]:
    """One Alertmanager group with as many distinct alerts as fit in `size` bytes."""
    alert = '{{"status":"firing","fingerprint":"{:08x}"}}'
    head, tail = b'{"version":"4","groupKey":"storm","alerts":[', b"]}"
    count = (size - len(head) - len(tail)) // (len(alert.format(0)) + 1)
    body = head + ",".join(alert.format(i) for i in range(count)).encode() + tail
    return body, count


def test_it_stores_a_storm_that_fills_one_mebibyte_in_time(everything) -> None:
    pager, client = everything
    body, count = storm()
    assert count > 20_000
    response = within_time_limit(
        lambda: post_json(client, "/integrations/alertmanager", body), seconds=STORM_LIMIT
    )
    assert response.status_code == 200, response.data[:300]
    assert response.json["alerts"] == count
    with pager.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Alert)) == count


def test_it_opens_an_incident_when_nine_thousand_are_open(everything) -> None:
    pager, client = everything
    now = datetime.now(UTC)
    with pager.db.transaction() as session:
        rows = [
            {"service": "payments", "integration": "alertmanager", "title": f"storm {i}",
             "status": "triggered", "ack_code": f"{i:04d}", "created_at": now, "updated_at": now}
            for i in range(9_000)
        ]  # fmt: skip
        session.execute(insert(Incident), rows)
    response = post_json(client, "/integrations/alertmanager", payload("alertmanager_firing.json"))
    assert response.status_code == 200, response.data[:300]


# --- injection -------------------------------------------------------------------------------


def test_it_never_reflects_input_into_response_headers(everything) -> None:
    pager, client = everything
    injected = "x\r\nSet-Cookie: injected=1\r\nX-Injected: 1"
    body = json.dumps({"action": "completed"}).encode()
    answers = [
        client.get(f"/calendar/{injected}.ics?token={pager.calendar_token}"),
        post_json(client, f"/integrations/{injected}", {}),
        client.post(f"/providers/{injected}/inbound"),
        client.post(
            "/integrations/github",
            data=body,
            headers={"X-Hub-Signature-256": "sha256=" + hmac_sha256_hex(SECRET, body)},
            environ_overrides={"HTTP_X_GITHUB_EVENT": injected},
        ),
    ]
    for response in answers:
        assert response.status_code < 500, response.data[:300]
        names = {name.lower() for name, _ in response.headers}
        assert not names & {"set-cookie", "x-injected"}, response.headers
        assert all("injected" not in value for _, value in response.headers), response.headers


@pytest.mark.parametrize(
    "target", ["/\r\nSet-Cookie: injected=1", "//evil.example/", "https://evil.example/"]
)
def test_it_keeps_the_login_redirect_on_this_site(everything, target: str) -> None:
    _, client = everything
    response = sign_in(client, next_path=quote(target, safe=""))
    assert response.status_code == 303
    location = response.headers["Location"]
    assert "\r" not in location and "\n" not in location and "evil" not in location
    assert "set-cookie" not in location.lower()


def test_it_escapes_an_alert_title_in_the_twiml_reply(everything) -> None:
    pager, client = everything
    evil = "</Message><Redirect>https://evil.example/twiml</Redirect><Message>"
    body = payload("alertmanager_firing.json")
    for alert in body["alerts"]:
        alert["labels"]["alertname"] = evil
    _, number, code = page_someone(pager, client, body)
    response = twilio_sms(client, number, f"ACK {code}", "SMtitle")
    assert response.status_code == 200
    twiml = ET.fromstring(response.data)
    assert [child.tag for child in twiml] == ["Message"]
    assert twiml.find(".//Redirect") is None


def test_it_checks_twilio_signatures_against_our_url_not_the_host_header(everything) -> None:
    _, client = everything
    form = {"From": STRANGER, "To": "+15005550006", "Body": "HELP", "MessageSid": "SMhost"}
    url = "http://evil.example/providers/twilio/inbound"
    signed = signature_headers("twilio", url, form, urlencode(form).encode())
    response = client.post(
        "/providers/twilio/inbound", data=form, headers={**signed, "Host": "evil.example"}
    )
    assert_error_json(response, 403)


# --- forged, stale and replayed webhooks ----------------------------------------------------


def test_it_refuses_every_unsigned_or_wrongly_signed_provider_webhook(everything) -> None:
    pager, client = everything
    incident_id, number, code = page_someone(pager, client)
    before = timeline(pager, incident_id)
    form = {"From": number, "Body": f"ACK {code}", "MessageSid": "SMforged", "msisdn": number[1:],
            "text": f"ACK {code}", "messageId": "m1", "originator": number[1:], "id": "i1",
            "from": number, "body": f"ACK {code}", "token": "not-the-sandbox-token"}  # fmt: skip
    forged = {
        "X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl",
        "x-sinch-webhook-signature": "bm90IGEgc2lnbmF0dXJl",
        "x-sinch-webhook-signature-nonce": "n",
        "x-sinch-webhook-signature-timestamp": str(int(time.time())),
        "MessageBird-Signature-JWT": "e30.e30.bm90",
        "Authorization": "Bearer e30.e30.bm90",
    }
    refused = {
        (provider.name, kind, str(headers)): client.post(
            f"/providers/{provider.name}/{kind}", data=form, headers=headers
        ).status_code
        for provider in EVERY_PROVIDER
        for kind in ("inbound", "status", "voice")
        for headers in ({}, forged)
    }
    assert set(refused.values()) == {403}, refused
    assert timeline(pager, incident_id) == before
    assert incidents.view(pager, incident_id).status == "triggered"


def test_it_refuses_signed_webhooks_replayed_ten_minutes_later(everything) -> None:
    _, client = everything
    ten_minutes_ago = int(time.time()) - 600
    sms = {"type": "mo_text", "from": STRANGER, "to": "+447700900999", "body": "HELP", "id": "r1"}
    body = json.dumps(sms).encode()
    for provider in ("sinch", "messagebird", "vonage"):
        url = f"http://127.0.0.1:8080/providers/{provider}/inbound"
        stale = signature_headers(provider, url, {}, body, at=ten_minutes_ago)
        assert_error_json(post_json(client, f"/providers/{provider}/inbound", body, **stale), 403)
    grafana = json.dumps(payload("grafana_firing.json")).encode()
    signed = hmac_sha256_hex(SECRET, f"{ten_minutes_ago}:".encode() + grafana)
    headers = {TIMESTAMP_HEADER: str(ten_minutes_ago), "X-Grafana-Alerting-Signature": signed}
    assert_error_json(post_json(client, "/integrations/grafana-signed", grafana, **headers), 401)


def test_it_acts_once_on_a_signed_reply_posted_twice(everything) -> None:
    pager, client = everything
    incident_id, number, code = page_someone(pager, client)
    first = twilio_sms(client, number, f"ACK {code}", "SMreplayed")
    again = twilio_sms(client, number, f"ACK {code}", "SMreplayed")
    assert b"Acknowledged" in first.data
    assert again.status_code == 200 and ET.fromstring(again.data).find("Message") is None
    assert [kind for kind, _ in timeline(pager, incident_id)].count("reply") == 1


def test_it_changes_nothing_for_a_reply_from_an_unknown_number(everything) -> None:
    pager, client = everything
    incident_id, _, code = page_someone(pager, client)
    before = timeline(pager, incident_id)
    for text in (f"ACK {code}", f"RES {code}", "ACK ALL", "STOP", code):
        response = twilio_sms(client, STRANGER, text, f"SM{text}")
        assert response.status_code == 200
        assert ET.fromstring(response.data).find("Message") is None  # no SMS relay for spam
    assert timeline(pager, incident_id) == before
    assert incidents.view(pager, incident_id).status == "triggered"
    assert phone(pager, STRANGER) == []


# --- SQL-looking text ------------------------------------------------------------------------


def test_it_stores_sql_looking_text_verbatim(on_both) -> None:
    pager, client, _ = on_both
    alerts = [
        {"status": "firing", "labels": {"alertname": text, "job": text, text[:20]: text},
         "annotations": {"summary": text, "runbook": text}, "generatorURL": text,
         "fingerprint": f"{i}{text}"[:200]}
        for i, text in enumerate(SQL)
    ]  # fmt: skip
    response = post_json(
        client, "/integrations/alertmanager", {"groupKey": SQL[0], "alerts": alerts}
    )
    assert response.status_code == 200, response.data[:300]
    [incident_id] = response.json["opened"]
    view = incidents.view(pager, incident_id)
    assert (view.title, view.summary, view.alert_count) == (SQL[0], SQL[0], len(SQL))
    with pager.db.transaction() as session:
        stored = session.scalars(select(Alert).order_by(Alert.id)).all()
        assert [(a.name, a.summary, a.generator_url) for a in stored] == [(t, t, t) for t in SQL]
        assert [a.labels for a in stored] == [alert["labels"] for alert in alerts]
        assert session.scalar(select(func.count()).select_from(Incident)) == 1
    acked = post_json(client, f"/api/v1/incidents/{incident_id}/ack", {"by": SQL[1]})
    assert acked.json["acknowledged_by"] == f"api (for {SQL[1]})"  # the token acts; the note beside
    silence = post_json(
        client, "/api/v1/silences", {"service": "payments", "duration_minutes": 5, "reason": SQL[2]}
    )
    assert silence.status_code == 201 and silence.json["reason"] == SQL[2]
    for text in SQL:
        assert_error_json(
            client.get(f"/api/v1/incidents?{urlencode({'status': text})}", headers=BEARER), 400
        )
        query = urlencode({"token": pager.calendar_token, "person": text})
        assert_error_json(client.get(f"/calendar/sre-primary.ics?{query}"), 400)
        assert_error_json(post_json(client, f"/integrations/{quote(text, safe='')}", {}), 404)


def test_it_keeps_a_reply_with_sql_in_the_timeline_verbatim(everything) -> None:
    pager, client = everything
    incident_id, number, code = page_someone(pager, client)
    text = f"ACK {code}\n{SQL[0]}"  # what follows the first line is not read, only shown
    assert twilio_sms(client, number, text, "SMsql").status_code == 200
    shown = " ".join(text.split())[:40]
    assert any(
        shown in message for kind, message in timeline(pager, incident_id) if kind == "reply"
    )


# A firing delivery of every source: (integration, fixture, headers beyond the bearer token).
FIRING = [
    ("alertmanager", "alertmanager_firing.json", {}),
    ("grafana", "grafana_firing.json", {}),
    ("grafana", "grafana_legacy_alerting.json", {}),
    ("github", "github_workflow_run_failed.json", {"X-GitHub-Event": "workflow_run"}),
    ("gitlab", "gitlab_pipeline_failed.json", {"X-Gitlab-Event": "Pipeline Hook"}),
    ("jenkins", "jenkins_failed.json", {}),
    ("pagerduty", "pagerduty_trigger.json", {}),
    ("generic", "generic_alerts.json", {}),
    ("generic-mapped", "generic_mapped.json", {}),
]


def deliver(client: FlaskClient, integration: str, body: bytes, **headers: str) -> TestResponse:
    """`body` to the integration, signed or with its token as the integration wants."""
    signed = {
        "github": {"X-Hub-Signature-256": "sha256=" + hmac_sha256_hex(SECRET, body)},
        "gitlab": {"X-Gitlab-Token": TOKEN},
    }.get(integration, {})
    return post_json(client, f"/integrations/{integration}", body, **headers, **signed)


def with_nuls(value: Any) -> Any:
    """`value` with a NUL character after the first character of every string and key."""
    if isinstance(value, dict):
        return {with_nuls(k): with_nuls(v) for k, v in value.items()}
    if isinstance(value, list):
        return [with_nuls(v) for v in value]
    return value[:1] + "\u0000" + value[1:] if isinstance(value, str) and value else value


@pytest.mark.parametrize(("integration", "fixture", "headers"), FIRING, ids=lambda v: str(v))
def test_it_stores_an_alert_without_the_nuls_postgresql_cannot_hold(
    on_both, integration: str, fixture: str, headers: dict[str, str]
) -> None:
    """Dropped, not refused: a 4xx is final for Alertmanager and the others, so a refused
    alert would be lost. Without its NULs, the alert is the one the clean delivery names."""
    pager, client, _ = on_both
    clean = payload(fixture)
    first = deliver(client, integration, json.dumps(with_nuls(clean)).encode(), **headers)
    assert first.status_code == 200, first.data[:300]
    assert first.json["opened"], first.json
    again = deliver(client, integration, json.dumps(clean).encode(), **headers)
    assert again.status_code == 200, again.data[:300]
    assert (again.json["opened"], again.json["updated"]) == ([], first.json["opened"])
    view = incidents.view(pager, first.json["opened"][0])
    assert "\x00" not in view.title + (view.summary or "")
    with pager.db.transaction() as session:
        labels = [a.labels for a in session.scalars(select(Alert))]
    assert labels and all("\x00" not in json.dumps(found) for found in labels)


@pytest.mark.parametrize(
    ("at", "status"),
    [
        ("9999-12-31T23:59:59-01:00", 400),  # past year 9999 in UTC
        ("9999-12-31T23:59:59.999999999Z", 200),
        ("0001-01-01T00:30:00+01:00", 200),  # before year 1 in UTC: Go's zero time, none
        ("0002-01-01T00:30:00+01:00", 200),
    ],
)
def test_it_answers_alert_times_at_the_ends_of_the_calendar_without_a_503(
    on_both, at: str, status: int
) -> None:
    _, client, _ = on_both
    body = {"alerts": [{"status": "firing", "startsAt": at, "endsAt": at}]}
    response = post_json(client, "/integrations/alertmanager", body)
    assert response.status_code == status, response.data[:300]
    if status == 400:
        assert response.json["field"] == "alerts[0].startsAt"


def test_it_keeps_long_alertmanager_keys_as_the_same_bounded_keys(on_both) -> None:
    pager, client, _ = on_both
    group_key, fingerprints = '{}:{job="' + "g" * 100_000 + '"}', ["f" * 201, "f" * 10_000]
    body = {
        "groupKey": group_key,
        "alerts": [{"status": "firing", "fingerprint": f} for f in fingerprints],
    }
    first = post_json(client, "/integrations/alertmanager", body)
    assert first.status_code == 200, first.data[:300]
    [incident_id] = first.json["opened"]
    again = post_json(client, "/integrations/alertmanager", body)
    assert (again.json["opened"], again.json["updated"]) == ([], [incident_id])
    # A third alert of the same (long) group joins the same incident.
    body["alerts"] = [{"status": "firing", "fingerprint": "f" * 202}]
    joined = post_json(client, "/integrations/alertmanager", body)
    assert (joined.json["opened"], joined.json["updated"]) == ([], [incident_id])
    with pager.db.transaction() as session:
        stored = sorted(a.fingerprint for a in session.scalars(select(Alert)))
        incident = session.get(Incident, incident_id)
        assert incident is not None and incident.group_key is not None
        assert len(incident.group_key) <= 1000 and incident.group_key.startswith('{}:{job="ggg')
    assert len(stored) == 3 and len(set(stored)) == 3
    assert all(len(f) <= 200 and f.startswith("fff") and "~sha256:" in f for f in stored)


def test_it_keeps_a_long_group_by_key_within_its_column(database_url: str) -> None:
    grouped = IntegrationSettings("grouped", "payments", "alertmanager", TOKEN, group_by=("job",))
    settings = make_settings(
        database_url, api_tokens=(TOKEN,), integrations={**EVERY_SOURCE, "grouped": grouped}
    )
    pager = build_pager(settings)
    try:
        client = create_app(pager).test_client()
        job = "j" * 1_001
        opened = [
            post_json(
                client,
                "/integrations/grouped",
                {"alerts": [{"status": "firing", "labels": {"job": job, "n": str(n)}}]},
            )
            for n in range(2)
        ]
        assert [r.status_code for r in opened] == [200, 200], opened[0].data[:300]
        assert opened[1].json["updated"] == opened[0].json["opened"]  # the same group
        with pager.db.transaction() as session:
            incident = session.get(Incident, opened[0].json["opened"][0])
            assert incident is not None and len(incident.group_key or "") == 1000
    finally:
        pager.db.dispose()


@pytest.mark.parametrize(
    ("integration", "body"),
    [
        ("generic", {"id": "k" * 5_000, "title": "a very long id"}),
        ("grafana", {**payload("grafana_legacy_alerting.json"), "ruleId": None,
                     "ruleName": "r" * 3_000}),
        ("pagerduty", {**payload("pagerduty_trigger.json"), "dedup_key": "d" * 255}),
    ],
    ids=["generic-id", "grafana-rule-name", "pagerduty-dedup-key"],
)  # fmt: skip
def test_it_keeps_each_sources_long_keys_within_their_columns(
    on_both, integration: str, body: dict[str, Any]
) -> None:
    pager, client, _ = on_both
    first = deliver(client, integration, json.dumps(body).encode())
    assert first.status_code == 200, first.data[:300]
    assert first.json["opened"], first.json
    again = deliver(client, integration, json.dumps(body).encode())
    assert (again.json["opened"], again.json["updated"]) == ([], first.json["opened"])
    with pager.db.transaction() as session:
        [alert] = session.scalars(select(Alert)).all()
        assert len(alert.fingerprint) <= 200 and "~sha256:" in alert.fingerprint
        assert len(alert.name) <= 500 and len(alert.incident.title) <= 500


# --- paths and ids ---------------------------------------------------------------------------


def test_it_answers_path_traversal_with_404(everything) -> None:
    pager, client = everything
    for path in (
        "/calendar/..%2f..%2fetc%2fpasswd.ics",
        "/calendar/%2e%2e%2f%2e%2e%2fetc%2fpasswd.ics",
        "/calendar/....%2f%2f....%2f%2fetc%2fpasswd.ics",
        "/calendar/..%5c..%5cetc%5cpasswd.ics",
        "/assets/..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/assets/%2e%2e/%2e%2e/app.py",
        "/sandbox/..%2f..%2fetc%2fpasswd",
    ):
        response = client.get(f"{path}?token={pager.calendar_token}")
        assert response.status_code == 404, (path, response.data[:300])
        assert b"root:" not in response.data and b"import" not in response.data


@pytest.mark.parametrize("too_big", [2**31 - 1, 2**31, 2**63, 2**64])
def test_it_answers_404_for_ids_beyond_the_id_column(on_both, too_big: int) -> None:
    _, client, _ = on_both
    for method, path in (
        ("GET", f"/api/v1/incidents/{too_big}"),
        ("POST", f"/api/v1/incidents/{too_big}/ack"),
        ("POST", f"/api/v1/incidents/{too_big}/unack"),
        ("POST", f"/api/v1/incidents/{too_big}/resolve"),
        ("DELETE", f"/api/v1/silences/{too_big}"),
    ):
        assert_error_json(client.open(path, method=method, headers=BEARER), 404)
    assert sign_in(client).status_code == 303
    assert client.get(f"/incidents/{too_big}").status_code == 404


@pytest.mark.parametrize(
    ("times", "field"),
    [
        ({"duration_minutes": 10**12}, "duration_minutes"),
        ({"duration_minutes": 10**15}, "duration_minutes"),
        ({"starts_at": "9999-12-31T23:00:00Z", "duration_minutes": 120}, "duration_minutes"),
        ({"ends_at": "9999-12-31T23:59:59-01:00"}, "ends_at"),
        ({"starts_at": "0001-01-01T00:00:00+01:00", "duration_minutes": 5}, "starts_at"),
    ],
)
def test_it_answers_silence_times_out_of_range_with_400(
    everything, times: dict[str, Any], field: str
) -> None:
    _, client = everything
    response = post_json(client, "/api/v1/silences", {"service": "payments", **times})
    assert_error_json(response, 400)
    assert response.json["field"] == field


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"service": "p" * 201, "duration_minutes": 5}, "service"),
        ({"service": "pay\u0000ments", "duration_minutes": 5}, "service"),
        ({"service": "payments", "duration_minutes": 5, "reason": "\u0000"}, "reason"),
        ({"service": "payments", "duration_minutes": 5, "by": "a\u0000"}, "by"),
    ],
    ids=["long-service", "nul-service", "nul-reason", "nul-by"],
)
def test_it_refuses_silence_text_the_store_cannot_hold_with_400(
    on_both, body: dict[str, Any], field: str
) -> None:
    """The API's callers can fix their request, so a NUL is refused (not dropped) here."""
    pager, client, _ = on_both
    pager.rotations = Rotations()  # without rotations any service name goes, up to the column
    response = post_json(client, "/api/v1/silences", body)
    assert_error_json(response, 400)
    assert response.json["field"] == field


def test_it_reads_a_signed_reply_with_nul_characters_on_both_databases(on_both) -> None:
    """PostgreSQL text cannot hold NUL: the signed form is checked as sent, then read without
    them, so the reply still acknowledges instead of failing with a 500."""
    pager, client, _ = on_both
    incident_id, number, code = page_someone(pager, client)
    response = twilio_sms(client, number, f"ACK\x00 {code}\x00", "SM\x00nul")
    assert response.status_code == 200, response.data[:300]
    assert incidents.view(pager, incident_id).status == "acknowledged"
