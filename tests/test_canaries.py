"""Round-trip canaries with two fakes: the SMS leaves through a fake Twilio, and the test, as
the phone network, hands it to a fake Vonage that posts it back to pager as Vonage's signed
inbound webhook (through the Vonage SDK's signer). A route that loses its SMS twice opens an
incident whose page goes out through the other route; the next round trip resolves it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from pager import metrics
from pager.app import build_pager
from pager.config import ConfigError, ProviderSettings, load_settings
from pager.config.model import CanarySettings
from pager.flows import canaries, incidents
from pager.flows.backlog import measure_backlog
from pager.flows.context import Pager, utcnow
from pager.store.models import CanaryRun, Incident
from pager.web import create_app
from tests.conftest import make_settings, twilio_settings
from tests.fakes.twilio import FakeTwilio, serve_in_background, stop_server
from tests.fakes.vonage import FakeVonage
from tests.helpers import ALICE, run_due

T0 = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)  # Alice's week in the fixture rotations
OUR_VONAGE_NUMBER = "+447700900999"  # one of pager's own numbers, at Vonage
TWILIO_FROM = "+15017122661"
CANARY = CanarySettings(
    "twilio", OUR_VONAGE_NUMBER, "payments", timedelta(hours=6), timedelta(minutes=5)
)


@dataclass
class Routes:
    pager: Pager
    twilio: FakeTwilio
    vonage: FakeVonage
    url: str  # where pager is served

    def deliver(self) -> int:
        """The phone network: every SMS Twilio took for our Vonage number, posted back by
        Vonage; how many."""
        sent = [m for m in self.twilio.messages if m["To"] == OUR_VONAGE_NUMBER]
        for sms in sent:
            answer = self.vonage.send_inbound_sms(
                f"{self.url}/providers/vonage/inbound", TWILIO_FROM, OUR_VONAGE_NUMBER, sms["Body"]
            )
            assert answer.status_code == 200, answer.text
        self.twilio.messages.clear()
        return len(sent)


@pytest.fixture
def routes(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Routes]:
    with FakeTwilio(auto_status=None) as twilio, FakeVonage(auto_status=None) as vonage:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", vonage.ca_bundle)
        providers = (
            twilio_settings(twilio),
            ProviderSettings("vonage", "vonage", vonage.provider_options(OUR_VONAGE_NUMBER)),
        )
        pager = build_pager(make_settings(database_url, *providers, canaries=(CANARY,)))
        server = serve_in_background(create_app(pager))
        try:
            yield Routes(pager, twilio, vonage, f"http://127.0.0.1:{server.port}")
        finally:
            stop_server(server)
            pager.db.dispose()


def runs(pager: Pager) -> list[tuple[str, str | None]]:
    with pager.db.read() as session:
        found = session.scalars(select(CanaryRun).order_by(CanaryRun.id))
        return [(run.status, run.error) for run in found]


def opened(pager: Pager) -> list[Incident]:
    with pager.db.read() as session:
        found = list(session.scalars(select(Incident).order_by(Incident.id)))
        session.expunge_all()
        return found


def test_it_proves_a_route_end_to_end(routes: Routes) -> None:
    pager = routes.pager
    with freeze_time(T0, tick=True):
        assert canaries.start_due(pager, T0) == [CANARY.key]
        run_due(pager, T0)
        [sms] = routes.twilio.messages
        assert sms["To"] == OUR_VONAGE_NUMBER and sms["From"] == TWILIO_FROM
        assert canaries.NONCE.search(sms["Body"])
        assert routes.deliver() == 1
        assert routes.deliver() == 0
        [(status, error)] = runs(pager)
        assert (status, error) == ("ok", None)
        measure_backlog(pager, T0)
    labels = {"route": "twilio", "to": "+44******0999"}
    assert metrics.REGISTRY.get_sample_value("pager_canary_ok", labels) == 1
    assert metrics.REGISTRY.get_sample_value("pager_canary_seconds", labels) >= 0
    assert routes.vonage.messages == []  # no answer to our own canary
    assert opened(pager) == []
    assert canaries.start_due(pager, T0 + timedelta(hours=5)) == []  # due again after 6 h
    assert canaries.start_due(pager, T0 + timedelta(hours=6)) == [CANARY.key]


def test_a_route_that_loses_two_in_a_row_opens_an_incident_paged_another_way(
    routes: Routes,
) -> None:
    pager = routes.pager
    with freeze_time(T0, tick=True) as clock:
        for attempt in range(2):
            at = T0 + attempt * CANARY.every
            clock.move_to(at)
            canaries.start_due(pager, at)
            run_due(pager, at)  # Twilio takes it; the network loses it
            routes.twilio.messages.clear()
            assert canaries.time_out(pager, at + timedelta(minutes=4)) == []
            assert canaries.time_out(pager, at + CANARY.timeout) == [CANARY.key]
            assert len(opened(pager)) == attempt  # the first failure alone opens nothing
        [incident] = opened(pager)
        assert incident.service == "payments" and incident.integration == "canary:twilio"
        assert "did not come back (not back within 300 s)" in (incident.summary or "")
        paged_at = T0 + CANARY.every + CANARY.timeout
        clock.move_to(paged_at)
        run_due(pager, paged_at)
        [page] = routes.vonage.wait_for_messages(1)
        assert page["to"] == ALICE.lstrip("+") and "Canary through twilio failing" in page["text"]
        assert routes.twilio.messages == []  # not through the route that loses SMS

        back = T0 + 2 * CANARY.every
        clock.move_to(back)
        canaries.start_due(pager, back)
        run_due(pager, back)
        assert routes.deliver() == 1
    [incident] = opened(pager)
    assert incident.status == "resolved"
    assert [status for status, _ in runs(pager)] == ["failed", "failed", "ok"]


def test_it_says_when_the_route_refused_the_sms(routes: Routes) -> None:
    routes.twilio.fail_next = 10
    with freeze_time(T0, tick=True):
        canaries.start_due(routes.pager, T0)
        run_due(routes.pager, T0)
        canaries.time_out(routes.pager, T0 + CANARY.timeout)
    [(status, error)] = runs(routes.pager)
    assert status == "failed" and error is not None and error.startswith("twilio refused it")


def test_a_canary_back_twice_or_unknown_changes_nothing(routes: Routes) -> None:
    pager = routes.pager
    with freeze_time(T0, tick=True):
        canaries.start_due(pager, T0)
        run_due(pager, T0)
        body = routes.twilio.messages[0]["Body"]
        routes.deliver()
        for text in (body, "pager canary 0123456789abcdef: forged"):
            answer = routes.vonage.send_inbound_sms(
                f"{routes.url}/providers/vonage/inbound", TWILIO_FROM, OUR_VONAGE_NUMBER, text
            )
            assert answer.status_code == 200
    assert [status for status, _ in runs(pager)] == ["ok"]
    assert routes.vonage.messages == []


def test_two_runners_start_one_run_a_period_and_now_starts_one_at_once(routes: Routes) -> None:
    other = build_pager(routes.pager.settings)  # a second instance on the same database
    try:
        assert canaries.start_due(routes.pager, T0) == [CANARY.key]
        assert canaries.start_due(other, T0 + timedelta(seconds=1)) == []
        assert canaries.start_due(other, T0 + timedelta(minutes=1), forced=True) == [CANARY.key]
    finally:
        other.db.dispose()
    assert len(runs(routes.pager)) == 2


def test_it_reads_canaries_and_names_each_mistake(tmp_path: Path) -> None:
    path = tmp_path / "pager.yaml"
    head = (
        "providers:\n"
        "  - {name: twilio, type: twilio, account_sid: AC1, auth_token: t, from: '+15017122661'}\n"
        "  - {name: sandbox, type: sandbox, allow_with_real_providers: true}\n"
        "  - {name: twilio-in, type: twilio, account_sid: AC1, auth_token: t,"
        " from: '+447700900999'}\n"
    )
    path.write_text(
        head + "canaries:\n  - {route: twilio, to: '+447700900999', every: 6h, service: ops}\n"
    )
    [canary] = load_settings(path, env={}).canaries
    assert canary == CanarySettings("twilio", "+447700900999", "ops")
    path.write_text(
        head + "canaries:\n"
        "  - {route: vonage, to: '+447700900999', service: ops}\n"
        "  - {route: sandbox, to: 'not a number', service: ops}\n"
        "  - {route: twilio, to: '+447700900999', every: 1m, timeout: 2m}\n"
        "  - {route: twilio, to: '+447700900111', service: ops}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    said = str(caught.value)
    for expected in (
        "pager.yaml:6: canary 'vonage': no provider named 'vonage' (known: sandbox, twilio, "
        "twilio-in)",
        "pager.yaml:7: canary 'sandbox': the sandbox reaches no real phone",
        "pager.yaml:7: canary 'sandbox' to: 'not a number' is not a phone number",
        "pager.yaml:8: canary: missing 'service'",
        "pager.yaml:8: canary 'twilio' every: at least 5m",
        "pager.yaml:8: canary 'twilio' timeout: shorter than every",
        "pager.yaml:9: canary 'twilio' to: +447700900111 is no provider entry's own number",
    ):
        assert expected in said, said


def test_an_incident_a_canary_did_not_open_keeps_the_usual_route(routes: Routes) -> None:
    from tests.helpers import payload, receive

    with freeze_time(T0, tick=True):
        receive(routes.pager, "payments-am", payload("alertmanager_firing.json"), T0)
        run_due(routes.pager, T0)
        [page] = routes.twilio.wait_for_messages(1)
    assert page["To"] == ALICE and routes.vonage.messages == []
    assert incidents.listing(routes.pager, None)[0].status == "triggered"


def test_the_dashboard_shows_each_canarys_last_round_trip(routes: Routes) -> None:
    import re

    from tests.test_dashboard import Forms, dashboard_app, text

    with freeze_time(T0, tick=True):
        client = dashboard_app(routes.pager).test_client()
        # The code goes out through Twilio here (no sandbox): sign in as a browser would.
        login = Forms(text(client.get("/login"))).forms[0]
        asked = client.post("/login", data={**login["fields"], "who": "alice", "channel": "sms"})
        run_due(routes.pager, utcnow())
        sent = next(m["Body"] for m in routes.twilio.messages if "sign-in code" in m["Body"])
        code = re.match(r"\d{6}", sent)
        form = Forms(text(asked)).forms[0]
        assert code is not None
        entered = client.post(form["action"], data={**form["fields"], "code": code.group(0)})
        assert entered.status_code == 303
        routes.twilio.messages.clear()
        assert "no round trip yet" in text(client.get("/"))
        canaries.start_due(routes.pager, T0)
        run_due(routes.pager, T0)
        routes.deliver()
        home = text(client.get("/"))
    assert "+44******0999" in home and "back in" in home and OUR_VONAGE_NUMBER not in home
