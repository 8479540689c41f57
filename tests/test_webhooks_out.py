"""Outgoing webhooks through the flows, on SQLite and PostgreSQL, to a receiver that checks
each delivery with the Standard Webhooks project's `standardwebhooks` library: every change of
an incident told in order, signed, retried with backoff while the receiver is down, given up
after 24 h, only the events asked for, Slack's format, inbound SMS, one runner per delivery."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from pager import metrics
from pager.app import build_pager
from pager.config import ConfigError, load_settings
from pager.config.model import WEBHOOK_EVENTS, WebhookSettings
from pager.flows import incidents, replies, webhooks
from pager.flows.backlog import measure_backlog
from pager.flows.context import Pager, utcnow
from pager.providers.base import InboundSms
from pager.store.models import WebhookDelivery
from pager.web import create_app
from tests.conftest import make_settings
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.helpers import ALICE, payload, receive, run_due

T0 = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)  # Alice's week in the fixture rotations
SECRET = "whsec_" + base64.b64encode(b"pager-tests-webhook-secret-32byt").decode()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(SECRET) as running:
        yield running


def hooked(database_url: str, *hooks: WebhookSettings) -> Pager:
    return build_pager(make_settings(database_url, webhooks=hooks))


@pytest.fixture
def pager(database_url: str, receiver: WebhookReceiver) -> Iterator[Pager]:
    built = hooked(database_url, WebhookSettings("n8n", receiver.url, SECRET))
    yield built
    built.db.dispose()


def send_webhooks(pager: Pager, now: datetime) -> int:
    """What the webhook runner does on a pass, in this thread; how many it tried."""
    claimed = webhooks.claim_due(pager, now, 50)
    for delivery_id in claimed:
        webhooks.deliver(pager, delivery_id, now)
    return len(claimed)


def rows(pager: Pager) -> list[WebhookDelivery]:
    with pager.db.read() as session:
        found = list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))
        session.expunge_all()  # loaded as they are: read() rolls back, which would expire them
        return found


def open_incident(pager: Pager, now: datetime, group: str = "g1") -> int:
    body = payload("alertmanager_firing.json")
    body["groupKey"] = group
    for alert in body["alerts"]:
        alert["fingerprint"] = f"{group}-{alert['fingerprint']}"
    receive(pager, "payments-am", body, now)
    return max(i.id for i in incidents.listing(pager, None))


def test_it_tells_each_change_of_an_incident_in_order_signed(
    pager: Pager, receiver: WebhookReceiver
) -> None:
    with freeze_time(T0, tick=True):
        incident_id = open_incident(pager, T0)
        run_due(pager, T0)  # step 1 pages Alice
        incidents.acknowledge(pager, incident_id, "Alice Example", "sms", T0)
        incidents.add_note(pager, incident_id, "restarted the primary", "alice", "dashboard", T0)
        incidents.unacknowledge(pager, incident_id, "alice", T0, "dashboard")
        incidents.resolve(pager, incident_id, "alice", "dashboard", T0)
        while send_webhooks(pager, T0):
            pass
        got = receiver.wait_for(6)
    assert [r.type for r in got] == [
        "incident.triggered",
        "incident.escalated",
        "incident.acknowledged",
        "incident.note",
        "incident.unacknowledged",
        "incident.resolved",
    ]
    assert [r.event["data"]["incident"]["status"] for r in got] == [
        "triggered",
        "triggered",
        "acknowledged",
        "acknowledged",
        "triggered",
        "resolved",
    ]
    first = got[0].event
    assert first["timestamp"] == T0.isoformat()
    assert first["data"]["change"]["kind"] == "opened"
    assert "restarted the primary" in got[3].event["data"]["change"]["message"]
    assert got[2].event["data"]["incident"]["acknowledged_by"] == "Alice Example"
    ids = [r.headers["Webhook-Id"] for r in got]
    assert len(set(ids)) == 6 and all(i.startswith("msg_") for i in ids)
    assert {r.status for r in rows(pager)} == {"delivered"}


def test_its_incident_is_the_one_the_api_shows(pager: Pager, receiver: WebhookReceiver) -> None:
    with freeze_time(T0, tick=True):
        incident_id = open_incident(pager, T0)
        send_webhooks(pager, T0)
        [told] = receiver.wait_for(1)
        client = create_app(pager).test_client()
        shown = client.get(
            f"/api/v1/incidents/{incident_id}", headers={"Authorization": "Bearer api-token"}
        ).get_json()
    incident = told.event["data"]["incident"]
    assert set(shown) - set(incident) == {"next_step", "recent_changes"}
    assert {key: shown[key] for key in incident} == incident


def test_a_tampered_delivery_does_not_verify(pager: Pager, receiver: WebhookReceiver) -> None:
    with freeze_time(T0, tick=True):
        open_incident(pager, T0)
        send_webhooks(pager, T0)
        [told] = receiver.wait_for(1)
        tampered = told.body.replace(b"triggered", b"resolved")
        with pytest.raises(WebhookVerificationError):
            Webhook(SECRET).verify(tampered, told.headers)
        other = "whsec_" + base64.b64encode(b"x" * 32).decode()
        with pytest.raises(WebhookVerificationError):
            Webhook(other).verify(told.body, told.headers)


def test_it_counts_what_waits_in_the_backlog_gauge(pager: Pager) -> None:
    open_incident(pager, T0, "g1")
    open_incident(pager, T0, "g2")
    measure_backlog(pager, T0)
    assert metrics.REGISTRY.get_sample_value("pager_webhook_deliveries_pending") == 2


def test_it_retries_a_receiver_that_is_down_keeping_each_incidents_order(
    pager: Pager, receiver: WebhookReceiver
) -> None:
    receiver.fail_next = 2
    with freeze_time(T0, tick=True) as clock:
        first = open_incident(pager, T0, "g1")
        incidents.acknowledge(pager, first, "alice", "dashboard", T0)
        assert send_webhooks(pager, T0) == 1  # the ack waits behind the trigger: order
        assert [r.status for r in rows(pager)] == ["pending", "pending"]
        assert rows(pager)[0].attempts == 1 and rows(pager)[0].last_status == 500
        assert send_webhooks(pager, T0 + timedelta(seconds=4)) == 0  # backoff: 5 s
        assert send_webhooks(pager, T0 + timedelta(seconds=5)) == 1  # fails again: 30 s
        second = open_incident(pager, T0 + timedelta(seconds=6), "g2")  # not held by the first
        clock.move_to(T0 + timedelta(seconds=6))
        assert send_webhooks(pager, T0 + timedelta(seconds=6)) == 1
        clock.move_to(T0 + timedelta(seconds=35))
        while send_webhooks(pager, T0 + timedelta(seconds=35)):
            pass
        got = receiver.wait_for(3)
    assert [(r.type, r.event["data"]["incident"]["id"]) for r in got] == [
        ("incident.triggered", second),
        ("incident.triggered", first),
        ("incident.acknowledged", first),
    ]
    assert [r.attempts for r in rows(pager)] == [3, 1, 1]


def test_it_gives_up_a_day_after_the_event(pager: Pager, receiver: WebhookReceiver) -> None:
    receiver.fail_next = 1000
    with freeze_time(T0, tick=True):
        open_incident(pager, T0)
    at, tries = T0, 0
    while (row := rows(pager)[0]).status == "pending":
        at = max(at, row.next_attempt_at)
        with freeze_time(at):
            tries += send_webhooks(pager, at)
    assert row.status == "failed" and row.last_status == 500
    assert tries == row.attempts == receiver.requests
    assert at <= T0 + timedelta(hours=24) and at > T0 + timedelta(hours=20)
    measure_backlog(pager, at)
    assert metrics.REGISTRY.get_sample_value("pager_webhook_deliveries_pending") == 0  # gave up


def test_it_sends_only_the_events_a_webhook_asks_for(
    database_url: str, receiver: WebhookReceiver
) -> None:
    asks = WebhookSettings("ops", receiver.url, SECRET, events=("incident.resolved",))
    pager = hooked(database_url, asks)
    try:
        with freeze_time(T0, tick=True):
            incident_id = open_incident(pager, T0)
            incidents.acknowledge(pager, incident_id, "alice", "dashboard", T0)
            incidents.resolve(pager, incident_id, "alice", "dashboard", T0)
            send_webhooks(pager, T0)
            assert [r.type for r in receiver.wait_for(1)] == ["incident.resolved"]
        assert len(rows(pager)) == 1
    finally:
        pager.db.dispose()


def test_it_posts_slack_messages_unsigned(database_url: str) -> None:
    with WebhookReceiver(None) as slack:
        pager = hooked(database_url, WebhookSettings("slack", slack.url, format="slack"))
        try:
            incident_id = open_incident(pager, T0)
            incidents.acknowledge(pager, incident_id, "Alice <ops> & co", "dashboard", T0)
            send_webhooks(pager, T0)
            send_webhooks(pager, T0)
            triggered, acked = slack.wait_for(2)
        finally:
            pager.db.dispose()
    assert "webhook-signature" not in {k.lower() for k in triggered.headers}
    assert triggered.event["text"] == f"[Triggered] #{incident_id} payments: HighErrorRate"
    link = f"<http://127.0.0.1:8080/incidents/{incident_id}|#{incident_id}>"
    assert triggered.event["blocks"][0]["text"]["text"] == f"*{link}* HighErrorRate"
    facts = [f["text"] for f in acked.event["blocks"][1]["fields"]]
    assert facts == [
        "*Service:* payments",
        "*Status:* Acknowledged",
        "*Acknowledged by:* Alice &lt;ops&gt; &amp; co",
    ]


def test_it_tells_of_an_sms_that_is_no_command(pager: Pager, receiver: WebhookReceiver) -> None:
    with freeze_time(T0, tick=True):
        open_incident(pager, T0)
        run_due(pager, T0)
        [code] = [i.ack_code for i in incidents_rows(pager)]
        sms = InboundSms(ALICE, "+15550000000", "the db is on fire again", "SM1")
        replies.handle_sms(pager, "sandbox", sms, T0)
        replies.handle_sms(pager, "sandbox", sms, T0)  # a replay: told once
        ack = InboundSms(ALICE, "+15550000000", f"ACK {code}", "SM2")
        replies.handle_sms(pager, "sandbox", ack, T0)
        # The console's commands are commands, even written wrong: none is told.
        for n, command in enumerate(
            [f"NOTE {code} on it", "STATUS", "ONCALL", "HELP SNOOZE", f"SNOOZE {code} 30x", "ESC"]
        ):
            said = InboundSms(ALICE, "+15550000000", command, f"SMC{n}")
            assert replies.handle_sms(pager, "sandbox", said, T0)
        stranger = InboundSms("+447700900999", "+15550000000", "hello?", "SM3")
        replies.handle_sms(pager, "sandbox", stranger, T0)
        while send_webhooks(pager, T0):
            pass
    told = [r.event for r in receiver.accepted if r.type == "sms.received"]
    assert [e["data"]["sms"]["text"] for e in told] == ["the db is on fire again", "hello?"]
    assert told[0]["data"]["sms"]["person"] == "alice" and told[0]["data"]["sms"]["from"] == ALICE
    assert told[1]["data"]["sms"]["person"] is None


def incidents_rows(pager: Pager) -> list:
    from pager.store.models import Incident

    with pager.db.read() as session:
        found = list(session.scalars(select(Incident)))
        session.expunge_all()
        return found


def test_two_runners_never_take_the_same_delivery(
    database_url: str, receiver: WebhookReceiver
) -> None:
    hook = WebhookSettings("n8n", receiver.url, SECRET)
    one, two = hooked(database_url, hook), hooked(database_url, hook)
    try:
        for n in range(5):
            open_incident(one, T0, f"g{n}")
        first = webhooks.claim_due(one, T0, 3)
        second = webhooks.claim_due(two, T0, 10)
        assert len(first) == 3 and len(second) == 2 and not set(first) & set(second)
        assert webhooks.claim_due(one, T0, 10) == []
    finally:
        one.db.dispose()
        two.db.dispose()


def test_a_change_that_rolls_back_tells_nothing(pager: Pager) -> None:
    from pager.store import incidents as incident_store

    incident_id = open_incident(pager, T0)
    with pytest.raises(RuntimeError), pager.db.transaction() as session:
        incident_store.add_timeline(session, incident_id, T0, "note", "never")
        raise RuntimeError("rolled back")
    assert [r.event for r in rows(pager)] == ["incident.triggered"]


def test_it_keeps_the_body_it_sends(pager: Pager, receiver: WebhookReceiver) -> None:
    with freeze_time(T0, tick=True):
        open_incident(pager, T0)
        send_webhooks(pager, T0)
        [told] = receiver.wait_for(1)
    [row] = rows(pager)
    assert told.body.decode() == row.body and json.loads(row.body)["type"] == "incident.triggered"
    assert told.headers["Webhook-Id"] == row.message_id


def test_it_never_shows_a_webhooks_secret_or_url_in_its_repr() -> None:
    hook = WebhookSettings("n8n", "https://hooks.example.com/T0/B0/xyz", SECRET)
    assert SECRET not in repr(hook) and "xyz" not in repr(hook)


def test_the_dashboard_shows_the_delivery_log(pager: Pager, receiver: WebhookReceiver) -> None:
    from tests.test_dashboard import dashboard_app, sign_in, text

    receiver.fail_next = 1  # refused before any signature is read: no need to freeze time
    client = dashboard_app(pager).test_client()
    assert sign_in(client).status_code == 303  # on the real clock, as the dashboard runs
    incident_id = open_incident(pager, utcnow())
    send_webhooks(pager, utcnow())
    page = text(client.get("/webhooks"))
    assert "incident.triggered" in page and f"#{incident_id}</a>" in page
    assert "HTTP 500: down for maintenance" in page and ", again" in page
    assert 'href="/webhooks">Webhooks</a>' in text(client.get("/"))


def test_it_reads_webhooks_from_pager_yaml(tmp_path: Path) -> None:
    path = tmp_path / "pager.yaml"
    path.write_text(
        "webhooks:\n"
        "  - name: n8n\n"
        "    url: https://n8n.example.com/webhook/pager\n"
        "    secret: ${N8N_WEBHOOK_SECRET}\n"
        "    events: [incident.triggered, incident.resolved]\n"
        "  - {name: slack, url: '${SLACK_URL}', format: slack, timeout: 5s}\n"
    )
    env = {"N8N_WEBHOOK_SECRET": SECRET, "SLACK_URL": "https://hooks.slack.com/services/T/B/x"}
    n8n, slack = load_settings(path, env=env).webhooks
    assert (n8n.name, n8n.secret, n8n.format) == ("n8n", SECRET, "standard")
    assert n8n.events == ("incident.triggered", "incident.resolved")
    assert n8n.timeout == timedelta(seconds=10)
    assert slack.url == env["SLACK_URL"] and slack.events == WEBHOOK_EVENTS
    assert slack.timeout == timedelta(seconds=5)


def test_it_names_each_mistake_in_webhooks_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "pager.yaml"
    path.write_text(
        "webhooks:\n"
        "  - name: n8n\n"
        "    url: n8n.example.com\n"
        "    secret: not-a-secret\n"
        "    events: [incident.opened]\n"
        "  - {name: n8n, url: 'https://a.example', format: teams, secret: x}\n"
        "  - {name: slow, url: 'https://b.example', format: slack, timeout: 1m}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    said = str(caught.value)
    for expected in (
        "pager.yaml:3: webhook 'n8n' url: expected an http:// or https:// URL",
        "pager.yaml:4: webhook 'n8n' secret: a Standard Webhooks secret is whsec_",
        "pager.yaml:5: webhook 'n8n' events: 'incident.opened' unknown",
        "pager.yaml:6: webhook 'n8n' format: 'teams' unknown (known: standard, slack)",
        "pager.yaml:6: webhook 'n8n' is named twice",
        "pager.yaml:7: webhook 'slow' timeout: at most 30s",
    ):
        assert expected in said, said
