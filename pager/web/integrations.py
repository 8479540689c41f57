"""`POST /integrations/<name>`: alerts in from Alertmanager, Grafana..."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

from pager import metrics
from pager.flows.context import utcnow
from pager.flows.intake import receive_alerts
from pager.sources import PARSERS, SourceError
from pager.web.auth import presented_token, token_matches
from pager.web.errors import ApiError, pager

blueprint = Blueprint("integrations", __name__)


@blueprint.post("/integrations/<name>")
def receive(name: str) -> ResponseReturnValue:
    integration = pager().settings.integrations.get(name)
    if integration is None:
        metrics.WEBHOOKS_REJECTED.labels("integration", "unknown").inc()
        raise ApiError(404, "unknown_integration", f"no integration named '{name}'")
    if not token_matches(presented_token(), [integration.token or ""]):
        metrics.WEBHOOKS_REJECTED.labels("integration", "token").inc()
        raise ApiError(
            401, "unauthorized", "missing or wrong token (Authorization: Bearer <token>)"
        )
    payload = _json_body()
    try:
        events = PARSERS[integration.source](payload)
    except SourceError as exc:
        metrics.WEBHOOKS_REJECTED.labels("integration", "payload").inc()
        raise ApiError(400, "invalid_payload", exc.message, exc.field) from exc
    try:
        result = receive_alerts(pager(), integration, events, utcnow())
    except SQLAlchemyError as exc:
        # Not stored: a 5xx makes Alertmanager and Grafana retry, so nothing is lost.
        raise ApiError(503, "store_unavailable", "the alert could not be stored; retry") from exc
    return jsonify(
        status="ok",
        alerts=len(events),
        opened=result.opened,
        updated=result.updated,
        resolved=result.resolved,
    )


def _json_body() -> Any:
    raw = request.get_data(cache=False)
    if not raw.strip():
        raise ApiError(400, "invalid_json", "empty body: expected a JSON object")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "invalid_json", f"body is not valid JSON: {exc}") from exc
