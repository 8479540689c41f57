"""`GET /sandbox`: pretend phones for the sandbox provider, so the quick start needs no account.

Replies typed here go to `/providers/<name>/inbound` like any provider's webhook would.
"""

from __future__ import annotations

from collections import defaultdict

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from pager.flows.feedback import calls_taking_keys
from pager.providers.sandbox import SandboxProvider
from pager.store import sandbox as sandbox_store
from pager.store.models import SandboxMessage
from pager.web.auth import token_matches
from pager.web.errors import ApiError, pager

blueprint = Blueprint("sandbox", __name__)


def _sandbox() -> SandboxProvider:
    found = next((p for p in pager().providers if isinstance(p, SandboxProvider)), None)
    if found is None:
        raise ApiError(404, "no_sandbox", "no sandbox provider is configured")
    if not token_matches(request.args.get("token", ""), [found.token]):
        raise ApiError(401, "unauthorized", "open the sandbox with the URL `pager serve` printed")
    return found


@blueprint.get("/sandbox")
def phones() -> ResponseReturnValue:
    provider = _sandbox()
    with pager().db.transaction() as session:
        messages = sandbox_store.recent(session)
    by_number: dict[str, list[SandboxMessage]] = defaultdict(list)
    schedule = pager().rotations.schedule
    people = {p.phone: p.name for p in schedule.people.values()} if schedule else {}
    for phone in people:
        by_number[phone]
    for message in messages:
        by_number[message.number].append(message)
    calls = [
        m.provider_message_id for m in messages if m.channel == "voice" and m.direction == "out"
    ]
    return render_template(
        "sandbox.html",
        provider=provider,
        phones=sorted(by_number.items()),
        people=people,
        live_calls=calls_taking_keys(pager(), provider.name, calls),
    )


@blueprint.get("/sandbox/messages.json")
def messages_json() -> ResponseReturnValue:
    _sandbox()
    with pager().db.transaction() as session:
        messages = sandbox_store.recent(session)
    return {
        "messages": [
            {
                "at": m.at.isoformat(),
                "number": m.number,
                "direction": m.direction,
                "channel": m.channel,
                "body": m.body,
                "id": m.provider_message_id,
            }
            for m in messages
        ]
    }
