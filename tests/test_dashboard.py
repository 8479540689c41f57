"""The dashboard through Flask's test client: sign-in with a code texted to the sandbox phone
(the code rules themselves: tests/test_sign_in.py), the buttons, CSRF,
the rotation banner, escaping. Forms are read from the rendered HTML and posted as a browser
would post them."""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from werkzeug.test import TestResponse

from pager.app import build_pager
from pager.flows import incidents
from pager.flows.context import Pager, utcnow
from pager.flows.rotations import load_rotations
from pager.flows.silences import add_silence
from pager.web import create_app, dashboard
from tests.conftest import ROTATIONS, make_settings
from tests.helpers import payload, receive, run_due, texted_code

NAME = "Alice Example"


class Forms(HTMLParser):
    """The forms of a page: action, hidden fields and the text of each button."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._button = False
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attributes["action"], "fields": {}, "buttons": []})
        elif tag == "input" and attributes.get("type") == "hidden" and self.forms:
            self.forms[-1]["fields"][attributes["name"]] = attributes.get("value") or ""
        elif tag == "button":
            self._button = True

    def handle_data(self, data: str) -> None:
        if self._button and data.strip():
            self.forms[-1]["buttons"].append(data.strip())

    def handle_endtag(self, tag: str) -> None:
        if tag == "button":
            self._button = False


def click(client: FlaskClient, page: TestResponse, button: str, incident: int | None = None):
    """Submit the form holding `button` (the one for `incident`, if given) as a browser would."""
    for form in Forms(page.get_data(as_text=True)).forms:
        if button in form["buttons"] and (incident is None or f"/{incident}/" in form["action"]):
            return client.post(form["action"], data=form["fields"])
    raise AssertionError(f"no {button!r} button on the page")


def text(response: TestResponse) -> str:
    return html.unescape(response.get_data(as_text=True))


def dashboard_app(pager: Pager) -> Flask:
    app = create_app(pager)
    app.secret_key = "test-session-key"
    if "dashboard" not in app.blueprints:  # until create_app registers it
        app.register_blueprint(dashboard.blueprint)
    return app


@pytest.fixture
def app(sqlite_url: str) -> Iterator[Flask]:
    pager = build_pager(make_settings(sqlite_url))
    yield dashboard_app(pager)
    pager.db.dispose()


@pytest.fixture
def pager(app: Flask) -> Pager:
    found: Pager = app.extensions["pager"]
    return found


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def sign_in(client: FlaskClient, who: str = "alice", next_path: str = "", code: str = ""):
    """Ask for a code as a browser would, read it off the sandbox phone, enter it."""
    pager: Pager = client.application.extensions["pager"]
    page = client.get(f"/login?next={next_path}" if next_path else "/login")
    form = Forms(page.get_data(as_text=True)).forms[0]
    asked = client.post("/login", data={**form["fields"], "who": who, "channel": "sms"})
    run_due(pager, utcnow())
    code_form = Forms(asked.get_data(as_text=True)).forms[0]
    schedule = pager.rotations.schedule
    person = schedule.people.get(who) if schedule else None
    number = person.phone if person else "+447700900101"
    return client.post(
        code_form["action"],
        data={**code_form["fields"], "code": code or texted_code(pager, number)},
    )


@pytest.fixture
def signed_in(client: FlaskClient) -> FlaskClient:
    assert sign_in(client).status_code == 303
    return client


def open_incident(pager: Pager, title: str | None = None) -> int:
    body = payload("alertmanager_firing.json")
    if title is not None:
        body["groupKey"] = title
        for n, alert in enumerate(body["alerts"]):
            alert["labels"]["alertname"] = title
            alert["annotations"]["summary"] = title
            alert["fingerprint"] = f"{title}-{n}"
    return receive(pager, "payments-am", body, utcnow()).opened[0]


@pytest.mark.parametrize("path", ["/", "/incidents/1"])
def test_it_sends_a_stranger_to_the_login_page(client, pager, path) -> None:
    open_incident(pager)
    response = client.get(path)
    assert response.status_code == 303
    assert response.location == f"/login?next={path}"


def test_it_refuses_a_button_press_from_a_stranger(client, pager) -> None:
    incident_id = open_incident(pager)
    response = client.post(f"/incidents/{incident_id}/ack", data={"csrf_token": "x"})
    assert response.status_code == 303
    assert response.location.startswith("/login")
    assert incidents.view(pager, incident_id).status == "triggered"


def test_it_refuses_a_wrong_code(client) -> None:
    response = sign_in(client, code="12345x")
    assert response.status_code == 401
    assert "That code is wrong, expired or already used" in text(response)
    assert client.get("/").status_code == 303


def test_it_asks_for_a_handle_or_number(client) -> None:
    page = client.get("/login")
    form = Forms(page.get_data(as_text=True)).forms[0]
    response = client.post("/login", data={**form["fields"], "who": "   "})
    assert response.status_code == 400
    assert "Enter your handle" in text(response)
    assert client.get("/").status_code == 303


def test_it_signs_in_with_a_texted_code_into_an_httponly_lax_cookie(client, pager) -> None:
    open_incident(pager)
    response = sign_in(client, next_path="/incidents/1")
    assert response.status_code == 303
    assert response.location == "/incidents/1"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("pager_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = client.get("/")
    assert page.status_code == 200
    assert f"<strong>{NAME}</strong></a>" in text(page) and "Signed in as" in text(page)


def test_it_sends_a_fresh_login_only_to_a_page_of_this_site(client) -> None:
    response = sign_in(client, next_path="//evil.example/")
    assert response.status_code == 303
    assert response.location == "/"


def test_it_lists_open_incidents_triggered_first_with_their_buttons(signed_in, pager) -> None:
    first = open_incident(pager, "DiskFull")
    second = open_incident(pager, "HighLatency")
    incidents.acknowledge(pager, first, "Bob", "sms", utcnow())
    page = text(signed_in.get("/"))
    assert page.index("HighLatency") < page.index("DiskFull")  # triggered before acknowledged
    assert "1 triggered</span> · 1 acknowledged" in page
    assert "acknowledged by <strong>Bob</strong>" in page
    assert "2 alerts" in page and "payments" in page
    buttons = {tuple(f["buttons"]) for f in Forms(page).forms if "/incidents/" in f["action"]}
    assert buttons == {("Acknowledge",), ("Resolve",), ("Un-acknowledge",), ("Escalate now",)}
    assert f"#{second}" in page


def test_it_acknowledges_from_the_button_and_lands_on_the_timeline(signed_in, pager) -> None:
    incident_id = open_incident(pager)
    response = click(signed_in, signed_in.get("/"), "Acknowledge", incident_id)
    assert response.status_code == 303
    assert response.location == f"/incidents/{incident_id}"
    view = incidents.view(pager, incident_id)
    assert (view.status, view.acknowledged_by) == ("acknowledged", NAME)
    page = text(signed_in.get(response.location))
    assert f"Incident #{incident_id} acknowledged." in page
    assert f"acknowledged by {NAME} (dashboard)" in page


def test_it_unacknowledges_and_resolves_from_the_incident_page(signed_in, pager) -> None:
    incident_id = open_incident(pager)
    incidents.acknowledge(pager, incident_id, "Bob", "sms", utcnow())
    page = signed_in.get(f"/incidents/{incident_id}")
    response = click(signed_in, page, "Un-acknowledge")
    assert incidents.view(pager, incident_id).status == "triggered"
    page = signed_in.get(response.location)
    assert f"unacknowledged by {NAME}: escalating again" in text(page)
    response = click(signed_in, page, "Resolve")
    view = incidents.view(pager, incident_id)
    assert (view.status, view.resolved_by) == ("resolved", NAME)
    page = text(signed_in.get(response.location))
    assert f"resolved by {NAME} (dashboard)" in page
    assert "Acknowledge" not in [b for f in Forms(page).forms for b in f["buttons"]]


def test_it_says_so_when_someone_else_acknowledged_first(signed_in, pager) -> None:
    incident_id = open_incident(pager)
    page = signed_in.get("/")
    incidents.acknowledge(pager, incident_id, "Bob", "sms", utcnow())
    response = click(signed_in, page, "Acknowledge")
    assert incidents.view(pager, incident_id).acknowledged_by == "Bob"
    shown = text(signed_in.get(response.location))
    assert f"Incident #{incident_id} was not changed: it is acknowledged by Bob." in shown


@pytest.mark.parametrize("token", [None, "", "forged"])
def test_it_refuses_a_post_without_the_csrf_token_with_400(signed_in, pager, token) -> None:
    incident_id = open_incident(pager)
    data = {} if token is None else {"csrf_token": token}
    response = signed_in.post(f"/incidents/{incident_id}/ack", data=data)
    assert response.status_code == 400
    assert "CSRF check failed" in text(response)
    assert incidents.view(pager, incident_id).status == "triggered"


def test_it_refuses_a_sign_in_without_the_csrf_token(client) -> None:
    response = client.post("/login", data={"token": "api-token", "name": NAME})
    assert response.status_code == 400
    assert client.get("/").status_code == 303


def test_it_signs_out_and_a_copied_cookie_no_longer_works(signed_in, app) -> None:
    cookie = signed_in.get_cookie("pager_session")
    assert cookie is not None
    response = click(signed_in, signed_in.get("/"), "Sign out")
    assert response.status_code == 303
    assert signed_in.get("/").status_code == 303
    thief = app.test_client()  # a copy of the cookie taken before the sign-out
    thief.set_cookie("pager_session", cookie.value)
    assert thief.get("/").status_code == 303


def test_it_signs_out_someone_no_longer_in_the_rotations(signed_in, pager, rotations) -> None:
    team = rotations / "team.yaml"
    renamed = team.read_text().replace("alice:", "alicia:").replace("[alice,", "[alicia,")
    team.write_text(renamed)
    pager.settings = replace(pager.settings, rotations=rotations)
    load_rotations(pager, utcnow())
    assert "alicia" in (pager.rotations.schedule.people if pager.rotations.schedule else {})
    assert signed_in.get("/").status_code == 303


def test_it_escapes_alert_text(signed_in, pager) -> None:
    incident_id = open_incident(pager, "<script>alert(1)</script>")
    for path in ("/", f"/incidents/{incident_id}"):
        raw = signed_in.get(path).get_data(as_text=True)
        assert "<script>alert(1)" not in raw
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw


def test_it_links_only_web_urls_from_annotations(signed_in, pager) -> None:
    body = payload("alertmanager_firing.json")
    body["alerts"][0]["annotations"]["dashboard"] = "javascript:alert(1)"
    incident_id = receive(pager, "payments-am", body, utcnow()).opened[0]
    raw = signed_in.get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert 'href="https://runbooks.example.com/high-error-rate"' in raw
    assert 'href="javascript:' not in raw
    assert "javascript:alert(1)" in raw  # shown, as text
    assert 'alertname</span>=<span class="v">HighErrorRate' in raw


def test_it_shows_an_incident_with_its_alerts_and_timeline(signed_in, pager) -> None:
    incident_id = open_incident(pager)
    page = text(signed_in.get(f"/incidents/{incident_id}"))
    assert "5xx rate above 5% on checkout-1" in page
    assert "checkout-2:8080" in page and "runbook_url" in page
    assert "opened by payments-am (alertmanager)" in page
    assert " UTC" in page and "just now" in page


def test_it_answers_an_unknown_incident_with_a_404_page(signed_in) -> None:
    response = signed_in.get("/incidents/999")
    assert response.status_code == 404
    assert "There is no incident #999." in text(response)
    assert response.mimetype == "text/html"


def test_it_shows_who_is_on_call_until_when_in_the_rotations_time_zone(client) -> None:
    with freeze_time("2026-12-02T12:00:00Z"):
        sign_in(client)
        page = text(client.get("/"))
    assert "Bob Example" in page
    assert ">Mon 07 Dec 09:00 GMT</time>" in page
    assert "then Alice Example" in page


def test_it_shows_an_active_maintenance_window(signed_in, pager) -> None:
    now = utcnow()
    add_silence(pager, "payments", now, now + timedelta(hours=1), "database upgrade", "carol", now)
    page = text(signed_in.get("/"))
    assert "database upgrade" in page and "set by carol" in page
    assert "silenced" in page


def test_it_marks_an_incident_a_window_holds_apart_from_a_paged_one(signed_in, pager) -> None:
    paged = open_incident(pager, "PagedOne")
    now = utcnow()
    add_silence(pager, "payments", now, now + timedelta(hours=1), "upgrade", "carol", now)
    held = open_incident(pager, "HeldOne")
    page = text(signed_in.get("/"))
    cards = {
        n: next(card for card in page.split('<li class="incident ') if f"#{n}</span>" in card)
        for n in (paged, held)
    }
    assert "Silenced until" in cards[held] and "paging nobody" in cards[held]
    assert "Silenced until" not in cards[paged]
    assert "Silenced until" in text(signed_in.get(f"/incidents/{held}"))


@pytest.fixture
def rotations(tmp_path: Path) -> Path:
    copy = tmp_path / "rotations"
    shutil.copytree(ROTATIONS, copy)
    return copy


def break_rotations(rotations: Path) -> None:
    team = rotations / "team.yaml"
    team.write_text(team.read_text().replace("[alice, bob]", "[alice, bobby]"))


def test_it_shows_rotation_problems_in_a_red_banner(signed_in, pager, rotations) -> None:
    pager.settings = replace(pager.settings, rotations=rotations)
    break_rotations(rotations)
    state = load_rotations(pager, datetime.now(UTC))
    assert state.problems and state.schedule is not None
    page = text(signed_in.get("/"))
    assert "banner-danger" in page
    assert "The rotation files are invalid" in page
    for problem in state.problems:
        assert str(problem) in page
    assert "team.yaml:" in page
    assert "files invalid: last good set in force" in page


def test_it_says_nobody_can_be_paged_when_no_rotation_set_ever_validated(
    sqlite_url, rotations
) -> None:
    """Nobody is known, so nobody can sign in: the sign-in page says why (not the problems,
    which are no stranger's business: `pager check` and /readyz with a token list them)."""
    break_rotations(rotations)
    pager = build_pager(make_settings(sqlite_url, rotations=rotations))
    client = dashboard_app(pager).test_client()
    page = text(client.get("/login"))
    pager.db.dispose()
    assert "No valid rotation set: nobody can be paged or sign in" in page
    assert "bobby" not in page


def test_it_keeps_the_rotation_problems_from_strangers(client, pager, rotations) -> None:
    pager.settings = replace(pager.settings, rotations=rotations)
    break_rotations(rotations)
    load_rotations(pager, datetime.now(UTC))
    assert "bobby" not in text(client.get("/login"))


def test_it_serves_its_stylesheet_to_the_login_page(client) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/assets/dashboard.css"' in page
    css = client.get("/assets/dashboard.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    assert "prefers-color-scheme: dark" in css.get_data(as_text=True)


def test_it_sends_pages_that_no_cache_or_frame_keeps(signed_in) -> None:
    response = signed_in.get("/")
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_it_fails_closed_without_a_session_key(app, client) -> None:
    app.secret_key = None
    response = client.get("/")
    assert response.status_code == 503
    assert "session key" in text(response)


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(seconds=20), "just now"),
        (timedelta(minutes=4, seconds=59), "4 min ago"),
        (timedelta(hours=2, minutes=5), "2 h 5 min ago"),
        (timedelta(hours=3), "3 h ago"),
        (timedelta(days=3, hours=1, minutes=7), "3 d 1 h ago"),
        (-timedelta(minutes=20), "in 20 min"),
    ],
)
def test_it_says_how_long_ago_in_words(delta, expected) -> None:
    now = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    assert dashboard.ago(now - delta, now) == expected


def test_it_writes_utc_times_with_the_date_only_when_it_is_not_today() -> None:
    now = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    assert dashboard.utc_text(now - timedelta(hours=1), now) == "02:00 UTC"
    assert dashboard.utc_text(now - timedelta(days=1), now) == "24 Nov 03:00 UTC"
    assert dashboard.utc_text(now - timedelta(days=365), now) == "25 Nov 2025 03:00 UTC"


def test_it_marks_the_session_cookie_secure_under_an_https_public_url(sqlite_url: str) -> None:
    from dataclasses import replace

    settings = replace(make_settings(sqlite_url), public_url="https://pager.example.com")
    https = build_pager(settings)
    try:
        client = dashboard_app(https).test_client()
        answer = sign_in(client)
        cookie = answer.headers["Set-Cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        from email.utils import parsedate_to_datetime

        expires = parsedate_to_datetime(cookie.split("Expires=")[1].split(";")[0])
        assert timedelta(days=6) < expires - utcnow() <= timedelta(days=7)  # the lifetime
    finally:
        https.db.dispose()


def test_it_sends_no_secure_flag_over_plain_http(signed_in, app) -> None:
    cookie = sign_in(app.test_client()).headers["Set-Cookie"]
    assert "Secure" not in cookie and "HttpOnly" in cookie


def test_it_shows_the_audit_trail_with_filters(signed_in, pager) -> None:
    incident_id = open_incident(pager)
    click(signed_in, signed_in.get("/"), "Acknowledge", incident_id)
    page = text(signed_in.get("/audit"))
    assert "incident_acknowledged" in page and f"incident #{incident_id}" in page
    assert "signed_in" in page and "sign_in_code_sent" in page
    only = text(signed_in.get("/audit?action=signed_in"))
    assert "signed_in" in only and "incident_acknowledged" not in only
    assert signed_in.get("/audit?before=x").status_code == 400


def test_it_keeps_the_audit_trail_from_strangers(client) -> None:
    response = client.get("/audit")
    assert (response.status_code, response.location) == (303, "/login?next=/audit")


def test_it_says_what_happens_next_escalates_now_and_takes_a_note(client, pager) -> None:
    with freeze_time("2026-12-08T12:00:00Z"):  # Alice's week
        signed_in = client
        assert sign_in(signed_in).status_code == 303
        incident_id = open_incident(pager)
        run_due(pager, utcnow())  # step 1: SMS to sre-primary
        page = signed_in.get(f"/incidents/{incident_id}")
        assert "step 2 of 3 at 12:05 UTC: voice to rotation sre-primary (Alice Example)" in text(
            page
        )
        escalated = click(signed_in, page, "Escalate now", incident_id)
        assert escalated.status_code == 303
        run_due(pager, utcnow())
        after = signed_in.get(f"/incidents/{incident_id}")
        assert "Alice Example asked to escalate now (dashboard)" in text(after)
        assert "step 3 of 3 at 12:05 UTC" in text(after)  # step 2 ran now; 5 min to step 3
        form = [
            f for f in Forms(after.get_data(as_text=True)).forms if f["action"].endswith("/notes")
        ][0]
        noted = signed_in.post(
            form["action"], data={**form["fields"], "text": "restarted the primary"}
        )
        assert noted.status_code == 303
        timeline = text(signed_in.get(f"/incidents/{incident_id}"))
        assert "Alice Example (dashboard): restarted the primary" in timeline
        audit_page = text(signed_in.get("/audit"))
        assert "incident_escalated_now" in audit_page and "incident_note" in audit_page


def test_it_shows_a_rotations_next_two_weeks_and_the_policies_in_words(client, pager) -> None:
    with freeze_time("2026-12-02T12:00:00Z"):  # Bob's week of the fixture's weekly rotation
        assert sign_in(client, "alice").status_code == 303
        page = text(client.get("/rotations/sre-primary"))
        services = text(client.get("/services"))
        missing = client.get("/rotations/nope")
    assert "times in Europe/London" in page
    rows = re.findall(r"<tr class=\"([^\"]*)\">\s*<td>([^<]+)</td><td>([^<]+)</td>", page)
    assert rows[0] == ("shift-now", "Mon 30 Nov 09:00 GMT", "Mon 07 Dec 09:00 GMT")
    assert "Bob Example" in page and "Alice Example" in page
    assert "1. SMS to rotation sre-primary; 5m to acknowledge" in services
    assert "2. voice to rotation sre-primary; 5m to acknowledge" in services
    assert "then all of it again, 1 more time(s)" in services
    assert missing.status_code == 404
