"""The dashboard's people panel (everyone's number proven or not) and your own page (the
buttons that text you a code, take the code and send you a test page, CSRF-checked; how you
are paged; your incidents), through Flask's test client."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from freezegun import freeze_time
from werkzeug.test import TestResponse

from pager.app import build_pager
from pager.flows import incidents, people
from pager.flows.context import Pager, utcnow
from tests.conftest import make_settings
from tests.helpers import ALICE, BOB, payload, phone, receive, run_due
from tests.test_dashboard import Forms, click, dashboard_app, sign_in, text

ALICES_WEEK = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)  # the fixture rotations page her first


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
    mine = client.get("/me")
    assert "<strong>+44******0101</strong>" in text(mine) and "not proven yet" in text(mine)
    asked = click(client, mine, "Text me a code")
    assert asked.status_code == 303 and asked.location.endswith("/me")
    run_due(pager, utcnow())
    mine = client.get("/me")
    assert "A code is on its way to your phone" in text(mine)
    form = next(f for f in _forms(mine) if "Prove my number" in f["buttons"])
    proved = client.post(form["action"], data={**form["fields"], "code": proving_code(pager)})
    assert proved.status_code == 303
    mine = client.get("/me")
    assert "Your number is proven." in text(mine) and "Prove my number" not in text(mine)
    home = client.get("/")
    assert text(home).count("number unverified") == 2 and "number proven" in text(home)


def test_a_wrong_code_on_the_dashboard_proves_nothing(client: FlaskClient, pager: Pager) -> None:
    click(client, client.get("/me"), "Text me a code")
    run_due(pager, utcnow())
    mine = client.get("/me")
    form = next(f for f in _forms(mine) if "Prove my number" in f["buttons"])
    wrong = f"{(int(proving_code(pager)) + 1) % 10**6:06d}"
    client.post(form["action"], data={**form["fields"], "code": wrong})
    assert "That code is wrong" in text(client.get("/me"))
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
    sent = click(client, client.get("/me"), "Send me a test page")
    assert sent.status_code == 303
    [incident] = incidents.listing(pager, None)
    assert incident.test_of == "alice" and incident.service == "pager-test"
    run_due(pager, utcnow())
    assert any("Test page for Alice" in m.body for m in phone(pager, ALICE))
    assert phone(pager, BOB) == []
    home = " ".join(text(client.get("/")).split())
    assert "test page" in home and "last test" in home and "delivered, not acknowledged" in home
    mine = " ".join(text(client.get("/me")).split())
    assert "Last test page" in mine and f"#{incident.id}</a>): delivered, not acknowledged." in mine


def test_it_keeps_the_buttons_on_your_own_page_and_links_it_from_your_row(
    client: FlaskClient,
) -> None:
    home = client.get("/")
    assert [b for f in _forms(home) if "/me/" in f["action"] for b in f["buttons"]] == []
    assert text(home).count("your page") == 1
    buttons = [b for f in _forms(client.get("/me")) for b in f["buttons"]]
    assert buttons.count("Text me a code") == 1
    assert buttons.count("Send me a test page") == 1


def test_it_lists_the_incidents_that_paged_you_and_how_you_are_paged(pager: Pager) -> None:
    with freeze_time(ALICES_WEEK, tick=True):
        client = dashboard_app(pager).test_client()
        assert sign_in(client).status_code == 303
        assert "Nothing has paged you yet." in text(client.get("/me"))
        receive(pager, "payments-am", payload("alertmanager_firing.json"), utcnow())
        run_due(pager, utcnow())
        [incident] = incidents.listing(pager, None)
        home, mine = text(client.get("/")), text(client.get("/me"))
        for page in (home, mine):
            assert f"#{incident.id} {incident.title}" in words(page)
        incidents.resolve(pager, incident.id, "alice", "dashboard", utcnow())
        assert "Nothing open has paged you." in text(client.get("/"))
        assert f"#{incident.id}" in text(client.get("/me"))  # resolved: still there, below
        assert "High urgency" in mine and "Low urgency" in mine


def words(html: str) -> str:
    """The page's text as a reader sees it: tags gone, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", "", html).split())


def _forms(page: TestResponse) -> list[dict]:
    return Forms(page.get_data(as_text=True)).forms
