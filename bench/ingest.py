"""Figure 1, ingest: Alertmanager webhooks per second into `pager web`, beside the ceilings
measured in the same run under the same gunicorn settings: a bare Flask app, a Flask app
doing json.loads + one SQLite WAL insert (synchronous FULL as pager uses, and NORMAL), and a
raw SQLite insert loop."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import requests

from bench import load
from bench.ceiling.sqlite_insert import connect, prepare
from bench.fleet import QUIET, Backend, Fleet, fleet
from bench.payloads import alertmanager_body
from bench.profiling import Profiler
from tests.fakes.twilio import bind_local_port

SIZES = (1, 10)  # alerts per webhook


@dataclass(frozen=True)
class Ingest:
    bare: dict[int, load.Throughput]  # by alerts per payload
    insert_full: dict[int, load.Throughput]
    insert_normal: load.Throughput
    raw_inserts_per_second: float
    pager: dict[int, load.Throughput]


@contextmanager
def ceiling_app(module: str, workers: int, env: dict[str, str]) -> Iterator[str]:
    """Serve bench.ceiling.<module> with gunicorn as `pager web` does; yields its base URL."""
    sock = bind_local_port()
    port = sock.getsockname()[1]
    sock.close()
    command = [sys.executable, "-m", "gunicorn", "--workers", str(workers)]
    command += ["--bind", f"127.0.0.1:{port}", f"bench.ceiling.{module}:app"]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(f"{url}/healthz", process)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=20)


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: server exited {process.returncode}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer")


def _warm_up(url: str, token: str) -> None:
    """A few requests first, so that no run pays for a worker's first request."""
    for i in range(8):
        body = alertmanager_body(f"warm-{secrets.token_hex(4)}-{i}", 1)
        requests.post(url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def raw_insert_loop(path: Path, seconds: float) -> float:
    """Autocommit inserts per second from one connection (WAL, synchronous=FULL)."""
    prepare(path)
    connection = connect(path, "FULL")
    body = "x" * 800
    done = 0
    end = time.perf_counter() + seconds
    started = time.perf_counter()
    while time.perf_counter() < end:
        connection.execute(
            "INSERT INTO alerts (group_key, received, body) VALUES (?, datetime('now'), ?)",
            (str(done), body),
        )
        done += 1
    elapsed = time.perf_counter() - started
    connection.close()
    return done / elapsed


def measure(
    backend: Backend,
    workers: int,
    seconds: float,
    profiler: Profiler | None = None,
    shared: Fleet | None = None,
) -> Ingest:
    """The ceiling apps and `pager web` all up at once, measured one after the other for each
    payload size, so that each ratio compares runs minutes apart at most (this machine's
    load changes by the minute).

    pager runs alone (no worker: only the webhook path), on a fleet of its own or on `shared`
    with its worker paused. Its alerts go to the `quiet` service, whose incidents page nobody.
    """
    bare: dict[int, load.Throughput] = {}
    full: dict[int, load.Throughput] = {}
    pager: dict[int, load.Throughput] = {}
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pager-ceiling-")))
        bare_url = stack.enter_context(ceiling_app("bare", workers, {}))
        urls = {}
        for sync in ("FULL", "NORMAL"):
            prepare(tmp / f"{sync}.db")
            env = {"BENCH_CEILING_DB": str(tmp / f"{sync}.db"), "BENCH_CEILING_SYNC": sync}
            urls[sync] = stack.enter_context(ceiling_app("sqlite_insert", workers, env))
        running = shared or stack.enter_context(
            fleet(backend, web_workers=workers, people=1, worker=False)
        )
        running.pause_worker()
        stack.callback(running.resume_worker)
        pager_url = f"{running.url}/integrations/{QUIET}"
        for url, token in ((bare_url, "-"), (urls["FULL"], "-"), (pager_url, running.token)):
            _warm_up(url if url == pager_url else f"{url}/integrations/x", token)
        for alerts in SIZES:
            tag = f"{alerts}-{secrets.token_hex(3)}"
            bare[alerts] = load.wrk(f"{bare_url}/integrations/x", "-", alerts, seconds, tag)
            full[alerts] = load.wrk(f"{urls['FULL']}/integrations/x", "-", alerts, seconds, tag)
            with profiler.attached(f"ingest-{alerts}", running) if profiler else nullcontext():
                pager[alerts] = load.wrk(pager_url, running.token, alerts, seconds, tag)
        normal = load.wrk(f"{urls['NORMAL']}/integrations/x", "-", 1, seconds, "normal")
        raw = raw_insert_loop(tmp / "raw.db", min(seconds, 2.0))
    return Ingest(bare, full, normal, raw, pager)
