"""Heartbeats: a quiet check-in opens an incident (and pages), the next beat resolves it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from freezegun import freeze_time

from pager.app import build_pager
from pager.config import HeartbeatSettings
from pager.flows import incidents
from pager.flows.context import Pager
from pager.flows.heartbeats import check_heartbeats
from pager.web import create_app
from tests.conftest import make_settings
from tests.helpers import ALICE, phone, run_due

T0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
WATCHDOG = HeartbeatSettings("watchdog", "payments", timedelta(minutes=5), "beat-token")


@pytest.fixture
def web(database_url: str) -> Iterator[tuple[Pager, FlaskClient]]:
    settings = replace(make_settings(database_url), heartbeats={"watchdog": WATCHDOG})
    with freeze_time(T0):
        pager = build_pager(settings)
    yield pager, create_app(pager).test_client()
    pager.db.dispose()


def test_it_opens_an_incident_when_a_heartbeat_goes_quiet_and_resolves_it_on_the_next_beat(
    web,
) -> None:
    pager, client = web
    with freeze_time(T0 + timedelta(minutes=4)):
        beat = client.post("/heartbeat/watchdog", headers={"Authorization": "Bearer beat-token"})
        assert beat.json == {
            "status": "ok",
            "heartbeat": "watchdog",
            "next_due": "2026-11-25T03:09:00+00:00",
        }
    assert check_heartbeats(pager, T0 + timedelta(minutes=8, seconds=59)) == []
    late = T0 + timedelta(minutes=9)
    with freeze_time(late):
        assert check_heartbeats(pager, late) == ["watchdog"]
        assert (
            check_heartbeats(pager, late + timedelta(minutes=1)) == []
        )  # one incident, not one a tick
        run_due(pager, late)
    [view] = incidents.listing(pager, "triggered")
    assert (view.service, view.title) == ("payments", "Heartbeat watchdog missed")
    assert phone(pager, ALICE)[0].body.startswith(
        f"[pager] #{view.id} payments: Heartbeat watchdog missed"
    )

    with freeze_time(late + timedelta(minutes=2)):
        assert client.get("/heartbeat/watchdog?token=beat-token").status_code == 200
    assert incidents.view(pager, view.id).status == "resolved"


def test_it_is_due_one_interval_after_start_up_even_if_it_never_beat(web) -> None:
    pager, _ = web
    assert check_heartbeats(pager, T0 + timedelta(minutes=4)) == []
    assert check_heartbeats(pager, T0 + timedelta(minutes=5)) == ["watchdog"]


def test_it_refuses_a_wrong_token_and_an_unknown_heartbeat(web) -> None:
    _, client = web
    assert client.post("/heartbeat/watchdog?token=nope").status_code == 401
    assert client.post("/heartbeat/nope?token=beat-token").status_code == 404
