"""`GET /sandbox`: pretend phones for the sandbox provider, so the quick start needs no account.

Replies typed here go to `/providers/<name>/inbound` like any provider's webhook would.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from pager.flows import sandbox_phones
from pager.providers.sandbox import SandboxProvider
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
    shown = sandbox_phones.phones(pager(), provider)
    return render_template(
        "sandbox.html",
        provider=provider,
        phones=shown.by_number,
        people=shown.people,
        live_calls=shown.live_calls,
    )


@blueprint.get("/sandbox/messages.json")
def messages_json() -> ResponseReturnValue:
    _sandbox()
    messages = sandbox_phones.recent_messages(pager())
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
