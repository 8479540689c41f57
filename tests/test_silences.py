"""Maintenance windows: alerts are stored and visible but page nobody while one is active."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from freezegun import freeze_time

from pager.app import build_pager
from pager.flows.context import Pager
from pager.web import create_app
from tests.conftest import make_settings
from tests.helpers import ALICE, payload, phone, run_due

API = {"Authorization": "Bearer api-token"}
AM = {"Authorization": "Bearer am-token"}
T0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


@pytest.fixture
def web(database_url: str) -> Iterator[tuple[Pager, FlaskClient]]:
    pager = build_pager(make_settings(database_url))
    yield pager, create_app(pager).test_client()
    pager.db.dispose()


def alert(client: FlaskClient, key: str) -> int:
    body = payload("alertmanager_firing.json")
    body["groupKey"] = key
    body["alerts"] = [dict(a, fingerprint=f"{key}-{i}") for i, a in enumerate(body["alerts"])]
    response = client.post("/integrations/payments-am", json=body, headers=AM)
    [incident_id] = response.json["opened"]
    return incident_id


def test_it_stores_but_does_not_page_alerts_during_a_maintenance_window(web) -> None:
    pager, client = web
    with freeze_time(T0):
        created = client.post(
            "/api/v1/silences",
            json={
                "service": "payments",
                "duration_minutes": 60,
                "reason": "db upgrade",
                "by": "dana",
            },
            headers=API,
        )
        assert created.status_code == 201
        assert created.json["ends_at"] == "2026-11-25T04:00:00+00:00"
        incident_id = alert(client, "during")
        run_due(pager, T0)
        detail = client.get(f"/api/v1/incidents/{incident_id}", headers=API).json
    assert detail["status"] == "triggered"
    assert detail["timeline"][-1]["message"] == (
        "in a maintenance window until 2026-11-25 04:00 UTC (db upgrade, by api (for dana)): "
        "nobody paged"
    )
    assert phone(pager, ALICE) == []
    later = T0 + timedelta(hours=2)
    with freeze_time(later):
        alert(client, "after")
        run_due(pager, later)
    # The one opened after the window, and the silenced one now that its window has ended.
    assert len(phone(pager, ALICE)) == 2


def test_it_ends_a_silence_early(web) -> None:
    pager, client = web
    with freeze_time(T0):
        silence = client.post(
            "/api/v1/silences",
            json={"service": "payments", "ends_at": "2026-11-25T05:00:00Z"},
            headers=API,
        ).json
        assert [s["id"] for s in client.get("/api/v1/silences", headers=API).json["silences"]] == [
            silence["id"]
        ]
        ended = client.delete(f"/api/v1/silences/{silence['id']}", headers=API)
        assert ended.json["ends_at"] == "2026-11-25T03:00:00+00:00"
        assert client.get("/api/v1/silences", headers=API).json == {"silences": [], "next": None}
        alert(client, "now")
        run_due(pager, T0)
    assert len(phone(pager, ALICE)) == 1
    assert client.delete("/api/v1/silences/999", headers=API).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"service": "nope", "duration_minutes": 5}, "service"),
        ({"duration_minutes": 5}, "service"),
        ({"service": "payments"}, "ends_at"),
        ({"service": "payments", "ends_at": "2026-11-25T05:00"}, "ends_at"),
        ({"service": "payments", "ends_at": "2026-11-25T02:00:00Z"}, "ends_at"),
        ({"service": "payments", "duration_minutes": 0}, "duration_minutes"),
        ({"service": "payments", "duration_minutes": 60 * 24 * 31}, "ends_at"),
    ],
)
def test_it_refuses_a_bad_silence_naming_the_field(web, body, field) -> None:
    _, client = web
    with freeze_time(T0):
        response = client.post("/api/v1/silences", json=body, headers=API)
    assert (response.status_code, response.json["field"]) == (400, field)


def test_it_honours_a_maintenance_window_planned_in_the_rotation_files(database_url: str) -> None:
    from pager.domain.rotation_schema import parse_schedule
    from tests.conftest import ROTATIONS

    text = (ROTATIONS / "team.yaml").read_text() + (
        "maintenance:\n"
        "  - {service: payments, from: 2026-11-25T02:00, to: 2026-11-25T04:00,\n"
        "     timezone: Europe/London, reason: planned db upgrade}\n"
    )
    schedule, problems = parse_schedule([("team.yaml", text)])
    assert problems == [] and schedule is not None
    pager = build_pager(make_settings(database_url))
    try:
        pager.rotations.schedule = schedule
        client = create_app(pager).test_client()
        with freeze_time(T0):
            incident_id = alert(client, "planned")
            run_due(pager, T0)
        detail = client.get(f"/api/v1/incidents/{incident_id}", headers=API).json
        assert detail["timeline"][-1]["message"] == (
            "in a planned maintenance window until 2026-11-25 04:00 UTC "
            "(planned db upgrade, in the rotation files): nobody paged"
        )
        assert phone(pager, ALICE) == []
    finally:
        pager.db.dispose()


def test_it_reports_a_bad_planned_window_with_its_line() -> None:
    from pager.domain.rotation_schema import parse_schedule
    from tests.conftest import ROTATIONS

    text = (ROTATIONS / "team.yaml").read_text() + (
        "maintenance:\n"
        "  - {service: payment, from: 2026-11-25T02:00, to: 2026-11-25T04:00, timezone: UTC}\n"
    )
    schedule, problems = parse_schedule([("team.yaml", text)])
    assert schedule is None
    assert [str(p) for p in problems][0].startswith("team.yaml:")
    assert "unknown service 'payment'" in str(problems[0])
