"""`POST /v2/enqueue` and `POST /v2/change/enqueue`: PagerDuty's Events API v2 (alerts) and
its Change Events API, answered as PagerDuty answers.

Point anything that talks to PagerDuty here (its events URL) and use an integration's token,
of an integration with `source: pagerduty`, as the routing key.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

from pager import metrics
from pager.config import IntegrationSettings
from pager.domain.jsonbody import JsonRefused, read_json
from pager.flows.changes import record_change
from pager.flows.context import utcnow
from pager.sources.pagerduty import InvalidEvent, read_change_event, read_event
from pager.sources.signatures import matches_any
from pager.web.errors import ApiError, pager
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


@blueprint.post("/v2/change/enqueue")
def enqueue_change() -> ResponseReturnValue:
    """A change to the routing key's service: stored (before the 202), shown on its incidents."""
    try:
        payload = read_json(request.get_data(cache=False), nul="drop")
    except JsonRefused as exc:
        return invalid_event([f"'{exc.field}': {exc.message}" if exc.field else NOT_JSON])
    try:
        change = read_change_event(payload)
    except InvalidEvent as exc:
        return invalid_event(exc.errors)
    integration = integration_for(change.routing_key)
    if integration is None:
        metrics.WEBHOOKS_REJECTED.labels("pagerduty", "routing_key").inc()
        return invalid_event(["Invalid routing key"])
    try:
        record_change(pager(), integration, change, utcnow())
    except SQLAlchemyError as exc:
        raise ApiError(503, "store_unavailable", "the change could not be stored; retry") from exc
    return jsonify(status="success", message="Change event processed"), 202


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
