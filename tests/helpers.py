"""Small drivers the tests share: run due work synchronously, read what the phones got."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pager.domain.alerts import AlertEvent
from pager.flows import dispatch, escalate
from pager.flows.context import Pager
from pager.flows.intake import IntakeResult, receive_alerts
from pager.sources import PARSERS
from pager.store import sandbox
from pager.store.models import SandboxMessage

PAYLOADS = Path(__file__).parent / "fixtures" / "payloads"
TEAM = Path(__file__).parent / "fixtures" / "rotations" / "team.yaml"


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


def texted_code(pager: Pager, number: str = "+447700900101") -> str:
    """The newest sign-in code the sandbox phone `number` received (Alice's by default)."""
    texts = [m.body for m in phone(pager, number) if m.direction == "out" and "code" in m.body]
    assert texts, f"no code on the sandbox phone {number}"
    found = re.match(r"(\d{6}) is your pager sign-in code", texts[-1])
    assert found, texts[-1]
    return found.group(1)


def audit_actions(pager: Pager) -> list[tuple[str, str]]:
    """The audit trail's (action, detail) pairs in order, without the rotation loads every
    start records (`rotations_loaded`)."""
    from sqlalchemy import select

    from pager.store.people_models import AuditEntry

    with pager.db.read() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        return [(row.action, row.detail) for row in rows if row.action != "rotations_loaded"]


ALICE = "+447700900101"
BOB = "+447700900102"
CAROL = "+447700900103"


def team_with_alice_on_call_now() -> str:
    """The fixture team with sre-primary's first shift (Alice's) started a day ago.

    A daemon in a subprocess can't be frozen in time, and the fixture's weekly rotation from
    2026-01-05 gives Bob every other week: this one puts Alice on call now and for six more
    days, whatever the date and whatever the clock says (the CI's clock-moved runs too)."""
    start = datetime.now(ZoneInfo("Europe/London")) - timedelta(days=1)
    team, count = re.subn(
        r"(?m)^(    start: ).*$", rf"\g<1>{start:%Y-%m-%dT%H:%M}", TEAM.read_text()
    )
    assert count == 1, "the fixture team has one rotation start"
    return team


def write_team_rotations(directory: Path) -> Path:
    """A rotations directory holding `team_with_alice_on_call_now()`."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "team.yaml").write_text(team_with_alice_on_call_now())
    return directory
