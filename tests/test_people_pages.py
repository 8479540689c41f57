"""Your own page (sessions, personal API tokens) and an admin's page of everyone, through the
Flask test client as a browser would use them."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from pager.app import build_pager
from pager.flows.context import Pager
from tests.conftest import ROTATIONS, make_settings
from tests.helpers import payload
from tests.test_dashboard import click, dashboard_app, sign_in, text


@pytest.fixture
def team(tmp_path: Path) -> Path:
    """The test rotations with Carol an admin."""
    copy = tmp_path / "rotations"
    shutil.copytree(ROTATIONS, copy)
    (copy / "admins.yaml").write_text("admins: [carol]\n")
    return copy


@pytest.fixture
def pager(sqlite_url: str, team: Path) -> Iterator[Pager]:
    built = build_pager(make_settings(sqlite_url, rotations=team))
    yield built
    built.db.dispose()


def browser(pager: Pager, who: str) -> FlaskClient:
    client = dashboard_app(pager).test_client()
    assert sign_in(client, who).status_code == 303
    return client


def csrf(page: TestResponse) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert found
    return found.group(1)


def sessions_listed(page: TestResponse) -> dict[int, bool]:
    """The sessions on /me: id -> whether it is the one the page was asked with."""
    listed = page.get_data(as_text=True).split('<ul class="sessions"')[1].split("</ul>")[0]
    return {
        int(re.search(r'name="session_id" value="(\d+)"', item).group(1)): "(this one)" in item  # type: ignore[union-attr]
        for item in listed.split("<li>")[1:]
    }


def test_it_lists_and_ends_your_own_sessions(pager: Pager) -> None:
    laptop, phone = browser(pager, "alice"), browser(pager, "alice")
    page = laptop.get("/me")
    listed = sessions_listed(page)
    assert len(listed) == 2 and sum(listed.values()) == 1
    [phones] = [session_id for session_id, this_one in listed.items() if not this_one]
    ended = laptop.post(
        "/people/alice/sessions/end", data={"csrf_token": csrf(page), "session_id": str(phones)}
    )
    assert ended.status_code == 303
    assert phone.get("/").status_code == 303  # the phone is signed out...
    assert laptop.get("/").status_code == 200  # ...the laptop is not


def test_it_shows_a_new_token_once_and_the_api_acts_as_its_person(pager: Pager) -> None:
    alice = browser(pager, "alice")
    made = alice.post(
        "/me/tokens", data={"csrf_token": csrf(alice.get("/me")), "name": "laptop script"}
    )
    token = re.search(r"<code>(pgr_[^<]+)</code>", made.get_data(as_text=True))
    assert token and "will not show it again" in text(made)
    assert token.group(1) not in alice.get("/me").get_data(as_text=True)  # never again

    api = dashboard_app(pager).test_client()
    bearer = {"Authorization": f"Bearer {token.group(1)}"}
    api.post(
        "/integrations/payments-am",
        json=payload("alertmanager_firing.json"),
        headers={"Authorization": "Bearer am-token"},
    )
    acked = api.post("/api/v1/incidents/1/ack", headers=bearer)
    assert (acked.status_code, acked.json["acknowledged_by"]) == (200, "alice")

    assert click(alice, alice.get("/me"), "Revoke").status_code == 303
    assert api.get("/api/v1/incidents", headers=bearer).status_code == 401
    trail = api.get("/api/v1/audit", headers={"Authorization": "Bearer api-token"}).json
    actions = [e["action"] for e in trail["entries"]]
    assert "token_created" in actions and "token_revoked" in actions


def test_it_lets_only_an_admin_manage_someone_else(pager: Pager) -> None:
    bob, alice = browser(pager, "bob"), browser(pager, "alice")
    form = {"csrf_token": csrf(alice.get("/me"))}
    assert alice.post("/people/bob/sessions/end", data=form).status_code == 403
    assert alice.get("/people").status_code == 403
    assert bob.get("/").status_code == 200

    carol = browser(pager, "carol")
    everyone = carol.get("/people")
    assert everyone.status_code == 200 and "Bob Example" in text(everyone)
    bobs_row = everyone.get_data(as_text=True).split('id="person-bob"')[1].split("</tr>")[0]
    assert "End all sessions" in bobs_row
    assert (
        carol.post("/people/bob/sessions/end", data={"csrf_token": csrf(everyone)}).status_code
        == 303
    )
    assert bob.get("/").status_code == 303
    assert alice.get("/").status_code == 200
    trail = carol.get("/audit?action=sessions_ended")
    assert "every session (1)" in text(trail)
