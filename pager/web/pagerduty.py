"""`POST /v2/enqueue`: PagerDuty's Events API v2, answered exactly as PagerDuty answers.

Point anything that talks to PagerDuty here (its events URL) and use an integration's token,
of an integration with `source: pagerduty`, as the routing key.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from pager import metrics
from pager.config import IntegrationSettings
from pager.domain.jsonbody import JsonRefused, read_json
from pager.sources.pagerduty import InvalidEvent, read_event
from pager.sources.signatures import matches_any
from pager.web.errors import pager
from pager.web.integrations import record

blueprint = Blueprint("pagerduty", __name__)
NOT_JSON = "Event object is not valid JSON"


@blueprint.post("/v2/enqueue")
def enqueue() -> ResponseReturnValue:
    try:
        payload = read_json(request.get_data(cache=False), nul="drop")
    except JsonRefused as exc:
        # PagerDuty's own words for a body that is not JSON; ours for a field we can't store.
        return invalid_event([f"'{exc.field}': {exc.message}" if exc.field else NOT_JSON])
    try:
        event = read_event(payload)
    except InvalidEvent as exc:
        return invalid_event(exc.errors)
    integration = integration_for(event.routing_key)
    if integration is None:
        metrics.WEBHOOKS_REJECTED.labels("pagerduty", "routing_key").inc()
        return invalid_event(["Invalid routing key"])
    record(integration, event.received)
    return jsonify(status="success", message="Event processed", dedup_key=event.dedup_key), 202


def integration_for(routing_key: str) -> IntegrationSettings | None:
    """The pagerduty integration whose token is `routing_key` (each compared in constant time)."""
    found = None
    for integration in pager().settings.integrations.values():
        if integration.source == "pagerduty" and matches_any(routing_key, [integration.token]):
            found = integration
    return found


def invalid_event(errors: list[str]) -> ResponseReturnValue:
    metrics.WEBHOOKS_REJECTED.labels("pagerduty", "payload").inc()
    body = {"status": "invalid event", "message": "Event object is invalid", "errors": errors}
    return jsonify(body), 400
