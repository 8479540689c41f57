"""The SMS console through the flows, on SQLite and PostgreSQL, with freezegun for time: ESC,
SNOOZE (re-triggered after its time, across a restart), NOTE, ONCALL, STATUS, HELP; every
command on the timeline and in the audit trail."""

from __future__ import annotations

import re
import secrets
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from freezegun import freeze_time
from sqlalchemy import select

from pager.app import build_pager
from pager.config.model import SmsConsoleSettings
from pager.domain.reply_texts import help_text
from pager.flows import incidents, replies
from pager.flows.context import Pager
from pager.providers.base import InboundSms
from pager.store.models import Notification
from pager.store.people_models import AuditEntry
from tests.conftest import make_settings
from tests.helpers import ALICE, BOB, CAROL, payload, phone, receive, run_due

T0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # a Wednesday: alice's week on sre-primary
STRANGER = "+447700900999"


def text(pager: Pager, number: str, body: str, now: datetime) -> str | None:
    """An SMS from `number` to pager at `now`; pager's auto-reply (None: no answer)."""
    sms = InboundSms(number, "pager", body, "SM" + secrets.token_hex(16))
    with freeze_time(now):
        return replies.handle_sms(pager, "sandbox", sms, now)


def open_and_page(pager: Pager, group: str = "g1", now: datetime = T0) -> tuple[int, str]:
    """An incident of its own alert group, paged to Alice by SMS; its id and ack code."""
    body = payload("alertmanager_firing.json")
    body["groupKey"] = group
    for alert in body["alerts"]:
        alert["fingerprint"] = f"{group}-{alert['fingerprint']}"
    with freeze_time(now):
        [incident_id] = receive(pager, "payments-am", body, now).opened
        run_due(pager, now)
    sms = [m.body for m in phone(pager, ALICE) if f"#{incident_id} " in m.body][-1]
    found = re.search(r"ACK (\d+)", sms)
    assert found, sms
    return incident_id, found.group(1)


def lines(pager: Pager, incident_id: int) -> list[str]:
    return [entry.message for entry in incidents.view(pager, incident_id).timeline]


def audit_rows(pager: Pager, action: str) -> list[tuple[str, str, str, str]]:
    """(actor, way, target, detail) of each audit row of `action`, oldest first."""
    with pager.db.read() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        return [(r.actor, r.way, r.target, r.detail) for r in rows if r.action == action]


def pages_to(pager: Pager, incident_id: int) -> list[tuple[str, str]]:
    """(person, channel) of every page of the incident, in order."""
    with pager.db.read() as session:
        rows = session.scalars(
            select(Notification)
            .where(Notification.incident_id == incident_id)
            .order_by(Notification.id)
        ).all()
        return [(row.person, row.channel) for row in rows]


def test_it_runs_the_next_step_now_on_esc_and_says_what_it_did(pager: Pager) -> None:
    incident_id, code = open_and_page(pager)
    at = T0 + timedelta(minutes=1)  # step 2 (a call) was due at 5 minutes

    answer = text(pager, ALICE, f"esc {code}", at)

    assert answer == f"Escalated #{incident_id}: step 2 of 3, calling Alice Example now."
    run_due(pager, at)
    assert pages_to(pager, incident_id) == [("alice", "sms"), ("alice", "voice")]
    assert lines(pager, incident_id)[-5:] == [
        f"Alice Example (+44******0101) replied 'esc {code}'",
        "Alice Example asked to escalate now (sms)",
        f"answered Alice Example: {answer}",
        "step 2: paging Alice Example by voice",
        "call to Alice Example (+44******0101) sent via sandbox",
    ]
    # Bare, with one open page: the step after, Carol by SMS and call.
    later = at + timedelta(seconds=30)
    assert text(pager, ALICE, "ESC", later) == (
        f"Escalated #{incident_id}: step 3 of 3, texting and calling Carol Example now."
    )
    run_due(pager, later)
    assert [body for body in (m.body for m in phone(pager, CAROL))][0].startswith(
        f"[pager] #{incident_id} payments"
    )
    assert [row[:3] for row in audit_rows(pager, "incident_escalated_now")] == [
        ("Alice Example", "sms", f"incident #{incident_id}")
    ] * 2


def test_esc_does_not_escalate_an_acknowledged_incident(pager: Pager) -> None:
    incident_id, code = open_and_page(pager)
    text(pager, ALICE, f"ACK {code}", T0)
    assert text(pager, ALICE, f"ESC {code}", T0) == (
        f"#{incident_id} is not escalating: it was acknowledged by Alice Example."
    )
    assert incidents.view(pager, incident_id).status == "acknowledged"


def test_esc_says_when_the_policy_has_run_out(pager: Pager) -> None:
    incident_id, code = open_and_page(pager)
    now = T0
    for _ in range(5):  # steps 2 to 6 (the policy repeats once)
        now += timedelta(seconds=1)
        assert text(pager, ALICE, f"ESC {code}", now).startswith(f"Escalated #{incident_id}:")
        run_due(pager, now)
    assert text(pager, ALICE, f"ESC {code}", now + timedelta(seconds=1)) == (
        f"#{incident_id} ran all its escalation steps: nobody is left to page."
    )


def test_it_snoozes_and_triggers_again_when_the_snooze_ends(pager: Pager) -> None:
    incident_id, code = open_and_page(pager)
    at = T0 + timedelta(minutes=1)

    answer = text(pager, ALICE, f"SNOOZE {code} 30m", at)

    assert answer == (
        f"Snoozed #{incident_id} payments: HighErrorRate. Pages again at 03:31 unless resolved "
        f"(RES {code})."
    )
    view = incidents.view(pager, incident_id)
    assert (view.status, view.acknowledged_by) == ("acknowledged", "Alice Example")
    assert lines(pager, incident_id)[-4:] == [
        f"Alice Example (+44******0101) replied 'SNOOZE {code} 30m'",
        "acknowledged by Alice Example (sms)",
        "snoozed by Alice Example (sms) for 30m: escalates again at 03:31 UTC unless resolved",
        f"answered Alice Example: {answer}",
    ]
    assert audit_rows(pager, "incident_snoozed") == [
        ("Alice Example", "sms", f"incident #{incident_id}", "30m")
    ]
    with freeze_time(at + timedelta(minutes=29, seconds=59)):
        run_due(pager, at + timedelta(minutes=29, seconds=59))
    assert incidents.view(pager, incident_id).status == "acknowledged"
    assert len(phone(pager, ALICE)) == 1

    # Another instance (or this one restarted) finds the deadline in the database.
    again = build_pager(pager.settings)
    try:
        with freeze_time(at + timedelta(minutes=30)):
            run_due(again, at + timedelta(minutes=30))
    finally:
        again.db.dispose()
    view = incidents.view(pager, incident_id)
    assert view.status == "triggered"
    assert "acknowledged 30 min ago and not resolved: escalating again" in lines(pager, incident_id)
    assert len(phone(pager, ALICE)) == 2  # paged again from step 1


def test_a_snooze_resolved_in_time_pages_nobody_again(pager: Pager) -> None:
    incident_id, code = open_and_page(pager)
    text(pager, ALICE, "snooze 1h", T0)  # bare: Alice's only open page
    text(pager, ALICE, f"RES {code}", T0 + timedelta(minutes=20))
    with freeze_time(T0 + timedelta(hours=2)):
        run_due(pager, T0 + timedelta(hours=2))
    assert incidents.view(pager, incident_id).status == "resolved"
    assert len(phone(pager, ALICE)) == 1


def test_a_second_snooze_moves_the_deadline(pager: Pager) -> None:
    incident_id, code = open_and_page(pager)
    text(pager, ALICE, f"SNOOZE {code} 10m", T0)
    assert "Pages again at 03:45" in (
        text(pager, ALICE, f"SNOOZE {code} 40m", T0 + timedelta(minutes=5)) or ""
    )
    with freeze_time(T0 + timedelta(minutes=30)):
        run_due(pager, T0 + timedelta(minutes=30))
    assert incidents.view(pager, incident_id).status == "acknowledged"
    with freeze_time(T0 + timedelta(minutes=45)):
        run_due(pager, T0 + timedelta(minutes=45))
    assert incidents.view(pager, incident_id).status == "triggered"


def test_a_snooze_longer_than_the_setting_is_refused(database_url: str) -> None:
    pager = build_pager(make_settings(database_url))
    try:
        incident_id, code = open_and_page(pager)
        assert text(pager, ALICE, f"SNOOZE {code} 5h", T0) == (
            "A snooze lasts 4h at most. Reply SNOOZE <code> 4h, or less."
        )
        assert incidents.view(pager, incident_id).status == "triggered"
    finally:
        pager.db.dispose()
    longer = replace(
        make_settings(database_url), sms_console=SmsConsoleSettings(timedelta(hours=8))
    )
    pager = build_pager(longer)
    try:
        assert (text(pager, ALICE, f"SNOOZE {code} 5h", T0) or "").startswith(
            f"Snoozed #{incident_id}"
        )
    finally:
        pager.db.dispose()


def test_a_snooze_written_wrong_says_how_and_is_on_the_timeline(pager: Pager) -> None:
    incident_id, code = open_and_page(pager)
    answer = text(pager, ALICE, f"SNOOZE {code} 30x", T0)
    assert answer == (
        "'30x' is not a duration. SNOOZE <code> 30m acknowledges now and pages again after 30m "
        "unless resolved. At most 4h; 90s, 2h, 1h30m work too."
    )
    assert incidents.view(pager, incident_id).status == "triggered"
    assert lines(pager, incident_id)[-2:] == [
        f"Alice Example (+44******0101) replied 'SNOOZE {code} 30x'",
        f"answered Alice Example: {answer}",
    ]


def test_it_adds_a_note_to_the_timeline(pager: Pager) -> None:
    incident_id, code = open_and_page(pager)
    answer = text(pager, ALICE, f"NOTE {code} restarted the primary, watching.", T0)
    assert answer == f"Noted on #{incident_id} payments: HighErrorRate."
    timeline = incidents.view(pager, incident_id).timeline
    assert [(e.kind, e.message) for e in timeline if e.kind == "note"] == [
        ("note", "Alice Example (sms): restarted the primary, watching.")
    ]
    assert incidents.view(pager, incident_id).status == "triggered"  # a note changes no state
    assert audit_rows(pager, "incident_note")[0][:2] == ("Alice Example", "sms")


def test_it_tells_who_is_on_call_in_the_senders_time_zone(pager: Pager) -> None:
    # Bob (New York) is in sre-primary and was never paged; Carol (Berlin) is in no rotation.
    assert text(pager, BOB, "ONCALL", T0) == (
        "On call (America/New_York): sre-primary Alice Example until Mon 04:00, then Bob Example."
    )
    assert text(pager, CAROL, "on call SRE-PRIMARY", T0) == (
        "On call (Europe/Berlin): sre-primary Alice Example until Mon 10:00, then Bob Example."
    )
    assert text(pager, CAROL, "ONCALL sre-secondary", T0) == (
        "No rotation 'sre-secondary'. There are: sre-primary."
    )


def test_it_lists_the_senders_open_pages_with_codes_and_states(pager: Pager) -> None:
    first, code_1 = open_and_page(pager, "g1")
    second, code_2 = open_and_page(pager, "g2")
    text(pager, ALICE, f"SNOOZE {code_2} 45m", T0)
    assert text(pager, ALICE, "STATUS", T0) == (
        f"2 open: #{first} payments triggered, code {code_1}; #{second} payments acked by Alice "
        f"Example until 03:45, code {code_2}."
    )
    assert text(pager, BOB, "STATUS", T0) == "You have no open pages."


def test_bare_commands_ask_which_page_when_there_are_several(pager: Pager) -> None:
    _, code_1 = open_and_page(pager, "g1")
    _, code_2 = open_and_page(pager, "g2")
    assert text(pager, ALICE, "SNOOZE 30m", T0) == (
        f"You have 2 open pages. Reply SNOOZE <code> 30m: {code_1}, {code_2}."
    )
    assert text(pager, ALICE, "ESC", T0) == (
        f"You have 2 open pages. Reply ESC <code>: {code_1}, {code_2}."
    )
    assert text(pager, ALICE, "NOTE on it", T0) == (
        f"You have 2 open pages. Reply NOTE <code> <text>: {code_1}, {code_2}."
    )


def test_help_lists_every_command_and_each_one_on_request(pager: Pager) -> None:
    open_and_page(pager)
    assert text(pager, ALICE, "HELP", T0) == help_text()
    assert text(pager, BOB, "help esc", T0) == (
        "ESC <code> runs the incident's next escalation step now (ESC alone: your only open page)."
    )


def test_commands_on_an_incident_count_only_for_pages_to_that_number(pager: Pager) -> None:
    incident_id, code = open_and_page(pager)
    # Bob is in the rotation but was not paged for it: his code means nothing.
    assert text(pager, BOB, f"ESC {code}", T0) == (
        f"No open page with code {code} for this number. Reply HELP for help."
    )
    assert text(pager, BOB, f"NOTE {code} mine now", T0) == (
        f"No open page with code {code} for this number. Reply HELP for help."
    )
    assert pages_to(pager, incident_id) == [("alice", "sms")]
    assert all(e.kind != "note" for e in incidents.view(pager, incident_id).timeline)


def test_wrong_codes_in_any_command_lock_the_number(pager: Pager) -> None:
    _, code = open_and_page(pager)
    wrong = "0000" if code != "0000" else "1111"
    for command in ("ESC", "SNOOZE", "NOTE", "ACK", "RES"):
        suffix = {"SNOOZE": " 30m", "NOTE": " x"}.get(command, "")
        text(pager, ALICE, f"{command} {wrong}{suffix}", T0)
    assert text(pager, ALICE, f"ESC {code}", T0) == "Too many wrong codes. Try again in 15 minutes."


def test_a_stranger_gets_no_answer_and_leaves_no_audit_line(pager: Pager) -> None:
    for command in ("STATUS", "ONCALL", "HELP", "ESC", "NOTE hello"):
        assert text(pager, STRANGER, command, T0) is None
    assert audit_rows(pager, "sms_command") == []


def test_every_command_good_or_not_is_in_the_audit_trail(pager: Pager) -> None:
    incident_id, code = open_and_page(pager)
    for body in ("STATUS", "ONCALL", "out of office", f"NOTE {code} on it", "HELP"):
        text(pager, ALICE, body, T0)
    rows = audit_rows(pager, "sms_command")
    assert [(actor, way) for actor, way, _, _ in rows] == [("Alice Example", "sms")] * 5
    assert [target for _, _, target, _ in rows] == [
        "",
        "",
        f"incident #{incident_id}",  # not understood, from someone with one open page
        f"incident #{incident_id}",
        "",
    ]
    assert rows[0][3].startswith(f"'STATUS': 1 open: #{incident_id} payments triggered")
    assert rows[2][3] == "'out of office': Not understood. Reply HELP for the commands."
    assert rows[3][3] == f"'NOTE {code} on it': Noted on #{incident_id} payments: HighErrorRate."
