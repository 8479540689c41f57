"""Each provider account keeps to its send rate, shared by every runner through the database:
what its rate holds back waits, pending, in order, and is never dropped or counted as failed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from freezegun import freeze_time
from sqlalchemy import create_engine, select, text

from pager.app import build_pager
from pager.config import ConfigError, ProviderSettings, load_settings
from pager.domain.limits import Limit
from pager.flows import dispatch, incidents
from pager.flows.context import Pager
from pager.store.db import MIGRATIONS
from pager.store.models import Attempt, Notification, ProviderSlot
from tests.conftest import make_settings, twilio_settings
from tests.fakes.sinch import FakeSinch
from tests.fakes.twilio import FakeTwilio
from tests.helpers import payload, receive, run_due

T0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
ONE_A_SECOND = Limit(1, timedelta(seconds=1))
NUMBERS = [f"+4477009002{i:02d}" for i in range(6)]


def rated(settings: ProviderSettings, rate: Limit | None) -> ProviderSettings:
    return ProviderSettings(settings.name, settings.type, settings.options, rate=rate)


def sinch_settings(fake: FakeSinch, rate: Limit | None) -> ProviderSettings:
    options = {"service_plan_id": fake.service_plan_id, "api_token": fake.api_token}
    options |= {"from": "+447700900500", "base_url": fake.base_url}
    return ProviderSettings("sinch", "sinch", options, rate=rate)


@pytest.fixture
def fake_sinch() -> Iterator[FakeSinch]:
    with FakeSinch(auto_status=None) as fake:
        yield fake


def queue_burst(pager: Pager, numbers: list[str]) -> list[int]:
    """Notices to each number, queued at T0 in this order (oldest first)."""
    with pager.db.transaction() as session:
        burst = [
            Notification(
                step=0,
                person=f"p{i}",
                person_name=f"Person {i}",
                phone=number,
                channel="sms",
                body=f"Page {i}",
                next_attempt_at=T0,
                created_at=T0,
                updated_at=T0,
            )
            for i, number in enumerate(numbers)
        ]
        session.add_all(burst)
        session.flush()
        return [n.id for n in burst]


def run_at(pager: Pager, at: datetime) -> None:
    with freeze_time(at):
        run_due(pager, at)


def statuses(pager: Pager) -> list[tuple[str, datetime | None]]:
    with pager.db.transaction() as session:
        rows = session.scalars(select(Notification).order_by(Notification.id))
        return [(n.status, n.next_attempt_at) for n in rows]


def test_it_sends_a_burst_one_a_second_in_order_and_drops_none(
    database_url: str, fake_twilio: FakeTwilio
) -> None:
    settings = make_settings(database_url, rated(twilio_settings(fake_twilio), ONE_A_SECOND))
    pager = build_pager(settings)
    queue_burst(pager, NUMBERS)

    for second in range(len(NUMBERS)):
        at = T0 + timedelta(seconds=second)
        run_at(pager, at)
        assert [m["To"] for m in fake_twilio.messages] == NUMBERS[: second + 1]
        run_at(pager, at + timedelta(milliseconds=999))
        assert len(fake_twilio.messages) == second + 1
        if second == 0:
            # The rest wait, pending, for the provider's next free slot: not failed, no attempt.
            assert statuses(pager)[1:] == [("pending", T0 + timedelta(seconds=1))] * 5

    assert [status for status, _ in statuses(pager)] == ["sent"] * len(NUMBERS)
    with pager.db.transaction() as session:
        assert [a.status for a in session.scalars(select(Attempt))] == ["queued"] * len(NUMBERS)
    pager.db.dispose()


def test_it_sends_through_the_next_provider_while_the_first_is_at_its_rate(
    database_url: str, fake_twilio: FakeTwilio, fake_sinch: FakeSinch
) -> None:
    primary = rated(twilio_settings(fake_twilio), ONE_A_SECOND)
    pager = build_pager(make_settings(database_url, primary, sinch_settings(fake_sinch, None)))
    queue_burst(pager, NUMBERS[:3])

    run_at(pager, T0)

    # The first goes through Twilio; the others do not wait for its next free second.
    assert [m["To"] for m in fake_twilio.messages] == NUMBERS[:1]
    assert [b["to"] for b in fake_sinch.messages] == [[n] for n in NUMBERS[1:3]]
    pager.db.dispose()


def test_it_fails_over_at_once_to_a_provider_with_a_free_slot(
    database_url: str, fake_twilio: FakeTwilio, fake_sinch: FakeSinch
) -> None:
    primary = rated(twilio_settings(fake_twilio), ONE_A_SECOND)
    secondary = sinch_settings(fake_sinch, ONE_A_SECOND)
    pager = build_pager(make_settings(database_url, primary, secondary))
    fake_twilio.fail_next = 1
    with freeze_time(T0):
        opened = receive(pager, "payments-am", payload("alertmanager_firing.json"), T0).opened
        [incident_id] = opened
    run_at(pager, T0)

    assert fake_twilio.messages == [] and len(fake_sinch.messages) == 1
    messages = [e.message for e in incidents.view(pager, incident_id).timeline]
    assert "sms to Alice Example (+44******0101) sent via sinch" in messages
    pager.db.dispose()


def test_it_keeps_the_per_number_limit_on_a_page_sent_through_the_next_provider(
    database_url: str, fake_twilio: FakeTwilio, fake_sinch: FakeSinch
) -> None:
    primary = rated(twilio_settings(fake_twilio), ONE_A_SECOND)
    once = {"sms": (Limit(1, timedelta(minutes=15)),)}
    settings = make_settings(database_url, primary, sinch_settings(fake_sinch, None), limits=once)
    pager = build_pager(settings)
    queue_burst(pager, [NUMBERS[0], NUMBERS[0]])

    run_at(pager, T0)

    assert len(fake_twilio.messages) == 1 and fake_sinch.messages == []
    assert statuses(pager)[1] == ("pending", T0 + timedelta(minutes=15))
    pager.db.dispose()


def test_it_waits_for_the_first_provider_to_free_up_when_every_one_is_at_its_rate(
    database_url: str, fake_twilio: FakeTwilio, fake_sinch: FakeSinch
) -> None:
    primary = rated(twilio_settings(fake_twilio), Limit(2, timedelta(seconds=1)))
    secondary = sinch_settings(fake_sinch, Limit(1, timedelta(seconds=2)))
    pager = build_pager(make_settings(database_url, primary, secondary))
    queue_burst(pager, NUMBERS[:5])

    run_at(pager, T0)  # two through Twilio at once (2/s), one through Sinch

    assert len(fake_twilio.messages) == 2 and len(fake_sinch.messages) == 1
    assert statuses(pager)[3:] == [("pending", T0 + timedelta(milliseconds=500))] * 2
    run_at(pager, T0 + timedelta(milliseconds=500))
    assert [m["To"] for m in fake_twilio.messages] == [NUMBERS[0], NUMBERS[1], NUMBERS[3]]
    run_at(pager, T0 + timedelta(seconds=1))
    assert [m["To"] for m in fake_twilio.messages][3:] == [NUMBERS[4]]
    assert len(fake_sinch.messages) == 1
    pager.db.dispose()


def test_it_shares_the_rate_between_runners_through_the_database(
    database_url: str, fake_twilio: FakeTwilio
) -> None:
    settings = make_settings(database_url, rated(twilio_settings(fake_twilio), ONE_A_SECOND))
    runners = [build_pager(settings, migrate=i == 0) for i in range(2)]
    queue_burst(runners[0], NUMBERS[:4])
    with runners[0].db.transaction() as session:  # the account sent a while ago: it is free
        session.add(ProviderSlot(provider="twilio", next_free_at=T0 - timedelta(minutes=1)))
    claimed: list[list[int]] = []
    start = threading.Barrier(len(runners))

    def claim(pager: Pager) -> None:
        start.wait()
        # One row each: on PostgreSQL each runner then locks a different page (SKIP LOCKED).
        claimed.append(dispatch.claim_due(pager, T0, 1, owner=None))

    threads = [threading.Thread(target=claim, args=(pager,)) for pager in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # Two processes claiming at the same instant: one slot between them, the oldest page.
    assert sorted(len(c) for c in claimed) == [0, 1]
    with runners[1].db.transaction() as session:
        [slot] = session.scalars(select(ProviderSlot)).all()
        assert (slot.provider, slot.next_free_at) == ("twilio", T0 + timedelta(seconds=1))
    assert [c for c in claimed if c] == [[min(queue_ids(runners[0]))]]
    for pager in runners:
        pager.db.dispose()


def queue_ids(pager: Pager) -> list[int]:
    with pager.db.transaction() as session:
        return list(session.scalars(select(Notification.id)))


def test_the_migration_keeps_attempts_made_before_it(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            config.attributes["connection"] = connection
            command.upgrade(config, "0008")
            connection.execute(
                text(
                    "INSERT INTO notifications (step, person, person_name, phone, channel, body,"
                    " status, provider_index, round, created_at, updated_at) VALUES (0, 'a', 'A',"
                    " '+447700900101', 'sms', 'x', 'sent', 0, 0, :t, :t)"
                ),
                {"t": T0.replace(tzinfo=None)},
            )
            connection.execute(
                text(
                    "INSERT INTO attempts (notification_id, provider, token, status, created_at,"
                    " updated_at) SELECT id, 'twilio', 'tok', 'sent', :t, :t FROM notifications"
                ),
                {"t": T0.replace(tzinfo=None)},
            )
            command.upgrade(config, "0009")
            rows = connection.execute(text("SELECT token, reference FROM attempts")).all()
            assert [tuple(r) for r in rows] == [("tok", None)]
            assert connection.execute(text("SELECT count(*) FROM provider_slots")).scalar() == 0
            connection.commit()
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("written", "rate"),
    [
        ("1/s", Limit(1, timedelta(seconds=1))),
        ("3/s", Limit(3, timedelta(seconds=1))),
        ("100/s", Limit(100, timedelta(seconds=1))),
        ("30/m", Limit(30, timedelta(minutes=1))),
        ("500/5m", Limit(500, timedelta(minutes=5))),
        ("unlimited", None),
    ],
)
def test_it_reads_a_provider_rate(tmp_path: Path, written: str, rate: Limit | None) -> None:
    config = tmp_path / "pager.yaml"
    config.write_text(
        "providers:\n"
        "  - {name: twilio, type: twilio, account_sid: AC1, auth_token: t, from: '+1500',"
        f" rate: '{written}'}}\n"
        "  - {name: sandbox, type: sandbox}\n"
    )
    twilio, sandbox = load_settings(config, env={}).providers
    assert (twilio.rate, twilio.options.get("rate")) == (rate, None)
    assert sandbox.rate is None


def test_it_gives_each_provider_type_its_default_rate(tmp_path: Path) -> None:
    config = tmp_path / "pager.yaml"
    config.write_text(
        "providers:\n"
        "  - {name: twilio, type: twilio, account_sid: AC1, auth_token: t, from: '+1500'}\n"
        "  - {name: sns, type: sns, region: eu-west-1, access_key_id: a, secret_access_key: s}\n"
        "  - {name: sandbox, type: sandbox}\n"
    )
    rates = [p.rate for p in load_settings(config, env={}).providers]
    assert rates == [ONE_A_SECOND, ONE_A_SECOND, None]


@pytest.mark.parametrize("written", ["fast", "0/s", "1/0s", "1/day", "2", "-1/s"])
def test_it_refuses_a_rate_it_cannot_read_with_file_and_line(tmp_path: Path, written: str) -> None:
    config = tmp_path / "pager.yaml"
    config.write_text(
        "providers:\n"
        "  - name: twilio\n"
        "    type: twilio\n"
        "    account_sid: AC1\n"
        "    auth_token: t\n"
        "    from: '+1500'\n"
        f"    rate: {written}\n"
    )
    with pytest.raises(ConfigError) as raised:
        load_settings(config, env={})
    [problem] = raised.value.problems
    assert str(problem).startswith(f"{config}:7")
    assert f"provider 'twilio' rate: '{written}' is not a rate like 1/s" in str(problem)
