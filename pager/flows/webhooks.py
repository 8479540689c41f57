"""Outgoing webhooks: every change of an incident, and every inbound SMS that is not a command
of ours, told to the receivers in `webhooks:` (n8n, Zapier, Make, Slack, ticketing).

Durable like pages (DESIGN invariant 2): a delivery is an outbox row written in the transaction
that makes the change. Every change of an incident writes a line on its timeline
(`store.incidents.add_timeline` notes each in the session), and the hook `watch` installs turns
those notes into deliveries just before that transaction commits, so no path that changes an
incident can forget to tell, and nothing is told of a change that rolled back. A runner sends
them (`claim_due`, `deliver`) on threads of their own, never in the way of a page; a receiver
that is down is retried with backoff for 24 hours, each incident's events in order.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from pager.config.model import WebhookSettings
from pager.domain.phones import mask
from pager.flows import incidents as incident_flows
from pager.flows.context import Pager
from pager.store import incidents, runners
from pager.store import webhook_deliveries as deliveries
from pager.store.models import WebhookDelivery

log = logging.getLogger(__name__)

# The timeline's kinds of line, and the event each tells.
EVENT_OF_KIND = {
    "opened": "incident.triggered",
    "acknowledged": "incident.acknowledged",
    "unacknowledged": "incident.unacknowledged",
    "escalation": "incident.escalated",
    "resolved": "incident.resolved",
    "note": "incident.note",
}
LEASE = timedelta(minutes=2)  # longer than any timeout (30 s at most) and the record after it
GIVE_UP_AFTER = timedelta(hours=24)
# Waits before the 2nd, 3rd... attempt; then every 4 h, until 24 h after the event.
BACKOFF = tuple(timedelta(seconds=s) for s in (5, 30, 120, 600, 1800, 3600, 7200, 14400))
TIMELINE_SHOWN = 50  # the newest lines of the timeline in `data.incident`


def watch(pager: Pager) -> None:
    """Queue deliveries for the changes each transaction makes, as it commits."""
    if pager.settings.webhooks:
        pager.db.before_commit(lambda session: _queue_changes(pager, session))


def _queue_changes(pager: Pager, session: Session) -> None:
    for incident_id, kind, message, at in incidents.take_timeline_notes(session):
        event = EVENT_OF_KIND.get(kind)
        hooks = [hook for hook in pager.settings.webhooks if event in hook.events]
        incident = incidents.get(session, incident_id) if event and hooks else None
        if event is None or incident is None:
            continue
        document = incident_flows.document(session, incident, timeline=TIMELINE_SHOWN)
        change = {"at": at.isoformat(), "kind": kind, "message": message}
        data = {"incident": document, "change": change}
        slack = _slack_incident(pager, document, event, message)
        _queue(session, hooks, event, incident_id, data, slack, at)


def sms_received(
    pager: Pager,
    session: Session,
    sms_from: str,
    to: str,
    text: str,
    person: str | None,
    provider: str,
    now: datetime,
) -> None:
    """Tell of an inbound SMS that is not a command of ours (the SMS-trigger pattern)."""
    hooks = [hook for hook in pager.settings.webhooks if "sms.received" in hook.events]
    if not hooks:
        return
    data = {
        "sms": {
            "from": sms_from,  # in full: the receiver may need to answer it
            "to": to,
            "text": text,
            "person": person,  # the handle of a person in the rotations, else null
            "provider": provider,
            "received_at": now.isoformat(),
        }
    }
    who = person or mask(sms_from)
    slack = {"text": f"SMS from {_slack_escape(who)}: {_slack_escape(text)}"}
    _queue(session, hooks, "sms.received", None, data, slack, now)


def _queue(
    session: Session,
    hooks: list[WebhookSettings],
    event: str,
    incident_id: int | None,
    data: dict[str, Any],
    slack: dict[str, Any],
    at: datetime,
) -> None:
    for hook in hooks:
        message_id = f"msg_{secrets.token_urlsafe(18)}"
        if hook.format == "slack":
            body = slack
        else:
            body = {"type": event, "timestamp": at.isoformat(), "data": data}
        deliveries.add(
            session,
            WebhookDelivery(
                webhook=hook.name,
                event=event,
                incident_id=incident_id,
                message_id=message_id,
                body=json.dumps(body, separators=(",", ":"), ensure_ascii=False),
                created_at=at,
                status="pending",
                attempts=0,
                next_attempt_at=at,
            ),
        )


def claim_due(pager: Pager, now: datetime, limit: int) -> list[int]:
    """Take up to `limit` deliveries that are due, each leased to this runner."""
    with pager.db.transaction() as session:
        clock = runners.database_now(session)
        due = deliveries.due(session, now, clock, limit)
        return [i for i in due if deliveries.claim(session, i, now, clock, LEASE)]


@dataclass(frozen=True)
class DeliveryView:
    """A line of the delivery log."""

    id: int
    webhook: str
    event: str
    incident_id: int | None
    created_at: datetime
    status: str
    attempts: int
    last_status: int | None
    last_error: str | None
    next_attempt_at: datetime | None  # while it waits for a retry
    delivered_at: datetime | None


def delivery_log(pager: Pager, limit: int = 100) -> list[DeliveryView]:
    """The newest deliveries, for the dashboard."""
    with pager.db.read() as session:
        return [
            DeliveryView(
                d.id,
                d.webhook,
                d.event,
                d.incident_id,
                d.created_at,
                d.status,
                d.attempts,
                d.last_status,
                d.last_error,
                d.next_attempt_at if d.status == "pending" and d.attempts else None,
                d.delivered_at,
            )
            for d in deliveries.recent(session, limit)
        ]


def deliver(pager: Pager, delivery_id: int, now: datetime) -> None:
    """POST one claimed delivery and record how it went: delivered, retried later, or given
    up 24 h after its event."""
    with pager.db.read() as session:
        found = deliveries.get(session, delivery_id)
        if found is None or found.status != "sending":
            return
        name, message_id, body = found.webhook, found.message_id, found.body
    hook = next((h for h in pager.settings.webhooks if h.name == name), None)
    status, error = _post(hook, message_id, body, now) if hook else (None, "no longer configured")
    with pager.db.transaction() as session:
        row = deliveries.get(session, delivery_id)
        if row is None:
            return
        _record(row, status, error, now, give_up=hook is None)
    if error:
        log.warning(
            "event=webhook_failed webhook=%s delivery=%d attempt=%d status=%s error=%r",
            name,
            delivery_id,
            row.attempts,
            status,
            error,
        )
    else:
        log.info("event=webhook_delivered webhook=%s delivery=%d", name, delivery_id)


def _record(
    row: WebhookDelivery, status: int | None, error: str | None, now: datetime, give_up: bool
) -> None:
    row.attempts += 1
    row.last_status, row.last_error, row.lease_until = status, error, None
    if error is None:
        row.status, row.delivered_at = "delivered", now
        return
    wait = BACKOFF[min(row.attempts - 1, len(BACKOFF) - 1)]
    if give_up or now + wait > row.created_at + GIVE_UP_AFTER:
        row.status = "failed"
        return
    row.status, row.next_attempt_at = "pending", now + wait


def _post(
    hook: WebhookSettings, message_id: str, body: str, now: datetime
) -> tuple[int | None, str | None]:
    """(the receiver's HTTP status, None) for a 2xx, else (status or None, what went wrong)."""
    import requests  # here: 5 MB a daemon without webhooks would keep for nothing

    headers = {"Content-Type": "application/json", "User-Agent": "pager-webhooks/1"}
    if hook.format == "standard":
        headers.update(standard_headers(hook.secret, message_id, body, now))
    try:
        response = requests.post(
            hook.url,
            data=body.encode(),
            headers=headers,
            timeout=hook.timeout.total_seconds(),
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        return None, f"{type(exc).__name__}: {str(exc)[:200]}"
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, f"HTTP {response.status_code}: {response.text[:200]}"


def standard_headers(secret: str, message_id: str, body: str, now: datetime) -> dict[str, str]:
    """The Standard Webhooks headers: the id, the time of this attempt, and `v1,` + the
    base64 HMAC-SHA256 of `id.timestamp.body` under the secret's key."""
    timestamp = str(int(now.timestamp()))
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.{body}".encode()
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return {
        "webhook-id": message_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
    }


def _slack_incident(
    pager: Pager, incident: dict[str, Any], event: str, message: str
) -> dict[str, Any]:
    """A Slack incoming-webhook message: a line of text (notifications show it) and blocks."""
    number, title = incident["id"], _slack_escape(incident["title"])
    status = incident["status"].capitalize()
    link = f"{pager.settings.public_url}/incidents/{number}"
    headline = f"[{status}] #{number} {incident['service']}: {title}"
    facts = [f"*Service:* {_slack_escape(incident['service'])}", f"*Status:* {status}"]
    if incident.get("acknowledged_by"):
        facts.append(f"*Acknowledged by:* {_slack_escape(incident['acknowledged_by'])}")
    return {
        "text": headline,
        "blocks": [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"*<{link}|#{number}>* {title}"},
            },
            {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in facts]},
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": f"{event}: {_slack_escape(message)[:300]}"}
                ],
            },
        ],
    }


def _slack_escape(text: str) -> str:
    """Slack's mrkdwn gives &, < and > meaning: escape them as its docs say."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
