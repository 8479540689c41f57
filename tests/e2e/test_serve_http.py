"""`pager serve` answers HTTP with a production server (cheroot), not werkzeug's development
one: many slow clients at once are all served, and a port already taken is refused plainly."""

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
        host, port = daemon.url.removeprefix("http://").split(":")
        idle = [socket.create_connection((host, int(port))) for _ in range(8)]
        try:
            with ThreadPoolExecutor(max_workers=32) as pool:
                codes = list(
                    pool.map(
                        lambda _: requests.get(f"{daemon.url}/healthz", timeout=10).status_code,
                        range(64),
                    )
                )
        finally:
            for sock in idle:
                sock.close()
    assert codes == [200] * 64


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
