"""`POST /v2/enqueue` and `POST /v2/change/enqueue`: PagerDuty's Events API v2 (alerts) and
its Change Events API, answered as PagerDuty answers.

Point anything that talks to PagerDuty here (its events URL) and use an integration's token,
of an integration with `source: pagerduty`, as the routing key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

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


class _Routed(Protocol):
    """An event that names its integration by `routing_key` (alert and change events)."""

    @property
    def routing_key(self) -> str: ...


E = TypeVar("E", bound=_Routed)


class _Refused(Exception):
    """The request is refused with PagerDuty's 400 listing `errors`."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def _routed(read: Callable[[Any], E]) -> tuple[IntegrationSettings, E]:
    """The request's event, read by `read` (PagerDuty's rules), and the integration its
    routing key names; _Refused with what PagerDuty would answer otherwise."""
    try:
        payload = read_json(request.get_data(cache=False), nul="drop")
    except JsonRefused as exc:
        # PagerDuty's own words for a body that is not JSON; ours for a field we can't store.
        raise _Refused([f"'{exc.field}': {exc.message}" if exc.field else NOT_JSON]) from None
    try:
        event = read(payload)
    except InvalidEvent as exc:
        raise _Refused(exc.errors) from None
    integration = integration_for(event.routing_key)
    if integration is None:
        metrics.WEBHOOKS_REJECTED.labels("pagerduty", "routing_key").inc()
        raise _Refused(["Invalid routing key"])
    return integration, event


@blueprint.post("/v2/enqueue")
def enqueue() -> ResponseReturnValue:
    try:
        integration, event = _routed(read_event)
    except _Refused as refused:
        return invalid_event(refused.errors)
    record(integration, event.received)
    return jsonify(status="success", message="Event processed", dedup_key=event.dedup_key), 202


@blueprint.post("/v2/change/enqueue")
def enqueue_change() -> ResponseReturnValue:
    """A change to the routing key's service: stored (before the 202), shown on its incidents."""
    try:
        integration, change = _routed(read_change_event)
    except _Refused as refused:
        return invalid_event(refused.errors)
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
