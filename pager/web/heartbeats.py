"""`POST /heartbeat/<name>` (GET works too, for `curl` in cron): "I am still alive"."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from pager.flows.context import utcnow
from pager.flows.heartbeats import heard
from pager.web.auth import presented_token, token_matches
from pager.web.errors import ApiError, pager

blueprint = Blueprint("heartbeats", __name__)


@blueprint.route("/heartbeat/<name>", methods=["GET", "POST"])
def beat(name: str) -> ResponseReturnValue:
    settings = pager().settings.heartbeats.get(name)
    if settings is None:
        raise ApiError(404, "unknown_heartbeat", f"no heartbeat named '{name}'")
    if not token_matches(presented_token(), [settings.token or ""]):
        raise ApiError(
            401, "unauthorized", "missing or wrong token (Authorization: Bearer <token>)"
        )
    due = heard(pager(), settings, utcnow())
    return jsonify(status="ok", heartbeat=name, next_due=due.isoformat())
