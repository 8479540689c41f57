"""Signing in as yourself with a one-time code: each rule every code pager issues keeps, one
test each (SQLite and PostgreSQL), through the flows and the sandbox phone the code goes to."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from pager.app import build_pager
from pager.config.model import SignInSettings
from pager.domain.codes import (
    CODE_TTL,
    CODES_PER_NUMBER,
    FAILED_SIGN_INS_PER_ADDRESS,
    MAX_WRONG_TRIES,
)
from pager.flows import sign_in
from pager.flows.context import Pager
from pager.scheduler import Runner
from pager.store.models import Notification
from pager.store.people_models import AuditEntry, AuthCode
from tests.conftest import make_settings
from tests.helpers import ALICE, audit_actions, payload, phone, receive, run_due, texted_code

T0 = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)  # Alice's week in the fixture rotations
ADDRESS = "192.0.2.7"


def ask(pager: Pager, now: datetime, who: str = "alice", channel: str = "sms") -> None:
    sign_in.send_code(pager, who, channel, ADDRESS, now)
    run_due(pager, now)


def codes_texted(pager: Pager) -> int:
    return sum("sign-in code" in m.body for m in phone(pager, ALICE) if m.direction == "out")


def test_it_signs_in_once_with_the_right_code(pager: Pager) -> None:
    ask(pager, T0)
    code = texted_code(pager)
    assert sign_in.check_code(pager, "alice", code, ADDRESS, T0) == "alice"
    assert sign_in.check_code(pager, "alice", code, ADDRESS, T0) is None  # single use
    actions = [action for action, _ in audit_actions(pager)]
    assert actions == ["sign_in_code_sent", "signed_in", "sign_in_failed"]


def test_it_finds_the_person_by_number_too(pager: Pager) -> None:
    ask(pager, T0, who="+44 7700 900101")
    assert sign_in.check_code(pager, "+447700900101", texted_code(pager), ADDRESS, T0) == "alice"


def test_it_lets_a_code_expire_after_ten_minutes(pager: Pager) -> None:
    ask(pager, T0)
    code = texted_code(pager)
    assert sign_in.check_code(pager, "alice", code, ADDRESS, T0 + CODE_TTL) is None
    ask(pager, T0 + CODE_TTL)
    fresh = texted_code(pager)
    later = T0 + CODE_TTL + CODE_TTL - timedelta(seconds=1)
    assert sign_in.check_code(pager, "alice", fresh, ADDRESS, later) == "alice"


def test_it_voids_a_code_after_five_wrong_tries(pager: Pager) -> None:
    ask(pager, T0)
    code = texted_code(pager)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(MAX_WRONG_TRIES):
        assert sign_in.check_code(pager, "alice", wrong, ADDRESS, T0) is None
    assert sign_in.check_code(pager, "alice", code, ADDRESS, T0) is None  # even the right one
    details = [detail for action, detail in audit_actions(pager) if action == "sign_in_failed"]
    assert details[:MAX_WRONG_TRIES] == [f"wrong code ({n} of 5)" for n in range(1, 6)]


def test_it_lets_only_the_newest_code_work(pager: Pager) -> None:
    ask(pager, T0)
    first = texted_code(pager)
    ask(pager, T0 + timedelta(seconds=30))
    second = texted_code(pager)
    if first != second:  # one chance in a million they are the same digits
        assert sign_in.check_code(pager, "alice", first, ADDRESS, T0 + timedelta(minutes=1)) is None
    assert sign_in.check_code(pager, "alice", second, ADDRESS, T0 + timedelta(minutes=1)) == "alice"


def test_it_sends_at_most_five_codes_to_a_number_in_fifteen_minutes(pager: Pager) -> None:
    for n in range(CODES_PER_NUMBER + 2):
        ask(pager, T0 + timedelta(minutes=n))
    assert codes_texted(pager) == CODES_PER_NUMBER
    refused = [d for a, d in audit_actions(pager) if a == "sign_in_code_refused"]
    assert refused == ["5 codes sent to this number in 15 min already"] * 2
    ask(pager, T0 + timedelta(minutes=15, seconds=1))  # the first has left the window
    assert codes_texted(pager) == CODES_PER_NUMBER + 1


def test_it_limits_the_codes_one_address_asks_for(pager: Pager) -> None:
    people = ["alice", "bob", "carol"]
    for n in range(25):
        sign_in.send_code(pager, people[n % 3], "sms", ADDRESS, T0 + timedelta(seconds=n))
    with pager.db.read() as session:
        made = session.scalar(select(text("count(*)")).select_from(AuthCode)) or 0
    assert made == 15  # 5 per number for three people, under the 20 per address
    for n in range(25):
        sign_in.send_code(pager, "alice", "sms", f"198.51.100.{n}", T0 + timedelta(seconds=n))
    refused = [d for a, d in audit_actions(pager) if a == "sign_in_code_refused"]
    assert refused and all("15 min" in d for d in refused)


def test_it_answers_the_same_for_someone_who_does_not_exist(pager: Pager) -> None:
    ask(pager, T0, who="mallory")
    assert sign_in.check_code(pager, "mallory", "123456", ADDRESS, T0) is None
    assert codes_texted(pager) == 0
    assert [a for a, _ in audit_actions(pager)] == ["sign_in_code_refused", "sign_in_failed"]


def test_it_keeps_only_a_keyed_hash_and_masks_the_text_once_spent(
    pager: Pager, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ask(pager, T0)
    code = texted_code(pager)
    with pager.db.read() as session:
        [stored] = session.scalars(select(AuthCode)).all()
        assert code not in stored.digest and len(stored.digest) == 64
    assert sign_in.check_code(pager, "alice", code, ADDRESS, T0) == "alice"
    with pager.db.read() as session:
        bodies = [n.body for n in session.scalars(select(Notification)).all()]
        entries = [f"{e.target} {e.detail}" for e in session.scalars(select(AuditEntry)).all()]
    assert bodies and all(code not in body for body in bodies)
    assert "••••••" in bodies[0]
    assert all(code not in entry for entry in entries)
    assert all(ALICE not in entry for entry in entries)  # numbers masked
    assert code not in caplog.text


def test_it_does_not_send_a_code_that_expired_before_it_could_go(pager: Pager) -> None:
    sign_in.send_code(pager, "alice", "sms", ADDRESS, T0)  # queued; no runner yet
    sign_in.check_code(pager, "alice", "000000", ADDRESS, T0 + CODE_TTL)  # sweeps spent codes
    run_due(pager, T0 + CODE_TTL)
    assert codes_texted(pager) == 0


def test_it_reads_the_code_aloud_when_asked_to_call(pager: Pager) -> None:
    ask(pager, T0, channel="voice")
    [call] = [m for m in phone(pager, ALICE) if m.channel == "voice"]
    assert call.body.startswith("This is pager. Your sign-in code is ")
    digits = call.body.split("code is ")[1].split(".")[0].replace(", ", "")
    assert sign_in.check_code(pager, "alice", digits, ADDRESS, T0) == "alice"


def test_it_sends_a_code_at_once_when_pages_fill_the_per_number_limit(pager: Pager) -> None:
    for n in range(6):
        body = payload("alertmanager_firing.json")
        body["groupKey"] = f"storm-{n}"
        for alert in body["alerts"]:
            alert["fingerprint"] = f"storm-{n}-{alert['fingerprint']}"
            alert["labels"]["alertname"] = f"Storm{n}"
        receive(pager, "payments-am", body, T0)
    run_due(pager, T0)
    ask(pager, T0 + timedelta(seconds=5))
    assert codes_texted(pager) == 1


def test_it_ends_sessions_by_idle_time_lifetime_and_sign_out_everywhere(pager: Pager) -> None:
    token = sign_in.start_session(pager, "alice", ADDRESS, "test", T0)
    other = sign_in.start_session(pager, "alice", "198.51.100.1", "phone", T0)
    assert (found := sign_in.session_for(pager, token, T0)) is not None and found.person == "alice"
    # Used every 11 h it lives on, until its lifetime of 7 days ends.
    lifetime, idle = timedelta(days=7), timedelta(hours=12)  # the defaults
    at = T0
    while at + timedelta(hours=11) < T0 + lifetime:
        at += timedelta(hours=11)
        assert sign_in.session_for(pager, token, at) is not None
    assert sign_in.session_for(pager, token, T0 + lifetime) is None
    # The other was idle for 12 h: over.
    assert sign_in.session_for(pager, other, T0 + idle) is None

    first = sign_in.start_session(pager, "alice", ADDRESS, "laptop", T0)
    second = sign_in.start_session(pager, "alice", ADDRESS, "phone", T0)
    bobs = sign_in.start_session(pager, "bob", ADDRESS, "laptop", T0)
    sign_in.end_session(pager, first, ADDRESS, T0, everywhere=True)
    assert sign_in.session_for(pager, first, T0) is None
    assert sign_in.session_for(pager, second, T0) is None
    assert sign_in.session_for(pager, bobs, T0) is not None
    assert ("signed_out_everywhere", "2 session(s) ended") in audit_actions(pager)


def test_it_keeps_codes_and_sessions_as_long_as_sign_in_settings_say(database_url: str) -> None:
    quick = SignInSettings(
        code_ttl=timedelta(minutes=5),
        idle_timeout=timedelta(minutes=30),
        lifetime=timedelta(hours=2),
    )
    pager = build_pager(make_settings(database_url, sign_in=quick))
    try:
        ask(pager, T0)
        assert [m.body for m in phone(pager, ALICE)][-1].startswith(f"{texted_code(pager)} is")
        assert "It expires in 5 min." in [m.body for m in phone(pager, ALICE)][-1]
        code = texted_code(pager)
        assert sign_in.check_code(pager, "alice", code, ADDRESS, T0 + timedelta(minutes=5)) is None
        ask(pager, T0 + timedelta(minutes=6))
        fresh = texted_code(pager)
        in_time = T0 + timedelta(minutes=10, seconds=59)
        assert sign_in.check_code(pager, "alice", fresh, ADDRESS, in_time) == "alice"

        token = sign_in.start_session(pager, "alice", ADDRESS, "test", T0)
        assert sign_in.session_for(pager, token, T0 + timedelta(minutes=29)) is not None
        idle = sign_in.start_session(pager, "alice", ADDRESS, "test", T0)
        assert sign_in.session_for(pager, idle, T0 + timedelta(minutes=30)) is None
        for minutes in (50, 75, 100):
            assert sign_in.session_for(pager, token, T0 + timedelta(minutes=minutes)) is not None
        assert sign_in.session_for(pager, token, T0 + timedelta(hours=2)) is None
    finally:
        pager.db.dispose()


def test_it_refuses_sign_ins_from_an_address_after_twenty_failures(pager: Pager) -> None:
    for n in range(FAILED_SIGN_INS_PER_ADDRESS):
        sign_in.check_code(pager, "bob", f"{n:06d}", ADDRESS, T0 + timedelta(seconds=n))
    ask(pager, T0 + timedelta(minutes=1))
    code = texted_code(pager)
    # From the guessing address even the right code is refused, and is not spent by it...
    assert sign_in.check_code(pager, "alice", code, ADDRESS, T0 + timedelta(minutes=1)) is None
    assert audit_actions(pager)[-1] == (
        "sign_in_failed",
        f"{FAILED_SIGN_INS_PER_ADDRESS} failed sign-ins from this address in 15 min",
    )
    # ...so its owner, elsewhere, signs in with it.
    elsewhere = sign_in.check_code(pager, "alice", code, "198.51.100.9", T0 + timedelta(minutes=1))
    assert elsewhere == "alice"
    # Fifteen minutes after the guesses, the address may try again.
    ask(pager, T0 + timedelta(minutes=16))
    later = T0 + timedelta(minutes=16)
    assert sign_in.check_code(pager, "alice", texted_code(pager), ADDRESS, later) == "alice"


def test_it_masks_an_expired_codes_text_in_the_runners_sweep_without_any_sign_in(
    pager: Pager,
) -> None:
    ask(pager, T0)
    code = texted_code(pager)
    runner = Runner(pager)
    try:
        runner.run_once(T0 + timedelta(minutes=9))  # still good: kept
        assert any(code in body for body in _bodies(pager))
        runner.run_once(T0 + CODE_TTL + timedelta(seconds=1))  # nobody tried it: masked anyway
        assert not any(code in body for body in _bodies(pager))
    finally:
        runner._senders.shutdown()


def _bodies(pager: Pager) -> list[str]:
    with pager.db.read() as session:
        return [n.body for n in session.scalars(select(Notification)).all()]
