"""Each body `/api/v1` reads is declared once (`web/api_bodies.py`); the declarations agree with
the published OpenAPI document, and the API answers their refusals as JSON 400s naming the
field."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from freezegun import freeze_time

from pager.app import build_pager
from pager.domain.body_schema import BodySchema
from pager.flows.context import Pager
from pager.web import create_app
from pager.web.api_bodies import ACTOR, NOTE, SILENCE
from pager.web.openapi import document
from tests.conftest import make_settings
from tests.test_silences import API, T0, alert

BODY_OF_OPERATION: dict[str, BodySchema[Any]] = {
    "acknowledgeIncident": ACTOR,
    "unacknowledgeIncident": ACTOR,
    "resolveIncident": ACTOR,
    "escalateIncident": ACTOR,
    "addIncidentNote": NOTE,
    "addSilence": SILENCE,
}


@pytest.fixture
def web(sqlite_url: str) -> Iterator[tuple[Pager, FlaskClient]]:
    pager = build_pager(make_settings(sqlite_url))
    yield pager, create_app(pager).test_client()
    pager.db.dispose()


COMPARED = ("type", "format", "minLength", "maxLength", "minimum", "enum")


def _resolved(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """`node`, or what its `$ref` (within `spec`) points at."""
    while "$ref" in node:
        path = node["$ref"].removeprefix("#/").split("/")
        node = spec
        for part in path:
            node = node[part]
    return node


def _published_body(operation_id: str) -> dict[str, Any]:
    spec: dict[str, Any] = document()
    for methods in spec["paths"].values():
        for operation in methods.values():
            if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                body = _resolved(spec, operation["requestBody"])
                return _resolved(spec, body["content"]["application/json"]["schema"])
    raise AssertionError(f"no operation {operation_id} in docs/openapi.yaml")


@pytest.mark.parametrize("operation_id", sorted(BODY_OF_OPERATION))
def test_it_declares_each_body_as_the_openapi_document_publishes_it(operation_id: str) -> None:
    published = _published_body(operation_id)
    declared = BODY_OF_OPERATION[operation_id].openapi()
    assert sorted(published.get("required", [])) == sorted(declared.get("required", []))
    shown = {
        name: {key: value for key, value in field.items() if key in COMPARED}
        for name, field in published["properties"].items()
    }
    assert shown == declared["properties"]


def test_it_names_every_json_body_the_api_documents() -> None:
    """A new JSON body in the document needs its declaration here (and in the view)."""
    spec: dict[str, Any] = document()
    with_json_bodies = {
        operation["operationId"]
        for path, methods in spec["paths"].items()
        if path.startswith("/api/v1/")
        for operation in methods.values()
        if isinstance(operation, dict) and "requestBody" in operation
    }
    assert with_json_bodies == set(BODY_OF_OPERATION)


@pytest.mark.parametrize(
    ("path", "body", "field", "message"),
    [
        ("notes", {}, "text", "'text' is required"),
        ("notes", {"text": " "}, "text", "'text' must be a note of 1 to 2000 characters"),
        ("notes", {"text": "x" * 2001}, "text", "'text' must be a note of 1 to 2000 characters"),
        ("notes", {"text": "ok", "by": ""}, "by", "'by' must be a name of 1 to 100 characters"),
        ("ack", {"by": ["alice"]}, "by", "'by' must be a name of 1 to 100 characters"),
        ("resolve", {"by": "x" * 101}, "by", "'by' must be a name of 1 to 100 characters"),
    ],
)
def test_it_answers_a_bad_incident_body_with_400_naming_the_field(
    web: Any, path: str, body: dict[str, Any], field: str, message: str
) -> None:
    _, client = web
    with freeze_time(T0):
        incident_id = alert(client, "bodies")
        response = client.post(f"/api/v1/incidents/{incident_id}/{path}", json=body, headers=API)
    assert response.status_code == 400
    assert response.json == {"error": "invalid_field", "message": message, "field": field}


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"duration_minutes": 5}, "service", "'service' is required"),
        (
            {"service": "", "duration_minutes": 5},
            "service",
            "'service' must be a service name of 1 to 200 characters",
        ),
        ({"service": "payments"}, "ends_at", "'ends_at' is required (or 'duration_minutes')"),
        (
            {"service": "payments", "duration_minutes": "5"},
            "duration_minutes",
            "'duration_minutes' must be a positive whole number",
        ),
        (
            {"service": "payments", "starts_at": "2026-11-25", "duration_minutes": 5},
            "starts_at",
            "'starts_at' needs a UTC offset (or Z)",
        ),
        (
            {"service": "payments", "duration_minutes": 5, "reason": 1},
            "reason",
            "'reason' must be text",
        ),
    ],
)
def test_it_answers_a_bad_silence_with_400_naming_the_field(
    web: Any, body: dict[str, Any], field: str, message: str
) -> None:
    _, client = web
    with freeze_time(T0):
        response = client.post("/api/v1/silences", json=body, headers=API)
    assert response.status_code == 400
    assert response.json == {"error": "invalid_field", "message": message, "field": field}
