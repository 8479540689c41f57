"""Several instances on one PostgreSQL database: one `pager web` and two `pager worker`s, or two
`pager serve`s, all real processes against a fake Twilio.

- An alert storm (PAGER_STORM_INCIDENTS incidents, default 200, spread over many services and
  people so that no number waits on another) is paged exactly once per incident: the workers
  share the work and never send a step twice.
- kill -9 one worker mid-storm (a storm half that size): every page still goes out, none
  twice: the other worker asks Twilio about each SMS the dead one had claimed but not recorded
  (found there: recorded; not found: sent) within seconds (the figures are printed).
- Two `pager serve`s starting at the same moment on an empty schema migrate it once (the
  advisory lock) and then page each incident once between them (PAGER_MIGRATION_ROUNDS).

Needs PAGER_TEST_POSTGRES_URL; each test gets a schema of its own.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, text
from werkzeug.wrappers import Response

from pager.store.db import MIGRATIONS
from tests.conftest import POSTGRES_URL, _postgres_schema_url
from tests.e2e.daemon import (
    CONFIG,
    INTEGRATION_TOKEN,
    TWILIO_NUMBER,
    Daemon,
    daemon_env,
    free_port,
    start_daemon,
    start_process,
)
from tests.fakes.twilio import FakeTwilio
from tests.helpers import payload

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]
INCIDENTS = int(os.environ.get("PAGER_STORM_INCIDENTS", "200"))
KILL_INCIDENTS = max(40, INCIDENTS // 2)  # enough to kill mid-storm; CI time is precious
MIGRATION_ROUNDS = int(os.environ.get("PAGER_MIGRATION_ROUNDS", "1"))
# Two incidents a person, within the fictional range +447700900000-999; with more incidents
# than that, people get more pages each (limits are lifted, so nothing is held back).
PEOPLE = max(1, min(1000, INCIDENTS // 2))
PROVIDER_DELAY = 0.05  # seconds the fake Twilio takes over an SMS, so pages are in flight
KILL_PROVIDER_DELAY = 0.5
NO_LIMITS = "limits: {sms: [], voice: []}\n"

# The e2e daemon's settings up to its integrations (database, API token, providers);
# start_cluster adds one integration per service.
SETTINGS = CONFIG[: CONFIG.index("integrations:")]


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A URL whose search_path is a fresh schema, dropped afterwards; skips without PostgreSQL."""
    if not POSTGRES_URL:
        pytest.skip(
            "several instances need PostgreSQL: set PAGER_TEST_POSTGRES_URL "
            "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)"
        )
    yield from _postgres_schema_url(POSTGRES_URL)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with postgres_schema() as url:
        yield url


class PagesTwilio(FakeTwilio):
    """Notes when each incident's page arrived; with a `delay`, takes that long over each SMS
    as the real API does, so that each worker has pages in flight."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__(auto_status="delivered")
        self.delay = delay
        self.arrivals: list[tuple[float, int]] = []  # (time.monotonic(), incident number)

    def _create_message(self, form: Any) -> Response:
        if self.delay:
            time.sleep(self.delay)
        response: Response = super()._create_message(form)
        numbers = [int(n) for n in re.findall(r"#(\d+) ", form.get("Body", ""))]
        with self._changed:
            self.arrivals += [(time.monotonic(), n) for n in numbers]
        return response

    def paged(self) -> Counter[int]:
        with self._changed:
            return Counter(n for _, n in self.arrivals)


def alert(fingerprint: str) -> dict[str, Any]:
    """An Alertmanager webhook whose one alert opens an incident of its own."""
    body = payload("alertmanager_firing.json")
    body["groupKey"] = fingerprint
    body["alerts"] = [dict(body["alerts"][0], fingerprint=fingerprint)]
    return body


def write_rotations(directory: Path, people: int) -> Path:
    """One service a person, each paging its person by SMS (no second step during the test)."""
    directory.mkdir()
    lines = ["people:"]
    lines += [
        f'  p{i}: {{name: Person {i}, phone: "+447700900{i:03d}", timezone: UTC}}'
        for i in range(people)
    ]
    lines.append("policies:")
    lines += [
        f"  s{i}: {{steps: [{{targets: ['person:p{i}'], channels: [sms], wait: 1h}}]}}"
        for i in range(people)
    ]
    lines.append("services:")
    lines += [f"  s{i}: {{policy: s{i}}}" for i in range(people)]
    (directory / "storm.yaml").write_text("\n".join(lines) + "\n")
    return directory


@dataclass
class Cluster:
    workdir: Path
    twilio: PagesTwilio
    web: Daemon
    workers: list[subprocess.Popen[bytes]]
    db: Engine

    def runner_of(self, pid: int) -> str:
        [(runner_id,)] = rows(self.db, "SELECT id FROM runners WHERE pid = :pid", pid=pid)
        return str(runner_id)

    def claimed_by(self, runner_id: str) -> dict[int, int]:
        """Pages `runner_id` has claimed and not recorded as sent: notification -> incident."""
        found = rows(
            self.db,
            "SELECT id, incident_id FROM notifications"
            " WHERE status = 'sending' AND lease_owner = :r",
            r=runner_id,
        )
        return dict(found)

    def settled_since(
        self, notifications: list[int], since: datetime
    ) -> dict[int, tuple[datetime, bool]]:
        """Of these notifications, those an attempt settled after `since`: when, and whether
        by sending again (a new attempt) rather than finding the first one at the provider."""
        found = rows(
            self.db,
            "SELECT notification_id, max(updated_at), bool_or(created_at > :since)"
            " FROM attempts WHERE notification_id = ANY(:ids) AND updated_at > :since"
            " AND status <> 'sending' GROUP BY notification_id",
            ids=notifications,
            since=since,
        )
        return {n: (at, resent) for n, at, resent in found}

    def storm(self, name: str, incidents: int) -> list[int]:
        """Post `incidents` alerts from 8 threads, each opening an incident of its own, spread
        over the services; the numbers of the incidents opened."""

        def post(i: int) -> list[int]:
            response = requests.post(
                f"{self.web.url}/integrations/s{i % PEOPLE}",
                json=alert(f"{name}-{i}"),
                headers={"Authorization": f"Bearer {INTEGRATION_TOKEN}"},
                timeout=30,
            )
            assert response.status_code == 200, response.text
            return list(response.json()["opened"])

        with ThreadPoolExecutor(8) as pool:
            return [n for opened in pool.map(post, range(incidents)) for n in opened]

    def sent_by(self) -> list[int]:
        """How many pages each worker has sent, from their logs."""
        logs = [self.workdir / f"worker-{n}.log" for n in range(len(self.workers))]
        return [log.read_text().count("event=page_sent ") for log in logs]

    def figures(self, opened: list[int]) -> tuple[int, set[int], dict[int, int]]:
        """Of `opened`: (SMS sent, never paged, incident -> times paged when more than once)."""
        paged = self.twilio.paged()
        mine = {n: paged[n] for n in opened if n in paged}
        return (
            sum(mine.values()),
            set(opened) - set(mine),
            {n: count for n, count in mine.items() if count > 1},
        )

    def wait_until_paged(self, opened: list[int]) -> None:
        self.web.wait_for(
            lambda: set(opened) <= set(self.twilio.paged()) and settled(self.db),
            timeout=max(60.0, len(opened) / 5),
            what=f"all {len(opened)} incidents paged",
        )

    def stop(self) -> None:
        """Quickly: kill -9 the workers (what pager is built to survive; the schema goes next)
        and gunicorn's quick shutdown for the web."""
        for worker in self.workers:
            if worker.poll() is None:
                worker.kill()
        self.web.process.send_signal(signal.SIGQUIT)
        for process in [*self.workers, self.web.process]:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.db.dispose()


def start_cluster(workdir: Path, twilio: PagesTwilio, database_url: str, workers: int) -> Cluster:
    """`pager web` (2 gunicorn workers) and `workers` x `pager worker`, all ready."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    integrations = "".join(
        f'  s{i}: {{service: s{i}, source: alertmanager, token: "${{PAYMENTS_AM_TOKEN}}"}}\n'
        for i in range(PEOPLE)
    )
    config = workdir / "pager.yaml"
    config.write_text(
        SETTINGS.format(
            rotations=write_rotations(workdir / "rotations", PEOPLE),
            url=url,
            number=TWILIO_NUMBER,
            twilio_url=twilio.base_url,
        )
        + NO_LIMITS
        + "integrations:\n"
        + integrations
    )
    env = daemon_env(workdir, twilio, database_url)
    args = ["--config", str(config)]
    log = workdir / "web.log"
    bind = ["--bind", f"127.0.0.1:{port}", "--workers", "2"]
    process = start_process("web", [*args, *bind], workdir, env, log)
    # All at once, as a deployment starts them; each migrates under the advisory lock.
    started = [
        start_process("worker", args, workdir, env, workdir / f"worker-{n}.log")
        for n in range(workers)
    ]
    web = Daemon(url, process, twilio, log)
    cluster = Cluster(workdir, twilio, web, started, create_engine(database_url))
    try:
        web.wait_for(lambda: _ready(web), timeout=60, what="pager web ready")
        web.wait_for(
            lambda: rows(cluster.db, "SELECT count(*) FROM runners")[0][0] == workers,
            timeout=60,
            what=f"{workers} workers beating",
        )
    except BaseException:
        cluster.stop()
        raise
    return cluster


def rows(db: Engine, sql: str, **params: Any) -> list[Any]:
    with db.connect() as connection:
        return list(connection.execute(text(sql), params).all())


def settled(db: Engine) -> bool:
    """Nothing waits to be escalated or sent: no page can go out (again) from now on."""
    [(waiting,)] = rows(
        db,
        "SELECT (SELECT count(*) FROM notifications WHERE status IN ('pending', 'sending'))"
        " + (SELECT count(*) FROM incidents WHERE escalation_step = 0"
        "    AND escalation_due_at IS NOT NULL)",
    )
    return bool(waiting == 0)


def _ready(daemon: Daemon) -> bool:
    if daemon.process.poll() is not None:
        raise AssertionError(f"exited {daemon.process.returncode}:\n{daemon.log.read_text()}")
    try:
        return requests.get(f"{daemon.url}/readyz", timeout=5).status_code == 200
    except requests.RequestException:  # not listening yet
        return False


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """`pager web` and two `pager worker`s, shared by the storm tests (starting processes is
    most of their time). The test that kills a worker comes last in this file."""
    with postgres_schema() as url, PagesTwilio(PROVIDER_DELAY) as twilio:
        running = start_cluster(tmp_path_factory.mktemp("cluster"), twilio, url, workers=2)
        try:
            yield running
        finally:
            running.stop()


def test_it_pages_every_incident_of_a_storm_exactly_once_with_two_workers(
    cluster: Cluster,
) -> None:
    started = time.monotonic()
    opened = cluster.storm("normal", INCIDENTS)
    posted = time.monotonic() - started
    assert len(set(opened)) == INCIDENTS
    cluster.wait_until_paged(opened)
    took = time.monotonic() - started
    sent, lost, duplicated = cluster.figures(opened)
    shares = cluster.sent_by()
    print(
        f"\ninstances, normal running: incidents={INCIDENTS} sent={sent} lost={len(lost)} "
        f"duplicated={sum(duplicated.values()) - len(duplicated)} per worker={shares} "
        f"alerts posted in {posted:.1f}s, all paged in {took:.1f}s"
    )
    assert lost == set()
    assert duplicated == {}
    assert sent == INCIDENTS
    assert all(shares), f"both workers send: {shares}"


def test_it_takes_over_the_pages_of_a_worker_killed_mid_storm(cluster: Cluster) -> None:
    victim = cluster.workers[0]
    runner = cluster.runner_of(victim.pid)
    before = len(cluster.twilio.arrivals)
    # A slow provider and no delivery callbacks: when the victim stops, most of what it claimed
    # is waiting on the provider, and the survivor must send all of that again (it cannot know
    # it went out), so it measures the takeover. With callbacks those would be marked
    # delivered; with a fast provider, the victim's last commits could record them all.
    cluster.twilio.auto_status = None
    cluster.twilio.delay = KILL_PROVIDER_DELAY
    with ThreadPoolExecutor(1) as background:
        storm: Future[list[int]] = background.submit(cluster.storm, "kill", KILL_INCIDENTS)
        # Mid-storm, while the victim holds pages it claimed: freeze it (so what it claimed
        # cannot change while we look), note them, then kill -9 it.
        cluster.web.wait_for(
            lambda: (
                len(cluster.twilio.arrivals) - before >= KILL_INCIDENTS // 4
                and len(cluster.claimed_by(runner)) >= 2
            ),
            timeout=60,
            what="the victim sending mid-storm",
        )
        victim.send_signal(signal.SIGSTOP)
        killed_at = datetime.now(UTC)
        orphans = cluster.claimed_by(runner)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        opened = storm.result(timeout=max(120.0, KILL_INCIDENTS / 2))
    cluster.wait_until_paged(opened)
    sent, lost, duplicated = cluster.figures(opened)
    # The survivor settles each page it took over after the kill: it asks Twilio whether the
    # victim's SMS arrived (it finds those the victim handed over before it died) and sends the
    # others. (A page the victim's last commit recorded as sent needs no taking over.)
    taken = cluster.settled_since(list(orphans), killed_at)
    takeover = sorted((at - killed_at).total_seconds() for at, _ in taken.values())
    resent = sum(1 for _, again in taken.values() if again)
    print(
        f"\ninstances, worker killed mid-storm: incidents={len(opened)} sent={sent} "
        f"lost={len(lost)} duplicated={sum(duplicated.values()) - len(duplicated)} "
        f"claimed by the killed worker={len(orphans)} taken over={len(taken)} "
        f"(found at the provider={len(taken) - resent}, sent again={resent}) "
        f"takeover first={takeover[0] if takeover else 0:.2f}s "
        f"all={takeover[-1] if takeover else 0:.2f}s"
    )
    assert lost == set()
    assert taken, "the survivor took over none of the killed worker's pages"
    # The crash window is closed for SMS: what the victim handed to Twilio is found there, not
    # sent twice.
    assert duplicated == {}


@pytest.mark.parametrize("attempt", range(MIGRATION_ROUNDS))
def test_it_migrates_once_when_two_serves_start_together_on_an_empty_schema(
    tmp_path: Path, postgres_url: str, attempt: int
) -> None:
    go = threading.Barrier(2)
    daemons: list[Daemon] = []

    def start(name: str) -> None:
        workdir = tmp_path / name
        workdir.mkdir()
        go.wait()
        daemons.append(start_daemon(workdir, twilio, postgres_url, extra_config=NO_LIMITS))

    with PagesTwilio() as twilio:
        try:
            with ThreadPoolExecutor(2) as pool:
                for future in [pool.submit(start, name) for name in ("a", "b")]:
                    future.result(timeout=90)
            opened = []
            for i in range(10):  # half to each; each runner may take any of them
                response = daemons[i % 2].post_alerts(alert(f"both-{i}"))
                assert response.status_code == 200, response.text
                opened += response.json()["opened"]
            engine = create_engine(postgres_url)
            try:
                daemons[0].wait_for(
                    lambda: set(opened) <= set(twilio.paged()) and settled(engine),
                    timeout=30,
                    what="every incident paged",
                )
                assert [v for (v,) in rows(engine, "SELECT version_num FROM alembic_version")] == [
                    _head()
                ]
                assert rows(engine, "SELECT count(*) FROM runners") == [(2,)]
            finally:
                engine.dispose()
        finally:
            for daemon in daemons:
                daemon.process.terminate()  # both at once; stop() then waits for each
            for daemon in daemons:
                daemon.stop()
    assert twilio.paged() == Counter({n: 1 for n in opened})
    for daemon in daemons:
        assert "Traceback" not in daemon.log.read_text()


def _head() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head
