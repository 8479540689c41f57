"""`pager serve` (web + runner in one process), `pager web`, `pager worker`, `pager db`."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import Metric

from pager import metrics
from pager.app import banner, build_pager
from pager.cli import logs
from pager.cli.logs import log_format_option
from pager.config import ConfigError, Settings, default_settings, load_settings
from pager.config.model import host_and_port
from pager.flows.backlog import measure_backlog
from pager.flows.context import Pager, utcnow
from pager.scheduler import RotationWatcher, Runner
from pager.store import wakeups
from pager.store.db import Database, MigrationFailed

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="PAGER_CONFIG",
    help="pager.yaml (default: embedded quick-start settings).",
)
bind_option = click.option("--bind", help="HOST:PORT to listen on (default 127.0.0.1:8080).")
SERVE_THREADS = 16  # `pager serve`'s HTTP threads: webhooks, the API and the dashboard at once


def settings_from(config_path: Path | None, bind: str | None) -> Settings:
    """The settings of `--config` (or the embedded defaults); exit 2 listing any problems."""
    if config_path is None:
        return default_settings(bind)
    try:
        settings = load_settings(config_path)
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise SystemExit(2) from exc
    if bind:
        settings = replace(settings, bind=bind)
    return settings


def migrate(settings: Settings) -> None:
    """Bring the schema up to date before the daemon starts any thread: in a child process,
    so that the migration tool is not loaded into the daemon for its whole life."""
    database = Database(settings.database_url)
    try:
        database.upgrade_apart()
    except MigrationFailed as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        database.dispose()


def _host_port(bind: str) -> tuple[str, int]:
    """The address to listen on; a bad pager.yaml `bind` was refused with its line already."""
    try:
        return host_and_port(bind)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--bind") from exc


@click.command()
@config_option
@bind_option
@click.option(
    "--threads",
    type=click.IntRange(1, 512),
    default=SERVE_THREADS,
    show_default=True,
    help="HTTP requests served at once.",
)
@log_format_option
def serve(config_path: Path | None, bind: str | None, threads: int, log_format: str) -> None:
    """Run the web server and the escalation runner in one process."""
    from pager.web import create_app  # here: `pager worker` has no use for the web

    logs.configure(log_format)
    settings = settings_from(config_path, bind)
    host, port = _host_port(settings.bind)
    migrate(settings)
    pager = build_pager(settings, migrate=False)
    try:
        server = http_server(host, port, create_app(pager), threads)
    except OSError as exc:
        pager.db.dispose()
        raise click.ClickException(
            f"cannot listen on {settings.bind}: {exc.strerror or exc}"
        ) from exc
    runner = Runner(pager)
    watcher = RotationWatcher(pager)
    runner.start()
    watcher.start()
    click.echo(banner(pager), err=False)
    sys.stdout.flush()
    _stop_on_signals(server.stop)
    signal.signal(signal.SIGHUP, lambda *_: watcher.reload_now())
    try:
        server.serve()
    finally:
        watcher.stop()
        runner.stop()
        pager.db.dispose()


def http_server(host: str, port: int, app: Any, threads: int) -> Any:
    """`pager serve`'s HTTP server, bound and ready to `serve()`: cheroot (CherryPy's WSGI
    server, made for production, with a pool of `threads`), not werkzeug's development server,
    which werkzeug itself says is not for production."""
    from cheroot import wsgi

    server = wsgi.Server(
        (host, port),
        app,
        numthreads=threads,
        server_name="pager",
        request_queue_size=128,  # the listen backlog: a burst of webhooks waits, not refused
        timeout=30,  # a client that stops sending mid-request frees its thread
        shutdown_timeout=10,
    )
    server.prepare()  # binds now: a port in use fails before the banner says it listens
    return server


@click.command()
@config_option
@bind_option
@click.option("--workers", type=int, default=4, show_default=True, help="gunicorn workers.")
@click.option(
    "--threads",
    type=click.IntRange(1, 512),
    default=1,
    show_default=True,
    help="Requests each worker serves at once; above 1, gunicorn's gthread workers.",
)
@log_format_option
def web(
    config_path: Path | None, bind: str | None, workers: int, threads: int, log_format: str
) -> None:
    """Run only the web server (gunicorn); pair it with `pager worker`."""
    from gunicorn.app.base import BaseApplication

    from pager.web import create_app

    metrics_dir = _shared_metrics_dir()
    logs.configure(log_format)
    settings = settings_from(config_path, bind)
    migrate(settings)  # once, before the workers fork

    pager = build_pager(settings, migrate=False)
    # The runner lives in `pager worker`: tell it about new work at once (PostgreSQL; on
    # SQLite it sees the commit).
    pager.wake = lambda: wakeups.notify(pager.db)
    click.echo(banner(pager))  # the same URLs and tokens `pager serve` prints
    sys.stdout.flush()

    def post_fork(_server: Any, _worker: Any) -> None:
        # Workers share the code and rotations loaded once in the master (copy on write);
        # each needs its own database connections and its own watcher thread.
        pager.db.engine.dispose(close=False)
        RotationWatcher(pager).start()

    def child_exit(_server: Any, worker: Any) -> None:
        # A dead worker's gauges leave /metrics; its counters stay in the sums.
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)

    def on_exit(_server: Any) -> None:
        for stale in metrics_dir.glob("*.db"):
            stale.unlink(missing_ok=True)
        if metrics_dir.name.startswith(_OWN_METRICS_DIR):
            metrics_dir.rmdir()

    class _Gunicorn(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", settings.bind)
            self.cfg.set("workers", workers)
            # One thread: sync workers, as before; more: gthread, a pool of them per worker.
            self.cfg.set("worker_class", "gthread" if threads > 1 else "sync")
            self.cfg.set("threads", threads)
            self.cfg.set("accesslog", None)
            self.cfg.set("logconfig_dict", logs.gunicorn_config(log_format))
            self.cfg.set("preload_app", True)
            self.cfg.set("post_fork", post_fork)
            self.cfg.set("child_exit", child_exit)
            self.cfg.set("on_exit", on_exit)

        def load(self) -> Any:
            return create_app(pager)

    _Gunicorn().run()


def _shared_metrics_dir() -> Path:
    """The directory gunicorn's workers keep their metric values in, wiped of an earlier run's.

    prometheus-client reads `PROMETHEUS_MULTIPROC_DIR` and opens its files there when it is
    imported, which the command line already did: so make the directory ready (given, or a new
    one), then start this command again with it set, in the same process (a supervisor sees
    nothing happen)."""
    named = os.environ.get(metrics.MULTIPROCESS_DIR, "")
    if named and os.environ.get(_METRICS_READY) == named:
        return Path(named)
    if named:
        directory = Path(named)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink(missing_ok=True)
    else:
        import tempfile

        directory = Path(tempfile.mkdtemp(prefix=_OWN_METRICS_DIR))
    os.environ[metrics.MULTIPROCESS_DIR] = os.environ[_METRICS_READY] = str(directory)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "pager", *sys.argv[1:]])  # noqa: S606


_OWN_METRICS_DIR = "pager-web-metrics-"  # a directory's prefix where `pager web` made it
_METRICS_READY = "PAGER_WEB_METRICS_READY"  # the directory `pager web` prepared, then restarted


@click.command()
@config_option
@click.option(
    "--poll",
    type=float,
    default=0.5,
    show_default=True,
    help="Seconds between looks at the database for new work from `pager web`.",
)
@click.option(
    "--metrics-bind",
    help="HOST:PORT to serve this worker's /metrics on (its sends, failures, acks).",
)
@log_format_option
def worker(
    config_path: Path | None, poll: float, metrics_bind: str | None, log_format: str
) -> None:
    """Run only the escalation runner and senders; pair it with `pager web`."""
    logs.configure(log_format)
    settings = settings_from(config_path, None)
    migrate(settings)
    pager = build_pager(settings, migrate=False, durable=False)
    if metrics_bind:
        # The worker's counters (sends, failures) live in this process, not in `pager web`'s.
        from prometheus_client import start_http_server

        host, port = _host_port(metrics_bind)
        start_http_server(port, addr=host, registry=worker_metrics(pager))
        logging.getLogger(__name__).info("event=metrics_listening bind=%s", metrics_bind)
    runner = Runner(pager, poll=poll)
    watcher = RotationWatcher(pager)
    runner.start()
    watcher.start()
    done = threading.Event()
    _stop_on_signals(done.set)
    signal.signal(signal.SIGHUP, lambda *_: watcher.reload_now())
    done.wait()
    watcher.stop()
    runner.stop()


def worker_metrics(pager: Pager) -> CollectorRegistry:
    """The worker's metrics, with the backlog gauges read from the database at each scrape."""

    class Measured:
        def collect(self) -> Iterator[Metric]:
            measure_backlog(pager, utcnow())
            yield from metrics.REGISTRY.collect()

    registry = CollectorRegistry()
    registry.register(Measured())
    return registry


def _stop_on_signals(stop: Any) -> None:
    def handler(signum: int, _frame: Any) -> None:
        threading.Thread(target=stop, daemon=True).start()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
