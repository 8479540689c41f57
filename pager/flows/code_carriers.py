"""The outbox rows that carry one-time codes (sign-in, Verify): made one way, routed and failed
over as pages, never held by a limit, and emptied of their code once it is spent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from pager.domain.states import PageState, check
from pager.store import outbox
from pager.store.models import Notification

# Statuses a provider already took the row in (or it ended): it is not cancelled, only masked.
_TAKEN = frozenset(PageState) - {PageState.PENDING, PageState.SENDING, PageState.DIGESTED}


def code_carrier(
    person: str,
    person_name: str,
    phone: str,
    channel: str,
    text: str,
    now: datetime,
    kind: str = "code",
) -> Notification:
    """A new outbox row outside any incident carrying `text` by `channel` ("sms" or
    "voice"): a one-time code, or (`kind="canary"`) a canary's SMS."""
    return Notification(
        incident_id=None,
        step=0,
        person=person,
        person_name=person_name,
        phone=phone,
        channel="voice" if channel == "voice" else "sms",
        body=text,
        status=PageState.PENDING,
        provider_index=0,
        round=0,
        next_attempt_at=now,
        kind=kind,
        created_at=now,
        updated_at=now,
    )


def forget_code(session: Session, notification_id: int, masked_text: str) -> Notification | None:
    """The row carrying a spent code keeps `masked_text` instead; one not yet sent is not sent."""
    n = outbox.get(session, notification_id)
    if n is not None:
        if n.status not in _TAKEN:
            n.status = check(n.status, PageState.CANCELLED)
        n.body = masked_text
    return n
