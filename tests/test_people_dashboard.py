"""The dashboard's people panel: your number proven or not, the buttons that text you a code,
take the code and send you a test page (CSRF-checked), through Flask's test client."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from pager.app import build_pager
from pager.flows import incidents, people
from pager.flows.context import Pager, utcnow
from tests.conftest import make_settings
from tests.helpers import ALICE, BOB, phone, run_due
from tests.test_dashboard import Forms, click, dashboard_app, sign_in, text


@pytest.fixture
def pager(sqlite_url: str) -> Iterator[Pager]:
    built = build_pager(make_settings(sqlite_url))
    yield built
    built.db.dispose()


@pytest.fixture
def client(pager: Pager) -> FlaskClient:
    client = dashboard_app(pager).test_client()
    assert sign_in(client).status_code == 303
    return client


def proving_code(pager: Pager) -> str:
    texts = [m.body for m in phone(pager, ALICE) if m.direction == "out"]
    found = [re.match(r"(\d{6}) is your pager code to prove", t) for t in texts]
    return [m.group(1) for m in found if m][-1]


def test_it_shows_unverified_numbers_and_proves_yours_with_the_texted_code(
    client: FlaskClient, pager: Pager
) -> None:
    home = client.get("/")
    assert text(home).count("number unverified") == 3
    assert "+44******0101" in text(home) and "+447700900101" not in text(home)
    asked = click(client, home, "Text me a code")
    assert asked.status_code == 303
    run_due(pager, utcnow())
    home = client.get("/")
    assert "A code is on its way to your phone" in text(home)
    form = next(f for f in _forms(home) if "Prove my number" in f["buttons"])
    proved = client.post(form["action"], data={**form["fields"], "code": proving_code(pager)})
    assert proved.status_code == 303
    home = client.get("/")
    assert "Your number is proven." in text(home)
    assert text(home).count("number unverified") == 2 and "number proven" in text(home)


def test_a_wrong_code_on_the_dashboard_proves_nothing(client: FlaskClient, pager: Pager) -> None:
    click(client, client.get("/"), "Text me a code")
    run_due(pager, utcnow())
    home = client.get("/")
    form = next(f for f in _forms(home) if "Prove my number" in f["buttons"])
    wrong = f"{(int(proving_code(pager)) + 1) % 10**6:06d}"
    client.post(form["action"], data={**form["fields"], "code": wrong})
    assert "That code is wrong" in text(client.get("/"))
    assert [p.verified for p in people.people(pager)] == [False, False, False]


@pytest.mark.parametrize("action", ["verify", "prove", "test"])
def test_its_buttons_refuse_a_post_without_the_csrf_token(
    client: FlaskClient, pager: Pager, action: str
) -> None:
    response = client.post(f"/me/{action}", data={"code": "123456"})
    assert response.status_code == 400
    assert incidents.listing(pager, None) == []
    assert [m for m in phone(pager, ALICE) if "prove this number" in m.body] == []


def test_it_sends_you_a_test_page_and_shows_its_result(client: FlaskClient, pager: Pager) -> None:
    sent = click(client, client.get("/"), "Send me a test page")
    assert sent.status_code == 303
    [incident] = incidents.listing(pager, None)
    assert incident.test_of == "alice" and incident.service == "pager-test"
    run_due(pager, utcnow())
    assert any("Test page for Alice" in m.body for m in phone(pager, ALICE))
    assert phone(pager, BOB) == []
    home = text(client.get("/"))
    assert (
        "test page" in home
        and "last test" in home
        and "delivered, not acknowledged" in " ".join(home.split())
    )


def test_it_offers_the_buttons_only_on_your_own_row(client: FlaskClient) -> None:
    buttons = [b for f in _forms(client.get("/")) for b in f["buttons"]]
    assert buttons.count("Text me a code") == 1
    assert buttons.count("Send me a test page") == 1


def _forms(page: TestResponse) -> list[dict]:
    return Forms(page.get_data(as_text=True)).forms
