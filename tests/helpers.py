"""Small drivers the tests share: run due work synchronously, read what the phones got."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from pager.domain.alerts import AlertEvent
from pager.flows import dispatch, escalate
from pager.flows.context import Pager
from pager.flows.intake import IntakeResult, receive_alerts
from pager.sources import PARSERS
from pager.store import sandbox
from pager.store.models import SandboxMessage

PAYLOADS = Path(__file__).parent / "fixtures" / "payloads"


def payload(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((PAYLOADS / name).read_text())
    return loaded


def run_due(pager: Pager, now: datetime) -> None:
    """What the runner does on a wake-up, in this thread: due steps, then due sends."""
    escalate.escalate_due(pager, now)
    while claimed := dispatch.claim_due(pager, now, 50):
        for notification_id in claimed:
            dispatch.send(pager, notification_id)


def receive(pager: Pager, name: str, body: dict[str, Any], now: datetime) -> IntakeResult:
    integration = pager.settings.integrations[name]
    events: list[AlertEvent] = PARSERS[integration.source](body)
    return receive_alerts(pager, integration, events, now)


def phone(pager: Pager, number: str) -> list[SandboxMessage]:
    with pager.db.transaction() as session:
        return [m for m in sandbox.recent(session) if m.number == number]


ALICE = "+447700900101"
BOB = "+447700900102"
CAROL = "+447700900103"
