"""`pager serve` answers HTTP with a production server (cheroot), not werkzeug's development
one: many slow clients at once are all served, and a port already taken is refused plainly.
`pager web --threads N` runs gunicorn's gthread workers, which idle clients do not hold up."""

from __future__ import annotations

import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.e2e.daemon import running_daemon
from tests.fakes.twilio import bind_local_port

pytestmark = pytest.mark.e2e


def test_it_serves_many_clients_at_once_with_a_production_server(tmp_path: Path) -> None:
    with running_daemon(tmp_path) as daemon:
        answer = requests.get(f"{daemon.url}/healthz", timeout=10)
        assert answer.status_code == 200
        assert "Werkzeug" not in answer.headers.get("Server", "")
        # A client that connects and says nothing holds one thread, not the server.
        codes = _healthz_beside_idle_clients(daemon.url, idle_clients=8, requests_sent=64)
    assert codes == [200] * 64


def test_it_runs_gthread_workers_that_idle_clients_do_not_hold_up(tmp_path: Path) -> None:
    # Two workers of 8 threads: 4 clients that connect and say nothing would hold both sync
    # workers; gthread keeps them waiting in its poller while the others are answered.
    with running_daemon(tmp_path, command="web", args=("--threads", "8")) as daemon:
        codes = _healthz_beside_idle_clients(daemon.url, idle_clients=4, requests_sent=32)
        log = daemon.log.read_text()
    assert codes == [200] * 32
    assert "Using worker: gthread" in log


def _healthz_beside_idle_clients(url: str, *, idle_clients: int, requests_sent: int) -> list[int]:
    """The status of each of `requests_sent` GET /healthz (32 at once) while `idle_clients`
    connections are open and silent."""
    host, port = url.removeprefix("http://").split(":")
    idle = [socket.create_connection((host, int(port))) for _ in range(idle_clients)]
    try:
        with ThreadPoolExecutor(max_workers=32) as pool:
            return list(
                pool.map(
                    lambda _: requests.get(f"{url}/healthz", timeout=10).status_code,
                    range(requests_sent),
                )
            )
    finally:
        for sock in idle:
            sock.close()


def test_it_says_plainly_when_its_port_is_taken(tmp_path: Path) -> None:
    taken = bind_local_port()
    try:
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "pager", "serve", "--bind", f"127.0.0.1:{port}"],
            cwd=tmp_path,
            capture_output=True,
            timeout=60,
        )
    finally:
        taken.close()
    said = result.stderr.decode()
    assert result.returncode == 1, said
    assert f"Error: cannot listen on 127.0.0.1:{port}: " in said and "already in use" in said
    assert "Traceback" not in said
