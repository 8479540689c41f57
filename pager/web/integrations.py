"""`POST /integrations/<name>`: alerts in from Alertmanager, Grafana, CI, any JSON webhook.

Each source (pager.sources) says how its requests authenticate and what they mean; this view
only checks, reads, records and answers: 401 unauthenticated, 400 unreadable, 200 otherwise.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

from pager import metrics
from pager.config import IntegrationSettings
from pager.domain.jsonbody import JsonRefused, read_json
from pager.flows.context import utcnow
from pager.flows.intake import record_delivery
from pager.sources import REGISTRY, Delivery, Ignored, NotAuthenticated, Received, SourceError
from pager.web.errors import ApiError, pager

blueprint = Blueprint("integrations", __name__)

FORM = "application/x-www-form-urlencoded"


@blueprint.post("/integrations/<name>")
def receive(name: str) -> ResponseReturnValue:
    integration = pager().settings.integrations.get(name)
    if integration is None:
        metrics.WEBHOOKS_REJECTED.labels("integration", "unknown").inc()
        raise ApiError(404, "unknown_integration", f"no integration named '{name}'")
    source = REGISTRY[integration.source]
    delivery = Delivery.of(
        request.get_data(cache=False), dict(request.headers.items()), request.args.to_dict()
    )
    try:
        source.verify(delivery, integration, utcnow())
    except NotAuthenticated as exc:
        metrics.WEBHOOKS_REJECTED.labels("integration", "unauthenticated").inc()
        raise ApiError(401, "unauthorized", str(exc)) from exc
    try:
        received = source.read(delivery_json(delivery), delivery, integration)
    except Ignored as exc:
        return jsonify(status="ignored", reason=str(exc))
    except SourceError as exc:
        metrics.WEBHOOKS_REJECTED.labels("integration", "payload").inc()
        raise ApiError(400, "invalid_payload", exc.message, exc.field) from exc
    return jsonify(record(integration, received))


def record(integration: IntegrationSettings, received: Received) -> dict[str, Any]:
    """Store what the delivery says (before any 2xx) and say what it did."""
    try:
        result = record_delivery(pager(), integration, received, utcnow())
    except SQLAlchemyError as exc:
        # Not stored: a 5xx makes Alertmanager, Grafana and the others retry, so nothing is lost.
        raise ApiError(503, "store_unavailable", "the alert could not be stored; retry") from exc
    answer: dict[str, Any] = {
        "status": "ok",
        "alerts": len(received.events),
        "opened": result.opened,
        "updated": result.updated,
        "resolved": result.resolved,
    }
    if result.acknowledged is not None:
        answer["acknowledged"] = result.acknowledged
    return answer


def delivery_json(delivery: Delivery) -> Any:
    """The JSON a delivery carries: its body, or, form-encoded, its `payload` field (GitHub's
    default content type, `application/x-www-form-urlencoded`; signed over the raw body, which
    was checked before this)."""
    if not delivery.header("Content-Type").lower().startswith(FORM):
        return json_body(delivery.body)
    try:
        form = parse_qs(delivery.body.decode("utf-8"), strict_parsing=True)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError(400, "invalid_form", f"the form body can't be read: {exc}") from exc
    payload = form.get("payload")
    if payload is None or len(payload) != 1:
        raise ApiError(400, "invalid_form", "a form body needs one 'payload' field of JSON")
    return json_body(payload[0].encode())


def json_body(raw: bytes) -> Any:
    """The delivery's JSON, or a 400 naming what is wrong.

    NUL characters are dropped, not refused: a 4xx is final for Alertmanager and the others,
    and an alert stored without its NULs is better than an alert lost.
    """
    try:
        return read_json(raw, nul="drop")
    except JsonRefused as exc:
        raise ApiError(400, "invalid_json", exc.message, exc.field or None) from exc
