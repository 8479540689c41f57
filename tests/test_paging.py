"""The paging loop through the flows, on SQLite and PostgreSQL, with freezegun for time."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta

from freezegun import freeze_time

from pager.domain.reply_texts import help_text
from pager.flows import incidents, replies
from pager.flows.context import Pager
from pager.providers.base import InboundSms
from tests.helpers import ALICE, BOB, CAROL, payload, phone, receive, run_due

T0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # a Wednesday: alice's week on sre-primary


def sms_from(pager: Pager, number: str, body: str, now: datetime) -> str | None:
    message_id = "SM" + secrets.token_hex(16)
    return replies.handle_sms(pager, "sandbox", InboundSms(number, "pager", body, message_id), now)


def code_of(text: str) -> str:
    found = re.search(r"ACK (\d+)", text)
    assert found, text
    return found.group(1)


def open_and_page(pager: Pager, now: datetime = T0) -> int:
    with freeze_time(now):
        result = receive(pager, "payments-am", payload("alertmanager_firing.json"), now)
        run_due(pager, now)
    assert len(result.opened) == 1
    return result.opened[0]


def test_it_opens_one_incident_for_an_alert_group_and_texts_the_person_on_call(
    pager: Pager,
) -> None:
    incident_id = open_and_page(pager)

    view = incidents.view(pager, incident_id)
    assert (view.status, view.service, view.title, view.alert_count) == (
        "triggered",
        "payments",
        "HighErrorRate",
        2,
    )
    [sms] = phone(pager, ALICE)
    code = code_of(sms.body)
    assert sms.body == (
        f"[pager] #{incident_id} payments: HighErrorRate (2 firing): 5xx rate above 5% on "
        f"checkout-1. Reply ACK {code} to acknowledge, RES {code} to resolve."
    )
    assert phone(pager, BOB) == []
    kinds = [entry.kind for entry in view.timeline]
    assert kinds == ["opened", "escalation", "page"]


def test_it_deduplicates_a_repeated_notification_by_fingerprint(pager: Pager) -> None:
    incident_id = open_and_page(pager)
    later = T0 + timedelta(minutes=1)
    with freeze_time(later):
        again = receive(pager, "payments-am", payload("alertmanager_firing.json"), later)
        run_due(pager, later)
    assert again.opened == [] and again.updated == [incident_id]
    assert incidents.view(pager, incident_id).alert_count == 2
    assert len(phone(pager, ALICE)) == 1


def test_it_joins_a_new_alert_of_the_same_group_to_the_open_incident(pager: Pager) -> None:
    incident_id = open_and_page(pager)
    body = payload("alertmanager_firing.json")
    body["alerts"] = [dict(body["alerts"][0], fingerprint="0000000000000003")]
    result = receive(pager, "payments-am", body, T0)
    assert result.opened == [] and result.updated == [incident_id]
    assert incidents.view(pager, incident_id).alert_count == 3


def test_it_resolves_the_incident_when_every_alert_resolved(pager: Pager) -> None:
    incident_id = open_and_page(pager)
    body = payload("alertmanager_resolved.json")
    first_only = dict(body, alerts=body["alerts"][:1])
    assert receive(pager, "payments-am", first_only, T0).resolved == []
    assert incidents.view(pager, incident_id).status == "triggered"

    assert receive(pager, "payments-am", body, T0).resolved == [incident_id]
    view = incidents.view(pager, incident_id)
    assert (view.status, view.resolved_by) == ("resolved", "payments-am")


def test_it_escalates_step_by_step_until_someone_acknowledges(pager: Pager) -> None:
    incident_id = open_and_page(pager)
    with freeze_time(T0 + timedelta(minutes=4, seconds=59)):
        run_due(pager, T0 + timedelta(minutes=4, seconds=59))
    assert [m.channel for m in phone(pager, ALICE)] == ["sms"]

    at_step_2 = T0 + timedelta(minutes=5)
    with freeze_time(at_step_2):
        run_due(pager, at_step_2)
    assert [m.channel for m in phone(pager, ALICE)] == ["sms", "voice"]
    assert phone(pager, CAROL) == []

    at_step_3 = T0 + timedelta(minutes=10)
    with freeze_time(at_step_3):
        run_due(pager, at_step_3)
    assert sorted(m.channel for m in phone(pager, CAROL)) == ["sms", "voice"]

    code = code_of(phone(pager, ALICE)[0].body)
    reply = sms_from(pager, ALICE, f"ack {code}", at_step_3 + timedelta(seconds=30))
    assert (
        reply
        == f"Acknowledged #{incident_id} payments: HighErrorRate. Reply RES {code} when resolved."
    )
    view = incidents.view(pager, incident_id)
    assert (view.status, view.acknowledged_by) == ("acknowledged", "Alice Example")

    much_later = T0 + timedelta(hours=2)
    with freeze_time(much_later):
        run_due(pager, much_later)
    assert len(phone(pager, ALICE)) == 2  # the sms and the call, nothing more
    assert len(phone(pager, CAROL)) == 2


def test_it_repeats_the_policy_then_stops_with_a_timeline_entry(pager: Pager) -> None:
    incident_id = open_and_page(pager)
    now = T0
    for _ in range(8):
        now += timedelta(minutes=10)
        with freeze_time(now):
            run_due(pager, now)
    # repeat: 1 runs the three steps twice: alice sms, alice voice, carol sms+voice, twice over.
    assert [m.channel for m in phone(pager, ALICE)] == ["sms", "voice", "sms", "voice"]
    assert len(phone(pager, CAROL)) == 4
    last = incidents.view(pager, incident_id).timeline[-1]
    assert last.message == "escalation ended after 6 steps with no acknowledgement"


def test_it_accepts_an_ack_only_from_a_number_that_was_paged(pager: Pager) -> None:
    incident_id = open_and_page(pager)
    code = code_of(phone(pager, ALICE)[0].body)
    # Bob is in the rotation but was not paged for this incident; a stranger is unknown.
    assert sms_from(pager, "+447700900999", f"ACK {code}", T0) is None
    assert incidents.view(pager, incident_id).status == "triggered"


def test_it_answers_help_to_someone_in_the_rotations_never_paged_but_takes_no_ack(
    pager: Pager,
) -> None:
    incident_id = open_and_page(pager)
    code = code_of(phone(pager, ALICE)[0].body)
    assert phone(pager, BOB) == []  # in the rotation, never paged
    assert sms_from(pager, BOB, "HELP", T0) == help_text()
    assert sms_from(pager, BOB, f"ACK {code}", T0 + timedelta(seconds=1)) == (
        f"No open page with code {code} for this number. Reply HELP for help."
    )
    assert incidents.view(pager, incident_id).status == "triggered"


def test_it_answers_wrong_codes_and_locks_the_sender_after_five(pager: Pager) -> None:
    incident_id = open_and_page(pager)
    code = code_of(phone(pager, ALICE)[0].body)
    wrong = "9999" if code != "9999" else "1111"
    for i in range(5):
        reply = sms_from(pager, ALICE, f"ACK {wrong}", T0 + timedelta(seconds=i))
        assert reply == f"No open page with code {wrong} for this number. Reply HELP for help."
    locked = sms_from(pager, ALICE, f"ACK {code}", T0 + timedelta(seconds=10))
    assert locked == "Too many wrong codes. Try again in 15 minutes."
    assert incidents.view(pager, incident_id).status == "triggered"
    after = sms_from(pager, ALICE, f"ACK {code}", T0 + timedelta(minutes=16))
    assert after is not None and after.startswith("Acknowledged")


def test_it_takes_a_bare_ack_when_the_sender_has_one_open_page(pager: Pager) -> None:
    incident_id = open_and_page(pager)
    assert sms_from(pager, ALICE, "  Ack ", T0).startswith(f"Acknowledged #{incident_id}")  # type: ignore[union-attr]


def test_it_asks_which_one_when_a_bare_ack_matches_two_pages(pager: Pager) -> None:
    open_and_page(pager)
    body = payload("grafana_firing.json")
    with freeze_time(T0):
        receive(pager, "payments-grafana", body, T0)
        run_due(pager, T0)
    codes = [code_of(m.body) for m in phone(pager, ALICE)]
    assert (
        sms_from(pager, ALICE, "ACK", T0)
        == f"You have 2 open pages. Reply ACK <code>: {codes[0]}, {codes[1]}."
    )


def test_it_resolves_by_sms_and_stops_escalating(pager: Pager) -> None:
    incident_id = open_and_page(pager)
    code = code_of(phone(pager, ALICE)[0].body)
    assert (
        sms_from(pager, ALICE, f"RES {code}", T0)
        == f"Resolved #{incident_id} payments: HighErrorRate."
    )
    with freeze_time(T0 + timedelta(hours=1)):
        run_due(pager, T0 + timedelta(hours=1))
    assert [m.direction for m in phone(pager, ALICE)] == ["out"]


def test_it_honours_stop_for_sms_but_still_calls(pager: Pager) -> None:
    incident_id = open_and_page(pager)
    assert (
        sms_from(pager, ALICE, "STOP", T0)
        == "You will get no more SMS pages from pager. Reply START to resume."
    )
    second = T0 + timedelta(minutes=1)
    body = payload("grafana_firing.json")
    with freeze_time(second):
        receive(pager, "payments-grafana", body, second)
        run_due(pager, second)
    assert len(phone(pager, ALICE)) == 1  # the second incident's SMS was not sent
    with freeze_time(second + timedelta(minutes=5)):
        run_due(pager, second + timedelta(minutes=5))
    assert [m.channel for m in phone(pager, ALICE)][-1] == "voice"
    assert sms_from(pager, ALICE, "start", second) == "SMS pages from pager resumed."
    assert incidents.view(pager, incident_id).status == "triggered"


def test_it_stays_quiet_when_a_robot_keeps_replying(pager: Pager) -> None:
    incident_id = open_and_page(pager)
    answers = [
        sms_from(pager, ALICE, "out of office", T0 + timedelta(seconds=i)) for i in range(12)
    ]
    assert answers[:10] == ["Not understood. Reply HELP for the commands."] * 10
    assert answers[10:] == [None, None]
    # Each one is on the timeline of Alice's one open page, the unanswered ones said so.
    answered = [
        e.message for e in incidents.view(pager, incident_id).timeline if e.kind == "auto-reply"
    ]
    assert answered[-3:] == [
        "answered Alice Example: Not understood. Reply HELP for the commands.",
        "answered Alice Example: (not answered: auto-replies limited)",
        "answered Alice Example: (not answered: auto-replies limited)",
    ]


def test_it_keeps_the_policy_it_opened_with_when_the_rotations_change(pager: Pager) -> None:
    incident_id = open_and_page(pager)
    schedule = pager.rotations.schedule
    assert schedule is not None
    pager.rotations.schedule = type(schedule)(
        people=schedule.people,
        rotations=schedule.rotations,
        overrides=schedule.overrides,
        policies={},
        services={},
    )
    at_step_2 = T0 + timedelta(minutes=5)
    with freeze_time(at_step_2):
        run_due(pager, at_step_2)
    assert [m.channel for m in phone(pager, ALICE)] == ["sms", "voice"]
    assert incidents.view(pager, incident_id).status == "triggered"


def test_it_runs_a_due_step_once_when_two_runners_race(pager: Pager) -> None:
    from pager.flows import escalate

    with freeze_time(T0):
        incident_id = receive(pager, "payments-am", payload("alertmanager_firing.json"), T0).opened[
            0
        ]
        assert escalate.escalate(pager, incident_id, T0) is True
        assert escalate.escalate(pager, incident_id, T0) is False
        run_due(pager, T0)
    assert len(phone(pager, ALICE)) == 1


def test_it_resumes_escalation_after_a_restart(pager: Pager) -> None:
    from pager.app import build_pager

    incident_id = open_and_page(pager)
    restarted = build_pager(pager.settings)
    try:
        at_step_2 = T0 + timedelta(minutes=6)
        with freeze_time(at_step_2):
            run_due(restarted, at_step_2)
        assert [m.channel for m in phone(restarted, ALICE)] == ["sms", "voice"]
        assert incidents.view(restarted, incident_id).status == "triggered"
    finally:
        restarted.db.dispose()


def test_it_acknowledges_and_resolves_through_the_api_flow(pager: Pager) -> None:
    incident_id = open_and_page(pager)
    view = incidents.acknowledge(pager, incident_id, "ops-bot", "api", T0 + timedelta(seconds=90))
    assert (view.status, view.acknowledged_by) == ("acknowledged", "ops-bot")
    view = incidents.resolve(pager, incident_id, "ops-bot", "api", T0 + timedelta(minutes=3))
    assert view.status == "resolved"
    assert [e.message for e in view.timeline][-2:] == [
        "acknowledged by ops-bot (api)",
        "resolved by ops-bot (api)",
    ]


def test_it_snapshots_policy_targets_as_what_they_page_when_the_incident_opens(
    database_url: str,
) -> None:
    from pager.app import build_pager
    from pager.domain.rotation_schema import parse_schedule
    from tests.conftest import ROTATIONS, make_settings

    text = (ROTATIONS / "team.yaml").read_text()
    text = text.replace(
        "      - {targets: [person:carol], channels: [sms, voice], wait: 10m}",
        "      - {targets: [policy:dba], channels: [sms, voice], wait: 10m}\n"
        "  dba:\n    steps:\n      - {targets: [person:carol], channels: [sms], wait: 5m}",
    )
    schedule, problems = parse_schedule([("team.yaml", text)])
    assert problems == [] and schedule is not None
    pager = build_pager(make_settings(database_url))
    try:
        pager.rotations.schedule = schedule
        incident_id = open_and_page(pager)
        from pager.store import incidents as incident_store

        with pager.db.transaction() as session:
            snapshot = incident_store.get(session, incident_id).policy  # type: ignore[union-attr]
        assert [s["targets"] for s in snapshot["steps"]] == [
            ["rotation:sre-primary"],
            ["rotation:sre-primary"],
            ["person:carol"],
        ]
    finally:
        pager.db.dispose()


def test_it_notes_a_target_that_an_edit_removed_and_moves_on(pager: Pager) -> None:
    incident_id = open_and_page(pager)
    schedule = pager.rotations.schedule
    assert schedule is not None
    pager.rotations.schedule = type(schedule)(
        people=schedule.people,
        rotations={},
        overrides=(),
        policies=schedule.policies,
        services=schedule.services,
    )
    at_step_2 = T0 + timedelta(minutes=5)
    with freeze_time(at_step_2):
        run_due(pager, at_step_2)
    messages = [e.message for e in incidents.view(pager, incident_id).timeline]
    assert "rotation:sre-primary is no longer in the rotations" in messages
    # With nobody to page at step 2, step 3 (carol) runs at once rather than 5 minutes later.
    assert sorted(m.channel for m in phone(pager, CAROL)) == ["sms", "voice"]


def test_it_confirms_every_ack_even_past_the_auto_reply_limit(pager: Pager) -> None:
    for n in range(12):  # one new incident every 6 minutes stays under the per-number limits
        at = T0 + timedelta(minutes=6 * n)
        body = payload("alertmanager_firing.json")
        body["groupKey"] = f"group-{n}"
        for alert in body["alerts"]:
            alert["fingerprint"] = f"{alert['fingerprint'][:-2]}{n:02d}"
        with freeze_time(at):
            receive(pager, "payments-am", body, at)
            run_due(pager, at)
    from pager.store.models import Incident

    with pager.db.transaction() as session:
        codes = [i.ack_code for i in session.query(Incident).order_by(Incident.id)]
    assert len(codes) == 12
    ack_at = T0 + timedelta(minutes=75)
    answers = [sms_from(pager, ALICE, f"ACK {code}", ack_at) for code in codes]
    assert all(a is not None and a.startswith("Acknowledged") for a in answers), answers


def test_it_acts_once_on_a_replayed_inbound_message(pager: Pager) -> None:
    incident_id = open_and_page(pager)
    code = code_of(phone(pager, ALICE)[0].body)
    sms = InboundSms(ALICE, "pager", f"ACK {code}", "SMreplayed")
    assert replies.handle_sms(pager, "twilio", sms, T0) is not None
    assert replies.handle_sms(pager, "twilio", sms, T0 + timedelta(seconds=5)) is None
    replied = [e for e in incidents.view(pager, incident_id).timeline if e.kind == "reply"]
    assert len(replied) == 1
