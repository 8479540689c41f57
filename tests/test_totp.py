"""Signing in with an authenticator app (TOTP): enrolment from your page with a QR code and a
first code, sign-in with a code once, lock-out after wrong codes, and `require_totp`."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest
from flask.testing import FlaskClient
from freezegun import freeze_time

from pager.app import build_pager
from pager.flows import sign_in, totp
from pager.flows.context import Pager
from tests.conftest import ROTATIONS, make_settings
from tests.helpers import phone
from tests.test_dashboard import Forms, dashboard_app, text
from tests.test_dashboard import sign_in as sign_in_by_sms

T0 = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)


@pytest.fixture
def team(tmp_path: Path) -> Path:
    """The test rotations with Bob required to use his app once he has one."""
    copy = tmp_path / "rotations"
    shutil.copytree(ROTATIONS, copy)
    team = copy / "team.yaml"
    team.write_text(
        team.read_text().replace(
            "timezone: America/New_York, handoff_notices: false}",
            "timezone: America/New_York, handoff_notices: false, require_totp: true}",
        )
    )
    return copy


@pytest.fixture
def pager(database_url: str, team: Path) -> Iterator[Pager]:
    built = build_pager(make_settings(database_url, rotations=team))
    yield built
    built.db.dispose()


def enrol(client: FlaskClient, now: datetime) -> str:
    """Set up the app from /me as a person would; the secret their app scanned."""
    page = client.get("/me")
    [form] = [f for f in Forms(page.get_data(as_text=True)).forms if f["action"] == "/me/totp"]
    started = client.post("/me/totp", data=form["fields"])
    shown = started.get_data(as_text=True)
    assert 'src="data:image/svg+xml;base64,' in shown  # the QR code, inline (CSP: img data:)
    found = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', shown)
    assert found
    secret = found.group(1)
    [confirm] = [f for f in Forms(shown).forms if f["action"] == "/me/totp/confirm"]
    code = pyotp.TOTP(secret).at(now)
    assert (
        client.post("/me/totp/confirm", data={**confirm["fields"], "code": code}).status_code == 303
    )
    return secret


def sign_in_by_app(client: FlaskClient, who: str, code: str):
    page = client.get("/login")
    form = Forms(page.get_data(as_text=True)).forms[0]
    asked = client.post("/login", data={**form["fields"], "who": who, "channel": "totp"})
    assert "your authenticator app shows" in text(asked)
    code_form = Forms(asked.get_data(as_text=True)).forms[0]
    return client.post(code_form["action"], data={**code_form["fields"], "code": code})


def test_it_enrols_and_signs_in_with_an_app_code_once(pager: Pager) -> None:
    with freeze_time(T0):
        alice = dashboard_app(pager).test_client()
        assert sign_in_by_sms(alice, "alice").status_code == 303
        secret = enrol(alice, T0)
        assert totp.enrolled(pager, "alice")
    later = T0 + timedelta(minutes=5)
    with freeze_time(later):
        laptop = dashboard_app(pager).test_client()
        code = pyotp.TOTP(secret).at(later)
        assert sign_in_by_app(laptop, "alice", code).status_code == 303
        assert laptop.get("/").status_code == 200
        # The same code again (someone looking over a shoulder): refused.
        again = dashboard_app(pager).test_client()
        assert sign_in_by_app(again, "alice", code).status_code == 401


def test_it_locks_the_app_sign_in_after_five_wrong_codes(pager: Pager) -> None:
    with freeze_time(T0):
        alice = dashboard_app(pager).test_client()
        sign_in_by_sms(alice, "alice")
        secret = enrol(alice, T0)
    at = T0 + timedelta(minutes=1)
    right = pyotp.TOTP(secret).at(at)
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    for _ in range(5):
        assert totp.check_code(pager, "alice", wrong, "192.0.2.1", at) is None
    assert totp.check_code(pager, "alice", right, "192.0.2.1", at) is None  # locked
    unlocked = at + timedelta(minutes=15)
    assert (
        totp.check_code(pager, "alice", pyotp.TOTP(secret).at(unlocked), "192.0.2.1", unlocked)
        == "alice"
    )


def test_it_needs_the_app_for_someone_required_to_use_it_once_enrolled(pager: Pager) -> None:
    bob_phone = "+447700900102"
    with freeze_time(T0):
        bob = dashboard_app(pager).test_client()
        assert sign_in_by_sms(bob, "bob").status_code == 303  # not enrolled yet: SMS works
        enrol(bob, T0)
    texted = len(phone(pager, bob_phone))
    sign_in.send_code(pager, "bob", "sms", "192.0.2.1", T0 + timedelta(minutes=1))
    assert len(phone(pager, bob_phone)) == texted  # no SMS code for him any more
    with pager.db.read() as session:
        from sqlalchemy import select

        from pager.store.people_models import AuditEntry

        refused = session.scalars(
            select(AuditEntry.detail).where(AuditEntry.action == "sign_in_code_refused")
        ).all()
    assert refused == ["an authenticator app is required (require_totp)"]


def test_it_removes_the_app(pager: Pager) -> None:
    with freeze_time(T0):
        alice = dashboard_app(pager).test_client()
        sign_in_by_sms(alice, "alice")
        enrol(alice, T0)
        page = alice.get("/me")
        [form] = [
            f for f in Forms(page.get_data(as_text=True)).forms if f["action"] == "/me/totp/remove"
        ]
        assert alice.post("/me/totp/remove", data=form["fields"]).status_code == 303
    assert not totp.enrolled(pager, "alice")
