"""The daemon under test as a user runs it: `pager web` (gunicorn) + `pager worker`, or
`pager serve` alone (the `layout`), a fake Twilio on 127.0.0.1 that notes when each request
arrived (and can answer as slowly as the real one), and rotations for many people.

Every person has a service, a rotation, a policy and an integration of their own (`am-0007`
pages `p0007`), so a benchmark can page many different numbers without meeting the
per-number limits (pager/domain/limits.py: 5 SMS per 15 minutes per number). Numbers come
from Ofcom's drama range +447700900000..+447700900999, so there are at most 1,000 people.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, text

from bench.memory import wait_settled
from tests.e2e.daemon import INTEGRATION_TOKEN, TWILIO_NUMBER, daemon_env, start_process
from tests.fakes.twilio import FakeTwilio, bind_local_port

MAX_PEOPLE = 1000
_SMS_INCIDENT = re.compile(r"#(\d+) ")
_CALL_INCIDENT = re.compile(r"Incident (\d+) for")
QUIET = "quiet"  # an integration whose incidents stay open and page nobody (see rotations)
WEB_AND_WORKER = "web+worker"  # layouts: `pager web` + `pager worker`, or `pager serve` alone
SERVE = "serve"
LAYOUTS = (WEB_AND_WORKER, SERVE)


def phone(person: int) -> str:
    return f"+447700900{person:03d}"


def integration(person: int) -> str:
    return f"am-{person:04d}"


class TimedTwilio(FakeTwilio):
    """FakeTwilio that stamps each message and call with the wall-clock time it arrived.

    With a `delay` (seconds) it answers every API call that late, as the real Twilio takes
    150-300 ms; its server runs a thread per request, so calls wait side by side, not in turn.
    The wait comes first, so a message's stamp is when Twilio would answer 201 for it."""

    def __init__(self, *, delay: float = 0.0, **options: Any) -> None:
        super().__init__(**options)
        self.delay = delay

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if self.delay:
            self._released.wait(self.delay)  # set at stop: a late answer never holds it up
        return super()._wsgi(environ, start_response)

    def _append(self, items: list[Any], item: Any) -> None:
        if items is self.messages or items is self.calls:
            item["arrived"] = time.time()
        super()._append(items, item)

    def by_incident(self, kind: str = "messages") -> dict[int, float]:
        """When the first SMS (`#12 `) or call (`Incident 12 for`) naming each incident came."""
        with self._changed:
            seen = list(self.messages if kind == "messages" else self.calls)
        sms = kind == "messages"
        field, pattern = ("Body", _SMS_INCIDENT) if sms else ("Twiml", _CALL_INCIDENT)
        first: dict[int, float] = {}
        for item in seen:
            for number in pattern.findall(item.get(field, "")):
                first.setdefault(int(number), item["arrived"])
        return first

    def duplicates(self) -> int:
        """SMS beyond the first to one number naming one incident (one step pages once)."""
        with self._changed:
            seen = [(m["To"], m.get("Body", "")) for m in self.messages]
        pairs = [(to, n) for to, body in seen for n in _SMS_INCIDENT.findall(body)]
        return len(pairs) - len(set(pairs))

    def wait_for_incidents(
        self, ids: set[int], timeout: float, kind: str = "messages"
    ) -> dict[int, float]:
        """Arrival of each incident's page, waiting up to `timeout` seconds for all of them."""
        deadline = time.monotonic() + timeout
        while True:
            seen = self.by_incident(kind)
            if ids <= seen.keys() or time.monotonic() > deadline:
                return {i: seen[i] for i in ids if i in seen}
            time.sleep(0.05)

    def count(self, kind: str = "messages") -> int:
        with self._changed:
            return len(self.messages if kind == "messages" else self.calls)


def write_rotations(directory: Path, people: int, first_wait: str) -> None:
    """One service, rotation and two-step policy (sms, then voice after `first_wait`) per
    person, and a `quiet` service whose rotation starts in 2099: its incidents page nobody."""
    lines = ["people:"]
    lines += [
        f'  p{i:04d}: {{name: Person {i:04d}, phone: "{phone(i)}", timezone: Europe/London}}'
        for i in range(people)
    ]
    lines.append("rotations:")
    lines += [
        f"  r{i:04d}: {{timezone: Europe/London, start: 2026-01-05T09:00, shift: 1w, "
        f"members: [p{i:04d}]}}"
        for i in range(people)
    ]
    lines.append(
        "  quiet: {timezone: Europe/London, start: 2099-01-05T09:00, shift: 1w, members: [p0000]}"
    )
    lines.append("policies:")
    for i in range(people):
        lines.append(f"  pol{i:04d}:")
        lines.append("    steps:")
        target = f"targets: [rotation:r{i:04d}]"
        lines.append(f"      - {{{target}, channels: [sms], wait: {first_wait}}}")
        lines.append(f"      - {{{target}, channels: [voice], wait: 1h}}")
    lines.append("  quiet: {steps: [{targets: [rotation:quiet], channels: [sms], wait: 1h}]}")
    lines.append("services:")
    lines += [f"  svc{i:04d}: {{policy: pol{i:04d}}}" for i in range(people)]
    lines.append("  quiet: {policy: quiet}")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "bench.yaml").write_text("\n".join(lines) + "\n")


def write_config(path: Path, rotations: Path, url: str, twilio_url: str, people: int) -> None:
    lines = [
        "database_url: ${PAGER_TEST_DB}",
        f"rotations: {rotations}",
        f"public_url: {url}",
        'api_tokens: ["${PAGER_API_TOKEN}"]',
        "providers:",
        "  - name: twilio",
        "    type: twilio",
        "    account_sid: ${TWILIO_ACCOUNT_SID}",
        "    auth_token: ${TWILIO_AUTH_TOKEN}",
        f'    from: "{TWILIO_NUMBER}"',
        f"    api_base_url: {twilio_url}",
        "    rate: unlimited",  # measure pager, not a long code's default 1/s
        "integrations:",
    ]
    token = '"${PAYMENTS_AM_TOKEN}"'
    lines += [
        f"  {integration(i)}: {{service: svc{i:04d}, source: alertmanager, token: {token}}}"
        for i in range(people)
    ]
    lines.append(f"  {QUIET}: {{service: quiet, source: alertmanager, token: {token}}}")
    path.write_text("\n".join(lines) + "\n")


@dataclass
class Fleet:
    """`pager web` and `pager worker` (or `pager serve`) on one fresh database, with their
    fake Twilio."""

    workdir: Path
    url: str
    port: int
    env: dict[str, str]
    config: Path
    twilio: TimedTwilio
    web_workers: int
    layout: str = WEB_AND_WORKER
    web_threads: int = 1  # `pager web --threads`: above 1, gunicorn's gthread workers
    serve_threads: int = 16  # `pager serve --threads`
    ready_after: float = 0.0  # seconds from launch until web answered /readyz and worker ran
    web: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None
    worker_logs: int = 0

    @property
    def token(self) -> str:
        return INTEGRATION_TOKEN

    @property
    def web_log(self) -> str:
        return "serve.log" if self.layout == SERVE else "web.log"

    def start(self, *, worker: bool = True) -> None:
        """Start `pager web` (and `pager worker`) together, or `pager serve`; return once the
        web answers and the runner runs."""
        args = ["--config", str(self.config), "--bind", f"127.0.0.1:{self.port}"]
        launched = time.monotonic()
        if self.layout == SERVE:
            args += ["--threads", str(self.serve_threads)]
        else:
            args += ["--workers", str(self.web_workers), "--threads", str(self.web_threads)]
        command = "serve" if self.layout == SERVE else "web"
        log = self.workdir / self.web_log
        self.web = start_process(command, args, self.workdir, self.env, log)
        started = time.time() if worker or self.layout == SERVE else None
        if worker and self.layout != SERVE:
            self._launch_worker()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.web.poll() is not None:
                raise RuntimeError(f"pager {command} exited:\n{self.tail(self.web_log)}")
            try:
                if requests.get(f"{self.url}/readyz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.05)
        else:
            log_tail = self.tail(self.web_log)
            raise RuntimeError(f"pager {command} did not become ready:\n{log_tail}")
        if started is not None:
            self._wait_runner(self.web if self.layout == SERVE else self.worker, self._log_name())
        self.ready_after = time.monotonic() - launched

    def start_worker(self) -> float:
        """Start `pager worker`; returns the time.time() it was started at, once it runs."""
        started = time.time()
        self._launch_worker()
        self._wait_worker()
        return started

    def _launch_worker(self) -> None:
        self.worker_logs += 1
        log = self.workdir / f"worker-{self.worker_logs}.log"
        args = ["--config", str(self.config)]
        self.worker = start_process("worker", args, self.workdir, self.env, log)

    def _wait_worker(self) -> None:
        self._wait_runner(self.worker, self._log_name())

    def _log_name(self) -> str:
        """The log of the process the runner lives in."""
        return self.web_log if self.layout == SERVE else f"worker-{self.worker_logs}.log"

    def _wait_runner(self, process: subprocess.Popen[bytes] | None, name: str) -> None:
        assert process is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"pager exited:\n{self.tail(name)}")
            if "event=runner_started" in (self.workdir / name).read_text(errors="replace"):
                return
            time.sleep(0.02)
        raise RuntimeError(f"pager's runner did not start:\n{self.tail(name)}")

    def kill_worker(self) -> None:
        """kill -9: no clean shutdown, leases and runner rows stay behind."""
        assert self.worker is not None
        self.worker.send_signal(signal.SIGKILL)
        self.worker.wait()
        self.worker = None

    def pause_worker(self) -> None:
        """SIGSTOP the worker, so that only the web path runs (ingest)."""
        if self.worker is not None:
            self.worker.send_signal(signal.SIGSTOP)

    def resume_worker(self) -> None:
        if self.worker is not None:
            self.worker.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        running = [p for p in (self.worker, self.web) if p is not None and p.poll() is None]
        self.resume_worker()
        for process in running:
            process.terminate()
        for process in running:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.worker = self.web = None

    def pids(self) -> list[int]:
        return [p.pid for p in (self.web, self.worker) if p is not None]

    def tail(self, name: str, chars: int = 3000) -> str:
        path = self.workdir / name
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""


@dataclass(frozen=True)
class Backend:
    """Where the daemon keeps its data: SQLite in the fleet's directory, or a fresh schema of
    a PostgreSQL database (dropped afterwards)."""

    name: str  # sqlite | postgres
    postgres_url: str | None = None

    @contextmanager
    def database(self, workdir: Path) -> Iterator[str]:
        if self.postgres_url is None:
            yield f"sqlite:///{workdir / 'pager.db'}"
            return
        schema = f"bench_{secrets.token_hex(5)}"
        engine = create_engine(self.postgres_url)
        try:
            with engine.begin() as connection:
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            separator = "&" if "?" in self.postgres_url else "?"
            yield f"{self.postgres_url}{separator}options=-csearch_path%3D{schema}"
        finally:
            with engine.begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            engine.dispose()


@contextmanager
def fleet(
    backend: Backend,
    *,
    web_workers: int,
    people: int = MAX_PEOPLE,
    first_wait: str = "1h",
    worker: bool = True,
    layout: str = WEB_AND_WORKER,
    web_threads: int = 1,
    twilio_delay: float = 0.0,
) -> Iterator[Fleet]:
    """A fresh daemon pair (or `pager serve`) on a fresh database, its fake Twilio answering
    after `twilio_delay` seconds; everything is stopped and removed on exit."""
    with (
        tempfile.TemporaryDirectory(prefix="pager-bench-") as tmp,
        TimedTwilio(auto_status=None, delay=twilio_delay) as twilio,
    ):
        workdir = Path(tmp)
        sock = bind_local_port()
        port = sock.getsockname()[1]
        sock.close()
        url = f"http://127.0.0.1:{port}"
        write_rotations(workdir / "rotations", people, first_wait)
        config = workdir / "pager.yaml"
        write_config(config, workdir / "rotations", url, twilio.base_url, people)
        with backend.database(workdir) as database_url:
            env = daemon_env(workdir, twilio, database_url)
            env["PAGER_LOG_LEVEL"] = os.environ.get("PAGER_LOG_LEVEL", "INFO")
            running = Fleet(
                workdir, url, port, env, config, twilio, web_workers, layout, web_threads
            )
            try:
                running.start(worker=worker)
                wait_settled(running.pids())  # every gunicorn worker has loaded the rotations
                yield running
            finally:
                running.stop()
