"""A sender per carrier: `routing: {"carrier:Vodafone UK": [...]}`, with the carrier of each
on-call number looked up by the runner (Twilio Lookup v2 through the real SDK, against a fake on
127.0.0.1) and the page sent through the real Twilio SDK to a fake Twilio, From the number of
the provider entry the carrier route names."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED
from freezegun import freeze_time

from pager.app import build_pager
from pager.config import ConfigError, ProviderSettings, load_settings
from pager.flows import incidents
from pager.flows.carriers import refresh_carriers
from pager.flows.context import Pager
from pager.scheduler import Runner
from pager.store import number_lookups
from tests.conftest import make_settings, twilio_settings
from tests.fakes.lookups import FakeTwilioLookups, Line
from tests.fakes.twilio import FakeTwilio
from tests.helpers import ALICE, BOB, payload, receive, run_due

T0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
PREFIX_FROM = "+15017122661"  # twilio_settings' `from`
VODAFONE_FROM = "+447700900500"
TEAM = """\
people:
  alice:
    {name: Alice Example, phone: "+447700900101", timezone: Europe/London, handoff_notices: false}
  bob:
    {name: Bob Example, phone: "+447700900102", timezone: Europe/London, handoff_notices: false}
rotations:
  primary: {timezone: Europe/London, start: 2026-01-05T09:00, shift: 1w, members: [alice, bob]}
policies:
  both:
    steps:
      - {targets: [person:alice, person:bob], channels: [sms], wait: 5m}
services:
  payments: {policy: both}
"""
ROUTING = {"carrier:Vodafone UK": ("twilio_vf",), "+44": ("twilio",)}


@pytest.fixture
def lookups() -> Iterator[FakeTwilioLookups]:
    with FakeTwilioLookups() as fake:
        yield fake


@pytest.fixture
def carrier_pager(
    database_url: str, tmp_path: Path, fake_twilio: FakeTwilio, lookups: FakeTwilioLookups
) -> Iterator[Pager]:
    """Two entries for one Twilio account, each with its own `from`, routed by carrier."""
    rotations = tmp_path / "rotations"
    rotations.mkdir()
    (rotations / "team.yaml").write_text(TEAM)
    by_prefix, by_carrier = (
        _with_lookups(twilio_settings(fake_twilio, name), lookups)
        for name in ("twilio", "twilio_vf")
    )
    by_carrier = replace(by_carrier, options={**by_carrier.options, "from": VODAFONE_FROM})
    settings = make_settings(
        database_url, by_prefix, by_carrier, rotations=rotations, routing=ROUTING
    )
    pager = build_pager(settings)
    yield pager
    pager.db.dispose()


def _with_lookups(provider: ProviderSettings, fake: FakeTwilioLookups) -> ProviderSettings:
    return replace(provider, options={**provider.options, "lookups_base_url": fake.base_url})


def page_both(pager: Pager, twilio: FakeTwilio, at: datetime) -> tuple[int, dict[str, str]]:
    """Open an incident that SMSes Alice and Bob; who got an SMS from which number."""
    seen = len(twilio.messages)
    with freeze_time(at):
        [incident_id] = receive(
            pager, "payments-am", payload("alertmanager_firing.json"), at
        ).opened
        run_due(pager, at)
    sent = twilio.wait_for_messages(seen + 2)[seen:]
    return incident_id, {sms["To"]: sms["From"] for sms in sent}


def resolve(pager: Pager, at: datetime) -> None:
    with freeze_time(at):
        receive(pager, "payments-am", payload("alertmanager_resolved.json"), at)


def timeline(pager: Pager, incident_id: int) -> list[str]:
    return [e.message for e in incidents.view(pager, incident_id).timeline]


def test_it_sends_from_the_number_of_the_carrier_s_route(carrier_pager, fake_twilio, lookups):
    lookups.lines[ALICE] = Line("mobile", "Vodafone UK")

    with freeze_time(T0):
        assert refresh_carriers(carrier_pager, T0) == 2

    incident_id, senders = page_both(carrier_pager, fake_twilio, T0)
    assert senders == {ALICE: VODAFONE_FROM, BOB: PREFIX_FROM}
    messages = timeline(carrier_pager, incident_id)
    assert (
        'sms to Alice Example (+44******0101) sent via twilio_vf (routing "carrier:Vodafone UK")'
        in messages
    )
    assert "sms to Bob Example (+44******0102) sent via twilio" in messages
    with carrier_pager.db.read() as session:
        alice, bob = number_lookups.get(session, ALICE), number_lookups.get(session, BOB)
        assert alice is not None and bob is not None
        found = (alice.carrier, alice.line_type, alice.valid, alice.source, alice.looked_up_at)
        assert found == ("Vodafone UK", "mobile", True, "twilio", T0)
        assert bob.carrier is None  # Twilio knew nothing of its carrier: the prefix route


def test_it_routes_by_prefix_while_a_lookup_fails_and_tries_again_next_time(
    carrier_pager, fake_twilio, lookups, caplog
):
    lookups.lines[ALICE] = Line("mobile", "Vodafone UK")
    lookups.fail_next = 1  # Alice's number is looked up first

    with caplog.at_level(logging.WARNING, logger="pager.flows.carriers"), freeze_time(T0):
        assert refresh_carriers(carrier_pager, T0) == 1

    [failed] = [r.getMessage() for r in caplog.records]
    assert failed == (
        "event=carrier_lookup_failed provider=twilio to=+44******0101 code=20500 permanent=False"
    )
    _, senders = page_both(carrier_pager, fake_twilio, T0)
    assert senders == {ALICE: PREFIX_FROM, BOB: PREFIX_FROM}
    resolve(carrier_pager, T0 + timedelta(minutes=1))

    later = T0 + timedelta(minutes=10)
    with freeze_time(later):
        assert refresh_carriers(carrier_pager, later) == 1  # Alice's only: Bob's is fresh
    _, senders = page_both(carrier_pager, fake_twilio, later + timedelta(minutes=1))
    assert senders == {ALICE: VODAFONE_FROM, BOB: PREFIX_FROM}


def test_it_looks_a_number_up_again_only_after_30_days(carrier_pager, lookups):
    with freeze_time(T0):
        assert refresh_carriers(carrier_pager, T0) == 2
    lookups.lines[ALICE] = Line("mobile", "Vodafone UK")  # ported since

    at = T0 + timedelta(days=29, hours=23)
    with freeze_time(at):
        assert refresh_carriers(carrier_pager, at) == 0
    assert len(lookups.requests) == 2

    at = T0 + timedelta(days=30, minutes=1)
    with freeze_time(at):
        assert refresh_carriers(carrier_pager, at) == 2
    assert len(lookups.requests) == 4
    with carrier_pager.db.read() as session:
        assert number_lookups.carrier_of(session, ALICE) == "Vodafone UK"


def test_it_looks_nothing_up_when_no_route_names_a_carrier(carrier_pager, lookups):
    carrier_pager.settings = replace(carrier_pager.settings, routing={"+44": ("twilio",)})

    with freeze_time(T0):
        assert refresh_carriers(carrier_pager, T0) == 0
    assert lookups.requests == []


def test_it_says_when_no_provider_can_look_numbers_up(sqlite_url, caplog):
    settings = make_settings(
        sqlite_url, ProviderSettings("sandbox", "sandbox"), routing={"carrier:EE": ("sandbox",)}
    )
    pager = build_pager(settings)
    try:
        with caplog.at_level(logging.WARNING, logger="pager.flows.carriers"):
            assert refresh_carriers(pager, T0) == 0
    finally:
        pager.db.dispose()

    assert [r.getMessage() for r in caplog.records] == [
        "event=carrier_lookup_impossible reason=no_provider_offers_lookups"
    ]


def test_two_refreshes_of_the_same_number_both_succeed(carrier_pager, lookups):
    lookups.lines[ALICE] = Line("mobile", "Vodafone UK")
    with freeze_time(T0):
        refresh_carriers(carrier_pager, T0)
    # Another runner that read before this one wrote looks the same number up and records it.
    with carrier_pager.db.transaction() as session:
        number_lookups.record(
            session,
            ALICE,
            carrier="Vodafone UK",
            line_type="mobile",
            valid=True,
            source="twilio",
            at=T0 + timedelta(seconds=1),
        )
    with carrier_pager.db.read() as session:
        row = number_lookups.get(session, ALICE)
        assert row is not None and row.looked_up_at == T0 + timedelta(seconds=1)


def test_the_runner_looks_numbers_up_as_it_starts_beside_its_sends(carrier_pager, lookups):
    lookups.lines[ALICE] = Line("mobile", "Vodafone UK")
    runner = Runner(carrier_pager)
    refreshed = threading.Event()
    runner._scheduler.add_listener(
        lambda event: event.job_id == "carriers" and refreshed.set(), EVENT_JOB_EXECUTED
    )

    runner.start()
    try:
        assert refreshed.wait(10)
        job = runner._scheduler.get_job("carriers")
        assert job.trigger.interval == timedelta(minutes=10)
    finally:
        runner.stop()

    assert len(lookups.requests) == 2
    with carrier_pager.db.read() as session:
        assert number_lookups.carrier_of(session, ALICE) == "Vodafone UK"


ROUTED = """\
providers:
  - {name: twilio, type: twilio, account_sid: AC1, auth_token: t, from: "+15017122661"}
  - {name: twilio_vz, type: twilio, account_sid: AC1, auth_token: t, from: "+15017122662"}
routing:
  "carrier:Verizon Wireless": [twilio_vz, twilio]
  "+1 carrier:T-Mobile USA": [twilio]
  "+1": [twilio]
"""


def test_it_reads_carrier_routes(tmp_path: Path) -> None:
    path = tmp_path / "pager.yaml"
    path.write_text(ROUTED)

    assert load_settings(path, {}).routing == {
        "carrier:Verizon Wireless": ("twilio_vz", "twilio"),
        "+1 carrier:T-Mobile USA": ("twilio",),
        "+1": ("twilio",),
    }


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ('"carrier:Verizon Wireless": [twilio_vz, twilio]', '"carrier: ": [twilio]'),
            "5: routing: 'carrier: ' is not a carrier route like \"carrier:Verizon Wireless\"",
        ),
        (
            ('"+1 carrier:T-Mobile USA"', '"US carrier:T-Mobile USA"'),
            "6: routing: 'US carrier:T-Mobile USA' is not a carrier route",
        ),
        (
            ('"+1": [twilio]', '"carrier:VERIZON wireless": [twilio]'),
            "7: routing: 'carrier:VERIZON wireless' routes the same numbers as "
            "'carrier:Verizon Wireless'",
        ),
        (
            ("[twilio_vz, twilio]", "[twilio_verizon]"),
            "5: routing carrier:Verizon Wireless: no provider 'twilio_verizon' "
            "(known: twilio, twilio_vz)",
        ),
        (('"+1": [twilio]', "us: [twilio]"), "7: routing: 'us' is not a prefix"),
    ],
)
def test_it_reports_a_wrong_carrier_route_with_its_line(tmp_path: Path, change, expected) -> None:
    path = tmp_path / "pager.yaml"
    path.write_text(ROUTED.replace(*change))

    with pytest.raises(ConfigError) as caught:
        load_settings(path, {})

    found = [str(p) for p in caught.value.problems]
    assert found[0].startswith(f"{path}:{expected}"), found
