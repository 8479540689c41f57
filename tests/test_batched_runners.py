"""The batched send path with two runners on one database (issue 16): each claims a batch, starts
its attempts in one transaction, calls a slow provider on its pool and records the answers in
batches, while incidents keep arriving. Every page goes out once, none is lost, and both runners
do some of the work.

Two `Pager`s, each with its own engine (as two processes have), in this process: the runners'
threads are real, and so is the fake Twilio, which takes 250 ms over each message as the real API
does. The rotations page people directly (no shifts), so they are right at any instant."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from werkzeug.wrappers import Response

from pager.app import build_pager
from pager.config import IntegrationSettings
from pager.flows.context import Pager, utcnow
from pager.scheduler import Runner
from tests.conftest import make_settings, twilio_settings
from tests.e2e.test_instances import write_rotations
from tests.fakes.twilio import FakeTwilio
from tests.helpers import payload, receive

PEOPLE = 60
DELAY = 0.25  # seconds the fake Twilio takes over each message


class SlowTwilio(FakeTwilio):
    """Takes `DELAY` over each message, side by side (its server is threaded)."""

    def __init__(self) -> None:
        super().__init__(auto_status=None)

    def _create_message(self, form: Any) -> Response:
        time.sleep(DELAY)
        response: Response = super()._create_message(form)
        return response


def alert(i: int) -> dict[str, object]:
    body = payload("alertmanager_firing.json")
    body["groupKey"] = f"batched-{i}"
    body["alerts"] = [dict(body["alerts"][0], fingerprint=f"batched-{i}")]
    return body


@pytest.fixture
def two_pagers(tmp_path: Path, database_url: str) -> Iterator[tuple[Pager, Pager, SlowTwilio]]:
    rotations = write_rotations(tmp_path / "rotations", PEOPLE)
    integrations = {
        f"s{i}": IntegrationSettings(f"s{i}", f"s{i}", "alertmanager", "am-token")
        for i in range(PEOPLE)
    }
    with SlowTwilio() as twilio:
        pagers = []
        for sender in ("+15017122661", "+15017122662"):  # which runner sent it, by its From
            account = twilio_settings(twilio)
            account = replace(account, options={**account.options, "from": sender})
            settings = make_settings(
                database_url, account, rotations=rotations, integrations=integrations
            )
            pagers.append(build_pager(settings))
        try:
            yield pagers[0], pagers[1], twilio
        finally:
            for pager in pagers:
                pager.db.dispose()


def test_it_sends_each_page_once_with_two_batching_runners_on_one_database(
    two_pagers: tuple[Pager, Pager, SlowTwilio],
) -> None:
    first, second, twilio = two_pagers
    runners = [Runner(first, poll=0.2), Runner(second, poll=0.2)]
    for runner in runners:
        runner.start()
    try:
        for i in range(PEOPLE):  # arriving at both, while the runners send
            receive((first, second)[i % 2], f"s{i}", alert(i), utcnow())
            time.sleep(0.01)
        twilio.wait_for_messages(PEOPLE, timeout=60)
        time.sleep(1.0)  # a page sent twice would arrive by now
    finally:
        for runner in runners:
            runner.stop()

    to = Counter(m["To"] for m in twilio.messages)
    assert len(to) == PEOPLE and set(to.values()) == {1}  # everyone once, nobody twice
    by_runner = Counter(m["From"] for m in twilio.messages)
    assert set(by_runner) == {"+15017122661", "+15017122662"}  # both did some of the work
    with first.db.read() as session:
        statuses = [
            status for (status,) in session.execute(text("SELECT status FROM notifications"))
        ]
    # Each answer recorded, none left on its way (no delivery callbacks reach us here).
    assert len(statuses) == PEOPLE and set(statuses) == {"sent"}
