"""The generic JSON webhook: its documented shape, and any JSON through a field mapping."""

from __future__ import annotations

from typing import Any

import pytest

from pager.config import FieldMapping, IntegrationSettings
from pager.domain.alerts import fingerprint_of
from pager.sources.delivery import Delivery, Received
from pager.sources.errors import Ignored, SourceError
from pager.sources.generic import read, read_path
from tests.helpers import payload

PLAIN = IntegrationSettings("backups", "payments", "generic", "gen-token")
MAPPING = FieldMapping(
    id=("incident", "key"),
    title=("incident", "name"),
    status=("state",),
    summary=("incident", "description"),
    labels=("incident", "tags"),
    url=("incident", "url"),
    firing=("open", "Triggered"),
    resolved=("closed",),
)
MAPPED = IntegrationSettings("status-page", "payments", "generic", "t", mapping=MAPPING)


def generic(body: Any, integration: IntegrationSettings = PLAIN) -> Received:
    return read(body, Delivery.of(b"", {}), integration)


def test_it_reads_a_list_of_alerts() -> None:
    first, second = generic(payload("generic_alerts.json")).events
    assert (first.fingerprint, first.status, first.name) == (
        "backup-db-1",
        "firing",
        "Nightly backup missing",
    )
    assert first.summary == "No backup of db-1 since 2026-11-24 02:00 UTC"
    assert dict(first.labels) == {"host": "db-1", "team": "data"}
    assert first.generator_url == "https://backups.example.com/db-1"
    assert second.fingerprint == "backup-db-2"


def test_it_reads_a_single_alert_and_defaults_to_firing() -> None:
    [event] = generic(payload("generic_single.json")).events
    assert (event.fingerprint, event.status) == ("cert-expiry/api.example.com", "firing")
    [minimal] = generic({"title": "Disk full", "labels": {"host": "a"}}).events
    assert minimal.status == "firing"
    assert minimal.fingerprint == fingerprint_of({"title": "Disk full", "host": "a"})
    [resolved] = generic(
        {"title": "Disk full", "labels": {"host": "a"}, "status": "resolved"}
    ).events
    assert resolved.fingerprint == minimal.fingerprint


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"alerts": {}}, "alerts", "expected a list of alerts"),
        ({"alerts": [{}]}, "alerts[0].title", "missing: expected a non-empty string"),
        ({"title": "t", "status": "open"}, "status", "expected 'firing' or 'resolved', got 'open'"),
        ({"title": "t", "labels": {"a": 1}}, "labels", "expected an object of string values"),
        ({"title": "t", "id": {"k": 1}}, "id", "expected a string, got dict"),
    ],
)
def test_it_names_what_is_wrong_with_the_documented_shape(body, field, message) -> None:
    with pytest.raises(SourceError) as caught:
        generic(body)
    assert (caught.value.field, caught.value.message) == (field, message)


def test_it_reads_any_json_through_the_integration_mapping() -> None:
    [event] = generic(payload("generic_mapped.json"), MAPPED).events
    assert (event.fingerprint, event.status, event.name) == (
        "INC-20731",
        "firing",
        "Status page: card payments degraded",
    )
    assert event.summary == "Elevated card payment failures in EU"
    assert dict(event.labels) == {"region": "eu", "impact": "major"}
    assert event.generator_url == "https://status.example.com/incidents/20731"
    closed = payload("generic_mapped.json")
    closed["state"] = "closed"
    [resolved] = generic(closed, MAPPED).events
    assert (resolved.fingerprint, resolved.status) == ("INC-20731", "resolved")


def test_it_ignores_states_the_mapping_does_not_name_and_names_missing_paths() -> None:
    body = payload("generic_mapped.json")
    body["state"] = "acknowledged"
    with pytest.raises(Ignored) as ignored:
        generic(body, MAPPED)
    assert str(ignored.value) == (
        "$.state is 'acknowledged': neither firing (open, Triggered) nor resolved (closed)"
    )
    del body["incident"]["name"]
    with pytest.raises(SourceError) as caught:
        generic(body, MAPPED)
    assert (caught.value.field, caught.value.message) == (
        "$.incident.name",
        "missing: the integration's mapping reads it here",
    )


def test_it_reads_dotted_paths_through_objects_and_lists() -> None:
    document = {"a": {"b": [{"c": "deep"}, 7]}}
    assert read_path(document, ("a", "b", "0", "c")) == "deep"
    assert read_path(document, ("a", "b", "1")) == 7
    assert read_path(document, ("a", "b", "2")) is None
    assert read_path(document, ("a", "x", "c")) is None
    assert read_path(document, ("a", "b", "c")) is None
    assert read_path("text", ("a",)) is None
