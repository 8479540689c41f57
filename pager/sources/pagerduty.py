"""PagerDuty Events API v2 events, so anything that can page through PagerDuty can use pager.

`routing_key` names the integration (its token), `event_action` is trigger, acknowledge or
resolve, and `dedup_key` identifies the alert: generated for a trigger without one, and returned.
Errors are collected, not raised one by one: PagerDuty answers with the list of them all.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pager.config import IntegrationSettings
from pager.domain.alerts import AlertEvent
from pager.sources import auth, fields
from pager.sources.delivery import Delivery, Received, bounded_fingerprint
from pager.sources.errors import SourceError

verify = auth.by_token  # on /integrations/<name>; /v2/enqueue matches the routing key instead

ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")
MAX_DEDUP_KEY = 255
MAX_SUMMARY = 1024
LABELLED = ("severity", "source", "component", "group", "class")


MAX_LINKS = 50
MAX_CHANGE_DETAILS = 16 * 1024  # characters of custom_details as JSON


@dataclass(frozen=True)
class ChangeEvent:
    """A change event (a deploy, a config push): context on a service's incidents; pages nobody."""

    routing_key: str
    summary: str
    source: str | None
    timestamp: datetime | None
    custom_details: dict[str, Any]
    links: tuple[tuple[str, str], ...]  # (href, text)


class InvalidEvent(SourceError):
    """The event breaks the Events API v2 rules; `errors` lists every rule broken."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("", "; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class PagerDutyEvent:
    routing_key: str
    action: str  # trigger | acknowledge | resolve
    dedup_key: str
    received: Received


def new_dedup_key() -> str:
    return uuid.uuid4().hex


def read(payload: Any, delivery: Delivery, integration: IntegrationSettings) -> Received:
    """An event posted to /integrations/<name> (the token already said which integration)."""
    return read_event(payload).received


def read_event(payload: Any, new_key: Callable[[], str] = new_dedup_key) -> PagerDutyEvent:
    """Check an Events API v2 event as PagerDuty does; raise InvalidEvent listing every error."""
    if not isinstance(payload, dict):
        raise InvalidEvent(["Event object must be a JSON object"])
    errors: list[str] = []
    routing_key = _text(payload, "routing_key", errors, required=True)
    action = _text(payload, "event_action", errors, required=True)
    if action is not None and action not in ACTIONS:
        errors.append(f"'event_action' is invalid (must be one of: {', '.join(ACTIONS)})")
    dedup_key = _text(payload, "dedup_key", errors, required=action in ("acknowledge", "resolve"))
    if dedup_key is not None and len(dedup_key) > MAX_DEDUP_KEY:
        errors.append(f"'dedup_key' is too long (maximum is {MAX_DEDUP_KEY} characters)")
    details = _trigger_details(payload, errors) if action == "trigger" else None
    if errors:
        raise InvalidEvent(errors)
    assert routing_key is not None and action is not None
    key = dedup_key or new_key()
    fingerprint = bounded_fingerprint(key)
    if action == "acknowledge":
        received = Received(acknowledge=(fingerprint,))
    elif action == "resolve":
        received = Received(events=(AlertEvent(fingerprint, "resolved", name=key[:500]),))
    else:
        assert details is not None
        received = Received(events=(_alert(fingerprint, payload, details),))
    return PagerDutyEvent(routing_key, action, key, received)


def _trigger_details(event: dict[str, Any], errors: list[str]) -> dict[str, str] | None:
    """The trigger's `payload` fields PagerDuty requires or we label, checked."""
    payload = event.get("payload")
    if not isinstance(payload, dict) or not payload:
        errors.append("'payload' is missing or blank" if not payload else "'payload' is invalid")
        return None
    found: dict[str, str] = {}
    for key in ("summary", *LABELLED):
        required = key in ("summary", "source", "severity")
        value = _text(payload, key, errors, required=required, path=f"payload.{key}")
        if value is not None:
            found[key] = value
    if len(found.get("summary", "")) > MAX_SUMMARY:
        errors.append(f"'payload.summary' is too long (maximum is {MAX_SUMMARY} characters)")
    if found.get("severity", "info") not in SEVERITIES:
        errors.append(f"'payload.severity' is invalid (must be one of: {', '.join(SEVERITIES)})")
    return found


def _alert(fingerprint: str, event: dict[str, Any], details: dict[str, str]) -> AlertEvent:
    payload = event["payload"]
    component = f" ({details['component']})" if "component" in details else ""
    client_url = event.get("client_url")
    return AlertEvent(
        fingerprint=fingerprint,
        status="firing",
        name=details["summary"][:500],
        summary=f"{details['severity']} on {details['source']}{component}",
        labels={key: details[key] for key in LABELLED if key in details},
        annotations=_custom_details(payload.get("custom_details"), event.get("client")),
        starts_at=_timestamp(payload.get("timestamp")),
        generator_url=client_url if isinstance(client_url, str) and client_url else None,
    )


def _custom_details(value: Any, client: Any) -> dict[str, str]:
    details = value if isinstance(value, dict) else ({"details": value} if value else {})
    shown = {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in details.items()}
    if isinstance(client, str) and client:
        shown.setdefault("client", client)
    return shown


def _timestamp(value: Any) -> datetime | None:
    # Informational only: a timestamp we can't read must not cost the alert (PagerDuty would
    # stamp its own).
    try:
        return fields.time(value, "payload.timestamp")
    except SourceError:
        return None


def _text(
    body: dict[str, Any], key: str, errors: list[str], *, required: bool, path: str = ""
) -> str | None:
    name = path or key
    value = body.get(key)
    if value is None or value == "":
        if required:
            errors.append(f"'{name}' is missing or blank")
        return None
    if not isinstance(value, str):
        errors.append(f"'{name}' must be a string")
        return None
    return value


def read_change_event(payload: Any) -> ChangeEvent:
    """Check a Change Events API event as PagerDuty documents it; InvalidEvent lists every error."""
    if not isinstance(payload, dict):
        raise InvalidEvent(["Event object must be a JSON object"])
    errors: list[str] = []
    routing_key = _text(payload, "routing_key", errors, required=True)
    body = payload.get("payload")
    if not isinstance(body, dict) or not body:
        errors.append("'payload' is missing or blank" if not body else "'payload' is invalid")
        body = {}
    summary = _text(body, "summary", errors, required=bool(body), path="payload.summary")
    if summary is not None and len(summary) > MAX_SUMMARY:
        errors.append(f"'payload.summary' is too long (maximum is {MAX_SUMMARY} characters)")
    source = _text(body, "source", errors, required=False, path="payload.source")
    details = body.get("custom_details") or {}
    if not isinstance(details, dict):
        errors.append("'payload.custom_details' must be an object")
        details = {}
    elif len(json.dumps(details)) > MAX_CHANGE_DETAILS:
        errors.append(
            f"'payload.custom_details' is too large (maximum {MAX_CHANGE_DETAILS} characters)"
        )
    links = _links(payload.get("links"), errors)
    if errors:
        raise InvalidEvent(errors)
    assert routing_key is not None and summary is not None
    return ChangeEvent(
        routing_key, summary, source, _timestamp(body.get("timestamp")), details, links
    )


def _links(value: Any, errors: list[str]) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_LINKS:
        errors.append(f"'links' must be a list of at most {MAX_LINKS} links")
        return ()
    found = []
    for n, link in enumerate(value):
        href = link.get("href") if isinstance(link, dict) else None
        text = link.get("text") if isinstance(link, dict) else None
        if not isinstance(href, str) or not href or len(href) > 2000:
            errors.append(f"'links[{n}].href' is missing or invalid")
        elif text is not None and not isinstance(text, str):
            errors.append(f"'links[{n}].text' must be a string")
        else:
            found.append((href, (text or "")[:500]))
    return tuple(found)
