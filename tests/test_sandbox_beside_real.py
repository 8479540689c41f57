"""The sandbox beside real providers (issue 12, item 5): `pager check --config` refuses it
unless `allow_with_real_providers: true`, and its pretend phones act only on pages the sandbox
sent itself, so its printed token can't ack, resolve or STOP for a number Twilio paged."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from freezegun import freeze_time

from pager.app import build_pager
from pager.config import ProviderSettings
from pager.flows import incidents
from pager.flows.context import Pager
from pager.providers.sandbox import SandboxProvider
from pager.store import contacts
from pager.store import incidents as store_incidents
from pager.web import create_app
from tests.conftest import make_settings, twilio_settings
from tests.fakes.twilio import FakeTwilio
from tests.helpers import ALICE
from tests.test_check_delivery import OK, TWILIO, run, team
from tests.test_twilio_loop import T0, page_until_called

__all__ = ["team"]  # the fixture: a working directory with rotations
BESIDE = f"""\
public_url: https://pager.example.com
providers:
  - {TWILIO}
  - name: sandbox
    type: sandbox
"""
REFUSED = (
    "pager.yaml:4:5: provider 'sandbox' is a sandbox listed with real providers (twilio): a "
    "page that fails over to it counts as delivered though no phone gets it; remove it, or set "
    "allow_with_real_providers: true (a test of failover)\n"
)


def test_it_refuses_a_sandbox_listed_with_real_providers_at_its_line(team) -> None:
    assert run(BESIDE) == (1, REFUSED, "")


def test_it_takes_a_sandbox_beside_real_providers_when_allowed(team) -> None:
    allowed = BESIDE + "    allow_with_real_providers: true\n"
    assert run(allowed) == (0, OK, "")
    alone = (
        "public_url: https://pager.example.com\nproviders:\n  - {name: sandbox, type: sandbox}\n"
    )
    assert run(alone)[0] == 0  # the quick start: a sandbox alone


@pytest.fixture
def beside(database_url: str, fake_twilio: FakeTwilio) -> Iterator[tuple[Pager, FlaskClient]]:
    sandbox = ProviderSettings("sandbox", "sandbox", {"allow_with_real_providers": "true"})
    pager = build_pager(make_settings(database_url, twilio_settings(fake_twilio), sandbox))
    page_until_called(pager, fake_twilio)  # Twilio pages Alice: an SMS, then a call
    yield pager, create_app(pager).test_client()
    pager.db.dispose()


@pytest.mark.parametrize("body", ["RES ALL", "ACK ALL", "ACK {code}", "RES {code}", "STOP"])
def test_it_lets_the_sandbox_act_only_on_pages_it_sent(beside, body: str) -> None:
    pager, client = beside
    with pager.db.read() as session:
        [incident] = store_incidents.listing(session, None, 10)
        incident_id, code = incident.id, incident.ack_code
    token = next(p for p in pager.providers if isinstance(p, SandboxProvider)).token
    form = {"token": token, "from": ALICE, "body": body.format(code=code)}
    with freeze_time(T0 + timedelta(minutes=6)):
        answer = client.post("/providers/sandbox/inbound", data=form)
    assert answer.status_code == 200
    assert answer.json == {"reply": None}
    assert incidents.view(pager, incident_id).status == "triggered"
    with pager.db.read() as session:
        assert not contacts.opted_out(session, ALICE)
