"""Proven numbers and test pages (issue 13): a code texted to a person's number comes back by
SMS or on the dashboard; the proof holds for that (person, number); test pages go to only that
person and keep their result. SQLite and PostgreSQL, through the flows and the sandbox phones."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import select, update
from twilio.request_validator import RequestValidator

from pager import metrics
from pager.app import build_pager
from pager.domain.codes import CODE_TTL, CODES_PER_NUMBER, MAX_WRONG_TRIES
from pager.flows import incidents, people, replies, verify
from pager.flows.context import Pager
from pager.flows.rotations import load_rotations
from pager.providers.base import InboundSms
from pager.providers.sandbox import SandboxProvider
from pager.store.models import Incident, Notification
from pager.store.people_models import AuthCode
from pager.web import create_app
from tests.conftest import ROTATIONS, make_settings, twilio_settings
from tests.fakes.twilio import FakeTwilio
from tests.helpers import ALICE, BOB, CAROL, audit_actions, payload, phone, receive, run_due

T0 = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)  # Alice's week in the fixture rotations


def verify_code(pager: Pager, number: str = ALICE) -> str:
    """The newest number-proving code the sandbox phone `number` received."""
    texts = [m.body for m in phone(pager, number) if m.direction == "out"]
    found = [re.match(r"(\d{6}) is your pager code to prove this number", t) for t in texts]
    codes = [m.group(1) for m in found if m]
    assert codes, f"no verification code on the sandbox phone {number}: {texts}"
    return codes[-1]


def ask(pager: Pager, now: datetime, who: str = "alice") -> str | None:
    why = verify.send_verify_code(pager, who, "cli", "cli", now)
    run_due(pager, now)
    return why


def proven(pager: Pager) -> dict[str, bool]:
    return {view.handle: view.verified for view in people.people(pager)}


def unverified_gauge() -> float | None:
    return metrics.REGISTRY.get_sample_value("pager_unverified_numbers")


def sms(pager: Pager, body: str, now: datetime, sender: str = ALICE, n: int = 1) -> str | None:
    message = InboundSms(sender, "+15005550006", body, f"in-{now.timestamp()}-{n}")
    return replies.handle_sms(pager, "sandbox", message, now)


def test_it_proves_a_number_once_with_the_code_entered(pager: Pager) -> None:
    assert ask(pager, T0) is None
    code = verify_code(pager)
    assert proven(pager) == {"alice": False, "bob": False, "carol": False}
    assert verify.check_verify_code(pager, "alice", code, "dashboard", T0) is True
    assert proven(pager) == {"alice": True, "bob": False, "carol": False}
    assert unverified_gauge() == 2
    assert verify.check_verify_code(pager, "alice", code, "dashboard", T0) is False  # single use
    assert [action for action, _ in audit_actions(pager)] == [
        "verify_code_sent",
        "number_verified",
        "verify_failed",
    ]
    assert ("number_verified", "+44******0101") in audit_actions(pager)


def test_it_keeps_only_the_hash_and_masks_the_text_once_spent(pager: Pager) -> None:
    ask(pager, T0)
    code = verify_code(pager)
    with pager.db.read() as session:
        [row] = session.scalars(select(AuthCode)).all()
        assert row.purpose == "verify_number" and code not in row.digest
    verify.check_verify_code(pager, "alice", code, "dashboard", T0)
    with pager.db.read() as session:
        [carrier] = session.scalars(select(Notification).where(Notification.kind == "code"))
        assert code not in carrier.body and "••••••" in carrier.body


def test_a_code_expires_after_ten_minutes(pager: Pager) -> None:
    ask(pager, T0)
    code = verify_code(pager)
    assert verify.check_verify_code(pager, "alice", code, "dashboard", T0 + CODE_TTL) is False
    assert proven(pager)["alice"] is False


def test_the_fifth_wrong_try_voids_the_code(pager: Pager) -> None:
    ask(pager, T0)
    code = verify_code(pager)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(MAX_WRONG_TRIES):
        assert verify.check_verify_code(pager, "alice", wrong, "dashboard", T0) is False
    assert verify.check_verify_code(pager, "alice", code, "dashboard", T0) is False
    failures = [d for a, d in audit_actions(pager) if a == "verify_failed"]
    assert failures[:MAX_WRONG_TRIES] == [f"wrong code ({n} of 5)" for n in range(1, 6)]


def test_only_the_newest_code_works(pager: Pager) -> None:
    ask(pager, T0)
    first = verify_code(pager)
    ask(pager, T0 + timedelta(seconds=30))
    second = verify_code(pager)
    later = T0 + timedelta(minutes=1)
    if first != second:  # one chance in a million they are the same digits
        assert verify.check_verify_code(pager, "alice", first, "dashboard", later) is False
    assert verify.check_verify_code(pager, "alice", second, "dashboard", later) is True


def test_it_sends_at_most_five_codes_to_a_number_in_fifteen_minutes(pager: Pager) -> None:
    for n in range(CODES_PER_NUMBER):
        assert ask(pager, T0 + timedelta(seconds=n)) is None
    refused = ask(pager, T0 + timedelta(minutes=1))
    assert refused == "5 codes sent to this number in 15 min already"
    assert ("verify_code_refused", refused) in audit_actions(pager)
    assert ask(pager, T0 + timedelta(minutes=15, seconds=5)) is None


def test_a_changed_number_must_be_proven_again(pager: Pager, tmp_path: Path) -> None:
    ask(pager, T0)
    assert verify.check_verify_code(pager, "alice", verify_code(pager), "dashboard", T0)
    directory = tmp_path / "rotations"
    shutil.copytree(ROTATIONS, directory)
    team = directory / "team.yaml"
    team.write_text(team.read_text().replace("+447700900101", "+447700900109"))
    pager.settings = replace(pager.settings, rotations=directory)
    load_rotations(pager, T0)
    assert proven(pager)["alice"] is False
    assert unverified_gauge() == 3  # set when the rotations load
    ask(pager, T0 + timedelta(minutes=1))
    new_code = verify_code(pager, "+447700900109")
    assert verify.check_verify_code(
        pager, "alice", new_code, "dashboard", T0 + timedelta(minutes=1)
    )
    assert proven(pager)["alice"] is True


def test_an_unverified_number_is_still_paged(pager: Pager) -> None:
    with freeze_time(T0):
        receive(pager, "payments-am", payload("alertmanager_firing.json"), T0)
        run_due(pager, T0)
    assert proven(pager)["alice"] is False
    assert any("ACK" in m.body for m in phone(pager, ALICE) if m.direction == "out")


def page_alice(pager: Pager) -> int:
    """An incident paged to Alice by SMS (her week): its number."""
    with freeze_time(T0):
        [incident_id] = receive(
            pager, "payments-am", payload("alertmanager_firing.json"), T0
        ).opened
        run_due(pager, T0)
    return incident_id


def test_a_reply_of_just_the_code_proves_the_number(pager: Pager) -> None:
    ask(pager, T0)
    answer = sms(pager, f" {verify_code(pager)} ", T0 + timedelta(minutes=1))
    assert answer == "Number proven: pager pages you here. Thank you."
    assert proven(pager)["alice"] is True
    assert ("number_verified", "+44******0101") in audit_actions(pager)


def test_a_wrong_bare_code_counts_as_a_wrong_try(pager: Pager) -> None:
    ask(pager, T0)
    code = verify_code(pager)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for n in range(MAX_WRONG_TRIES):
        assert sms(pager, wrong, T0, n=n) == (
            "That code is wrong, expired or used. Run pager verify for a new one."
        )
    assert sms(pager, code, T0, n=99) != "Number proven: pager pages you here. Thank you."
    assert proven(pager)["alice"] is False


def test_ack_with_the_digits_is_an_ack_never_a_proof(pager: Pager) -> None:
    ask(pager, T0)
    code = verify_code(pager)
    assert sms(pager, f"ACK {code}", T0) == (
        f"No open page with code {code} for this number. Reply HELP for help."
    )
    assert proven(pager)["alice"] is False


def test_bare_digits_that_are_an_open_pages_ack_code_acknowledge_it(pager: Pager) -> None:
    incident_id = page_alice(pager)
    ask(pager, T0)
    code = verify_code(pager)
    with pager.db.transaction() as session:  # the one-in-a-million collision, made to happen
        session.execute(update(Incident).where(Incident.id == incident_id).values(ack_code=code))
    answer = sms(pager, code, T0 + timedelta(minutes=1))
    assert answer is not None and answer.startswith(f"Acknowledged #{incident_id}")
    assert proven(pager)["alice"] is False  # the page came first; the code still works
    assert verify.check_verify_code(pager, "alice", code, "dashboard", T0 + timedelta(minutes=2))


def test_four_bare_digits_stay_an_ack_code_while_a_proof_waits(pager: Pager) -> None:
    incident_id = page_alice(pager)
    ask(pager, T0)
    with pager.db.read() as session:
        found = session.get(Incident, incident_id)
        assert found is not None
        ack_code = found.ack_code
    answer = sms(pager, ack_code, T0 + timedelta(minutes=1))
    assert answer is not None and answer.startswith(f"Acknowledged #{incident_id}")


def test_it_proves_a_number_through_the_sandbox_inbound_route(pager: Pager) -> None:
    ask(pager, T0)
    code = verify_code(pager)
    client = create_app(pager).test_client()
    token = next(p for p in pager.providers if isinstance(p, SandboxProvider)).token
    with freeze_time(T0 + timedelta(minutes=1)):
        forged = client.post(
            "/providers/sandbox/inbound", data={"token": "x", "from": ALICE, "body": code}
        )
        assert forged.status_code in (401, 403)
        assert proven(pager)["alice"] is False
        answer = client.post(
            "/providers/sandbox/inbound", data={"token": token, "from": ALICE, "body": code}
        )
    assert answer.json == {"reply": "Number proven: pager pages you here. Thank you."}
    assert proven(pager)["alice"] is True


def test_a_test_page_goes_to_that_person_only_and_keeps_its_result(pager: Pager) -> None:
    with freeze_time(T0):
        number = people.send_test_page(pager, "alice", "dana", "cli", T0)
        run_due(pager, T0)
    [page] = [m.body for m in phone(pager, ALICE) if m.direction == "out"]
    assert "pager-test" in page and "Test page for Alice Example" in page
    assert phone(pager, BOB) == [] and phone(pager, CAROL) == []
    code = re.search(r"ACK (\d+)", page).group(1)  # type: ignore[union-attr]
    answer = sms(pager, f"ACK {code}", T0 + timedelta(seconds=42))
    assert answer == f"Test page #{number} acknowledged: your route works. Nothing to resolve."
    view = incidents.view(pager, number)
    assert view.test_of == "alice" and view.status == "resolved"  # a test ends once acked
    assert [e.kind for e in view.timeline][:1] == ["test"]
    [alice] = [p for p in people.people(pager) if p.handle == "alice"]
    assert alice.last_test == people.TestResult(T0, number, True, True, 42)
    assert ("test_page_sent", f"incident #{number}") in audit_actions(pager)


def test_an_unanswered_test_page_pages_nobody_else(pager: Pager) -> None:
    with freeze_time(T0):
        number = people.send_test_page(pager, "alice", "dana", "cli", T0)
        run_due(pager, T0)
    for minutes in (5, 10, 11, 30):
        at = T0 + timedelta(minutes=minutes)
        with freeze_time(at):
            run_due(pager, at)
    assert phone(pager, BOB) == [] and phone(pager, CAROL) == []
    [alice] = [p for p in people.people(pager) if p.handle == "alice"]
    assert alice.last_test == people.TestResult(T0, number, True, False, None)


def test_the_people_api_lists_everyone_masked_with_their_last_test(pager: Pager) -> None:
    client: FlaskClient = create_app(pager).test_client()
    assert client.get("/api/v1/people").status_code == 401
    ask(pager, T0)
    verify.check_verify_code(pager, "alice", verify_code(pager), "dashboard", T0)
    with freeze_time(T0):
        people.send_test_page(pager, "bob", "dana", "cli", T0)
    answer = client.get("/api/v1/people", headers={"Authorization": "Bearer api-token"})
    assert answer.status_code == 200
    listed = answer.json["people"]
    assert [p["handle"] for p in listed] == ["alice", "bob", "carol"]
    assert listed[0] == {
        "handle": "alice",
        "name": "Alice Example",
        "verified": True,
        "number": "+44******0101",
        "channels": ["sms"],
        "timezone": "Europe/London",
        "last_test": None,
    }
    assert listed[1]["verified"] is False
    assert listed[1]["last_test"] == {
        "at": T0.isoformat(),
        "incident": 1,
        "delivered": False,
        "acknowledged": False,
        "seconds": None,
    }
    assert "+447700900101" not in answer.get_data(as_text=True)


def test_it_proves_a_number_through_twilios_signed_inbound_webhook(
    database_url: str, fake_twilio: FakeTwilio
) -> None:
    pager = build_pager(make_settings(database_url, twilio_settings(fake_twilio)))
    try:
        with freeze_time(T0):
            ask(pager, T0)
        [text] = fake_twilio.wait_for_messages(1)
        assert text["To"] == ALICE
        code = re.match(r"(\d{6}) is your pager code", text["Body"]).group(1)  # type: ignore[union-attr]
        url = "http://127.0.0.1:8080/providers/twilio/inbound"
        params = {
            "From": ALICE,
            "To": text["From"],
            "Body": code,
            "MessageSid": "SM" + "7" * 32,
            "AccountSid": fake_twilio.account_sid,
            "NumMedia": "0",
        }
        client = create_app(pager).test_client()
        with freeze_time(T0 + timedelta(minutes=2)):
            forged = client.post(
                "/providers/twilio/inbound", data=params, headers={"X-Twilio-Signature": "x"}
            )
            assert forged.status_code == 403
            assert proven(pager)["alice"] is False
            signature = RequestValidator(fake_twilio.auth_token).compute_signature(url, params)
            answer = client.post(
                "/providers/twilio/inbound", data=params, headers={"X-Twilio-Signature": signature}
            )
        assert answer.text == (
            '<?xml version="1.0" encoding="UTF-8"?><Response><Message>'
            "Number proven: pager pages you here. Thank you.</Message></Response>"
        )
        assert proven(pager)["alice"] is True
    finally:
        pager.db.dispose()
