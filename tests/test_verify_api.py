"""Verify for the team's own applications, through the real `twilio` SDK pointed at pager's
`/verify` on 127.0.0.1 (SQLite and PostgreSQL): the codes reach the sandbox phone, and each of
Twilio Verify's rules answers as Twilio answers it."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import select
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from pager.app import build_pager
from pager.config import ConfigError, VerifyService, load_settings
from pager.flows.context import Pager, utcnow
from pager.store.models import Notification
from pager.store.people_models import AuditEntry
from pager.web import create_app
from tests.conftest import make_settings, twilio_settings
from tests.fakes.twilio import FakeTwilio, serve_in_background, stop_server
from tests.helpers import ALICE, phone, run_due

SID = "VA0123456789abcdef0123456789abcdef"
TOKEN = "acme-verify-token"
ACME = VerifyService(SID, "Acme", TOKEN)
TEXT = re.compile(r"Your Acme verification code is: (\d+)")


@dataclass
class Verify:
    pager: Pager
    client: Client
    port: int

    @property
    def service(self):  # type: ignore[no-untyped-def]
        return self.client.verify.v2.services(SID)

    def send(self, to: str = ALICE, channel: str = "sms"):  # type: ignore[no-untyped-def]
        verification = self.service.verifications.create(to=to, channel=channel)
        run_due(self.pager, utcnow())
        return verification

    def check(self, code: str, to: str = ALICE):  # type: ignore[no-untyped-def]
        return self.service.verification_checks.create(to=to, code=code)


def sdk_client(port: int, token: str = TOKEN) -> Client:
    client = Client("AC" + "0" * 32, token)
    client.verify.base_url = f"http://127.0.0.1:{port}/verify"
    return client


def serve(pager: Pager) -> Iterator[Verify]:
    server = serve_in_background(create_app(pager))
    try:
        yield Verify(pager, sdk_client(server.port), server.port)
    finally:
        stop_server(server)
        pager.db.dispose()


@pytest.fixture
def verify(database_url: str) -> Iterator[Verify]:
    pager = build_pager(make_settings(database_url, verify_services={SID: ACME}))
    yield from serve(pager)


def texted_code(pager: Pager, number: str = ALICE) -> str:
    texts = [m.body for m in phone(pager, number) if m.direction == "out" and TEXT.match(m.body)]
    assert texts, f"no Verify code on the sandbox phone {number}"
    found = TEXT.match(texts[-1])
    assert found
    return found.group(1)


def other_than(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


def audit_rows(pager: Pager) -> list[tuple[str, str, str, str]]:
    with pager.db.read() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        return [
            (r.actor, r.way, r.action, r.target) for r in rows if r.action != "rotations_loaded"
        ]


def twilio_error(call) -> TwilioRestException:  # type: ignore[no-untyped-def]
    with pytest.raises(TwilioRestException) as raised:
        call()
    return raised.value


def test_it_verifies_a_number_with_the_twilio_sdk(verify: Verify) -> None:
    started = verify.send()
    assert re.fullmatch(r"VE[0-9a-f]{32}", started.sid)
    assert (started.service_sid, started.to, started.channel) == (SID, ALICE, "sms")
    assert (started.status, started.valid) == ("pending", False)
    assert started.account_sid == "AC" + "0" * 32
    [attempt] = started.send_code_attempts
    assert attempt["channel"] == "sms" and re.fullmatch(r"VL[0-9a-f]{32}", attempt["attempt_sid"])
    assert started.url.endswith(f"/verify/v2/Services/{SID}/Verifications/{started.sid}")
    code = texted_code(verify.pager)
    assert len(code) == 6
    checked = verify.check(code)
    assert (checked.sid, checked.status, checked.valid) == (started.sid, "approved", True)
    again = twilio_error(lambda: verify.check(code))  # single use
    assert (again.status, again.code) == (404, 20404)
    assert audit_rows(verify.pager) == [
        ("Acme", "api", "verify_code_sent", "+44******0101"),
        ("Acme", "api", "verify_approved", "+44******0101"),
        ("Acme", "api", "verify_check_failed", "+44******0101"),
    ]


def test_it_masks_the_text_once_the_code_is_spent(verify: Verify) -> None:
    verify.send()
    code = texted_code(verify.pager)
    verify.check(code)
    with verify.pager.db.read() as session:
        [n] = session.scalars(select(Notification)).all()
        assert n.body == "Your Acme verification code is: ••••••"
        assert n.kind == "code"


def test_it_answers_pending_to_five_wrong_codes_then_locks_out(verify: Verify) -> None:
    verify.send()
    code = texted_code(verify.pager)
    for _ in range(5):
        wrong = verify.check(other_than(code))
        assert (wrong.status, wrong.valid) == ("pending", False)
    locked = twilio_error(lambda: verify.check(code))  # even the right one
    assert (locked.status, locked.code) == (429, 60202)


def test_it_resends_the_same_verification_with_a_fresh_code(verify: Verify) -> None:
    first = verify.send()
    first_code = texted_code(verify.pager)
    second = verify.send()
    second_code = texted_code(verify.pager)
    assert second.sid == first.sid
    assert len(second.send_code_attempts) == 2
    if first_code != second_code:  # one chance in a million they are the same digits
        assert verify.check(first_code).status == "pending"
    assert verify.check(second_code).status == "approved"


def test_it_refuses_a_sixth_send_in_ten_minutes(verify: Verify) -> None:
    for _ in range(5):
        verify.send()
    refused = twilio_error(verify.send)
    assert (refused.status, refused.code) == (429, 60203)
    sent = [m for m in phone(verify.pager, ALICE) if TEXT.match(m.body)]
    assert len(sent) == 5
    assert audit_rows(verify.pager)[-1][2] == "verify_code_refused"


def test_it_refuses_more_than_the_service_rate(database_url: str) -> None:
    slow = VerifyService(SID, "Acme", TOKEN, per_minute=2)
    pager = build_pager(make_settings(database_url, verify_services={SID: slow}))
    for verify in serve(pager):
        verify.send("+447700900101")
        verify.send("+447700900102")
        refused = twilio_error(lambda: verify.send("+447700900103"))
        assert (refused.status, refused.code) == (429, 60203)


def test_it_cancels_a_verification(verify: Verify) -> None:
    started = verify.send()
    code = texted_code(verify.pager)
    canceled = verify.service.verifications(started.sid).update(status="canceled")
    assert (canceled.sid, canceled.status, canceled.valid) == (started.sid, "canceled", False)
    gone = twilio_error(lambda: verify.check(code))
    assert (gone.status, gone.code) == (404, 20404)
    assert verify.service.verifications(started.sid).fetch().status == "canceled"


def test_it_fetches_a_verification_and_knows_no_other(verify: Verify) -> None:
    started = verify.send()
    fetched = verify.service.verifications(started.sid).fetch()
    assert (fetched.sid, fetched.to, fetched.status) == (started.sid, ALICE, "pending")
    assert fetched.send_code_attempts[0]["delivery"] == "delivered"  # the sandbox's word
    unknown = twilio_error(lambda: verify.service.verifications("VE" + "0" * 32).fetch())
    assert (unknown.status, unknown.code) == (404, 20404)
    malformed = twilio_error(lambda: verify.service.verifications("VE\x00'; --").fetch())
    assert (malformed.status, malformed.code) == (404, 20404)
    nothing = twilio_error(lambda: verify.check("123456", to="+447700900102"))
    assert (nothing.status, nothing.code) == (404, 20404)


def test_it_refuses_a_wrong_token_or_an_unknown_service(verify: Verify) -> None:
    intruder = sdk_client(verify.port, "not-the-token").verify.v2.services(SID)
    refused = twilio_error(lambda: intruder.verifications.create(to=ALICE, channel="sms"))
    assert (refused.status, refused.code) == (401, 20003)
    other = verify.client.verify.v2.services("VA" + "f" * 32)
    refused = twilio_error(lambda: other.verifications.create(to=ALICE, channel="sms"))
    assert (refused.status, refused.code) == (401, 20003)
    assert phone(verify.pager, ALICE) == []


def test_it_names_a_bad_number_or_channel(verify: Verify) -> None:
    bad = twilio_error(lambda: verify.send(to="12345"))
    assert (bad.status, bad.code) == (400, 60200) and "To" in bad.msg
    bad = twilio_error(lambda: verify.send(channel="whatsapp"))
    assert (bad.status, bad.code) == (400, 60200) and "Channel" in bad.msg


def test_it_reads_the_code_in_a_call_when_asked(verify: Verify) -> None:
    started = verify.send(channel="call")
    assert started.channel == "call"
    [call] = [m for m in phone(verify.pager, ALICE) if m.channel == "voice"]
    spoken = re.search(r"verification code is ([\d, ]+)\.", call.body)
    assert spoken
    assert verify.check(spoken.group(1).replace(", ", "")).status == "approved"


T0 = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)
BASIC = {"Authorization": "Basic " + base64.b64encode(f"AC{'0' * 32}:{TOKEN}".encode()).decode()}
BASE = f"/verify/v2/Services/{SID}"


def test_it_lets_a_code_expire_after_the_services_ttl(database_url: str) -> None:
    pager = build_pager(make_settings(database_url, verify_services={SID: ACME}))
    client = create_app(pager).test_client()
    with freeze_time(T0):
        answer = client.post(
            f"{BASE}/Verifications", data={"To": ALICE, "Channel": "sms"}, headers=BASIC
        )
        assert answer.status_code == 201
        run_due(pager, T0)
    code = texted_code(pager)
    with freeze_time(T0 + ACME.ttl):
        late = client.post(
            f"{BASE}/VerificationCheck", data={"To": ALICE, "Code": code}, headers=BASIC
        )
    assert late.status_code == 404
    assert late.get_json() == {
        "code": 20404,
        "message": "The requested resource was not found",
        "more_info": "https://www.twilio.com/docs/errors/20404",
        "status": 404,
    }
    with pager.db.read() as session:
        [n] = session.scalars(select(Notification)).all()
        assert code not in n.body  # masked once expired
    pager.db.dispose()


def test_it_lets_a_code_work_until_just_before_it_expires(database_url: str) -> None:
    pager = build_pager(make_settings(database_url, verify_services={SID: ACME}))
    client = create_app(pager).test_client()
    with freeze_time(T0):
        client.post(f"{BASE}/Verifications", data={"To": ALICE, "Channel": "sms"}, headers=BASIC)
        run_due(pager, T0)
    with freeze_time(T0 + ACME.ttl - timedelta(seconds=1)):
        answer = client.post(
            f"{BASE}/VerificationCheck",
            data={"To": ALICE, "Code": texted_code(pager)},
            headers=BASIC,
        )
    assert answer.status_code == 200 and answer.get_json()["status"] == "approved"
    pager.db.dispose()


def test_it_calls_with_a_fresh_code_when_no_provider_can_deliver_the_sms(
    database_url: str, fake_twilio: FakeTwilio
) -> None:
    settings = make_settings(
        database_url, twilio_settings(fake_twilio), verify_services={SID: ACME}
    )
    fake_twilio.fail_next = 1  # the SMS; the call goes through
    for verify in serve(build_pager(settings)):
        started = verify.send()
        run_due(verify.pager, utcnow())  # the call, queued after the SMS failed
        assert fake_twilio.messages == []
        [call] = fake_twilio.wait_for_calls(1)
        spoken = re.search(r"verification code is ([\d, ]+)\.", call["Twiml"])
        assert spoken, call["Twiml"]
        fetched = verify.service.verifications(started.sid).fetch()
        assert fetched.channel == "call"
        assert [a["channel"] for a in fetched.send_code_attempts] == ["sms", "call"]
        assert fetched.send_code_attempts[0]["delivery"] == "failed"
        assert verify.check(spoken.group(1).replace(", ", "")).status == "approved"


def test_it_does_not_call_when_the_service_allows_only_sms(
    database_url: str, fake_twilio: FakeTwilio
) -> None:
    sms_only = VerifyService(SID, "Acme", TOKEN, channels=("sms",))
    settings = make_settings(
        database_url, twilio_settings(fake_twilio), verify_services={SID: sms_only}
    )
    fake_twilio.fail_next = 1
    for verify in serve(build_pager(settings)):
        verify.send()
        run_due(verify.pager, utcnow())
        assert fake_twilio.calls == []
        assert fake_twilio.messages == []  # the retry waits 30 s, as a page's


CONFIG = """\
verify:
  services:
    VA0123456789abcdef0123456789abcdef:
      name: Acme
      token: ${ACME_VERIFY_TOKEN}
      code_length: 8
      ttl: 5m
      channels: [sms]
"""


def test_it_reads_the_verify_services_from_pager_yaml(tmp_path: Path) -> None:
    path = tmp_path / "pager.yaml"
    path.write_text(CONFIG)
    service = load_settings(path, {"ACME_VERIFY_TOKEN": "t0k3n"}).verify_services[SID]
    assert service == VerifyService(SID, "Acme", "t0k3n", 8, timedelta(minutes=5), ("sms",))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("VA0123456789abcdef", "VB0123456789abcdef"), "3: verify service 'VB"),
        (("code_length: 8", "code_length: 11"), "6: verify service '" + SID + "' code_length"),
        (("ttl: 5m", "ttl: 1h"), "7: verify service '" + SID + "' ttl: between 5m and 10m"),
        (("[sms]", "[sms, whatsapp]"), "8: verify service '" + SID + "' channels: 'whatsapp'"),
        (("      name: Acme\n", ""), "4: verify service '" + SID + "': missing 'name'"),
        (("ACME_VERIFY_TOKEN", "UNSET_TOKEN"), "5: verify service '" + SID + "' token: environ"),
    ],
)
def test_it_reports_verify_mistakes_with_their_line(tmp_path: Path, change, expected) -> None:
    path = tmp_path / "pager.yaml"
    path.write_text(CONFIG.replace(*change))
    with pytest.raises(ConfigError) as raised:
        load_settings(path, {"ACME_VERIFY_TOKEN": "t0k3n"})
    found = [str(p) for p in raised.value.problems]
    assert found[0].startswith(f"{path}:{expected}"), found


@pytest.mark.parametrize(
    ("path", "form", "message"),
    [
        ("Verifications", {"Channel": "sms"}, "Missing required parameter To in the post body"),
        (
            "Verifications",
            {"To": ALICE, "Channel": "  "},
            "Missing required parameter Channel in the post body",
        ),
        (
            "Verifications",
            {"To": "+" + "4" * 100, "Channel": "sms"},
            "Invalid parameter `To`: 'To' must be at most 100 characters",
        ),
        (
            "VerificationCheck",
            {"To": ALICE, "Code": "1" * 101},
            "Invalid parameter `Code`: 'Code' must be at most 100 characters",
        ),
    ],
)
def test_it_answers_a_missing_or_overlong_form_field_with_twilios_400(
    sqlite_url: str, path: str, form: dict[str, str], message: str
) -> None:
    pager = build_pager(make_settings(sqlite_url, verify_services={SID: ACME}))
    client = create_app(pager).test_client()
    answer = client.post(f"{BASE}/{path}", data=form, headers=BASIC)
    assert (answer.status_code, answer.get_json()["code"]) == (400, 60200)
    assert answer.get_json()["message"] == message
    assert phone(pager, ALICE) == []
    pager.db.dispose()
