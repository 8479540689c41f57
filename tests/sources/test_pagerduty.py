"""PagerDuty Events API v2: trigger, acknowledge, resolve, and every error listed at once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pager.sources.pagerduty import InvalidEvent, read_event
from tests.helpers import payload


def errors(body: object) -> list[str]:
    with pytest.raises(InvalidEvent) as caught:
        read_event(body)
    return caught.value.errors


def test_it_reads_a_trigger_into_a_firing_alert_keyed_by_its_dedup_key() -> None:
    event = read_event(payload("pagerduty_trigger.json"))
    assert (event.routing_key, event.action, event.dedup_key) == (
        "R0UTINGKEY0FTHEPAYMENTSSERVICE01",
        "trigger",
        "queue-depth/settlements/prod",
    )
    [alert] = event.received.events
    assert (alert.fingerprint, alert.status) == ("queue-depth/settlements/prod", "firing")
    assert alert.name == "Settlement queue depth above 5000 for 10 minutes"
    assert alert.summary == "critical on queue-monitor.prod.example.com (settlements-queue)"
    assert dict(alert.labels) == {
        "severity": "critical",
        "source": "queue-monitor.prod.example.com",
        "component": "settlements-queue",
        "group": "payments-prod",
        "class": "queue depth",
    }
    assert dict(alert.annotations) == {
        "depth": "5831",
        "threshold": "5000",
        "consumers": "2 of 6 healthy",
        "client": "Queue Monitor",
    }
    assert alert.starts_at == datetime(2026, 11, 25, 3, 14, 7, 512000, tzinfo=UTC)
    assert alert.generator_url == "https://queue-monitor.example.com/queues/settlements"


def test_it_makes_a_dedup_key_for_a_trigger_without_one() -> None:
    body = payload("pagerduty_trigger.json")
    del body["dedup_key"]
    event = read_event(body, new_key=lambda: "f3b0c44298fc1c149afbf4c8996fb924")
    assert event.dedup_key == "f3b0c44298fc1c149afbf4c8996fb924"
    assert event.received.events[0].fingerprint == event.dedup_key
    assert len(read_event(body).dedup_key) == 32


def test_it_reads_acknowledge_and_resolve_by_dedup_key() -> None:
    acknowledge = read_event(payload("pagerduty_acknowledge.json"))
    assert acknowledge.received.acknowledge == ("queue-depth/settlements/prod",)
    assert acknowledge.received.events == ()
    [resolved] = read_event(payload("pagerduty_resolve.json")).received.events
    assert (resolved.fingerprint, resolved.status) == ("queue-depth/settlements/prod", "resolved")


def test_it_lists_every_error_as_pagerduty_does() -> None:
    assert errors({}) == ["'routing_key' is missing or blank", "'event_action' is missing or blank"]
    assert errors({"routing_key": "k", "event_action": "trigger"}) == [
        "'payload' is missing or blank"
    ]
    assert errors({"routing_key": "k", "event_action": "trigger", "payload": {"summary": "x"}}) == [
        "'payload.severity' is missing or blank",
        "'payload.source' is missing or blank",
    ]
    bad = {"routing_key": "k", "event_action": "trigger", "dedup_key": "d" * 256}
    bad["payload"] = {"summary": "s" * 1025, "source": "h", "severity": "fatal", "class": 3}
    assert errors(bad) == [
        "'dedup_key' is too long (maximum is 255 characters)",
        "'payload.class' must be a string",
        "'payload.summary' is too long (maximum is 1024 characters)",
        "'payload.severity' is invalid (must be one of: critical, error, warning, info)",
    ]
    assert errors({"routing_key": "k", "event_action": "snooze"}) == [
        "'event_action' is invalid (must be one of: trigger, acknowledge, resolve)"
    ]
    assert errors({"routing_key": "k", "event_action": "resolve"}) == [
        "'dedup_key' is missing or blank"
    ]
    assert errors([1]) == ["Event object must be a JSON object"]


def test_it_keeps_an_alert_whose_timestamp_it_cannot_read() -> None:
    body = payload("pagerduty_trigger.json")
    body["payload"]["timestamp"] = "last tuesday"
    assert read_event(body).received.events[0].starts_at is None


def test_it_hashes_dedup_keys_longer_than_the_fingerprint_column() -> None:
    body = payload("pagerduty_resolve.json")
    body["dedup_key"] = "x" * 255
    event = read_event(body)
    assert event.dedup_key == "x" * 255
    fingerprint = event.received.events[0].fingerprint
    assert len(fingerprint) == 200
    assert fingerprint.startswith("x" * 128 + "~sha256:")
