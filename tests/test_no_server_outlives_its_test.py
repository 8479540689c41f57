"""A test that fails with its daemon running leaves no daemon behind (tests/conftest.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent

INNER = """
import os, sys
from pathlib import Path
from tests.e2e.daemon import spawn

PID = Path(__file__).parent / "pid"


def test_a_failing_test_with_a_server_running(tmp_path):
    server = spawn([sys.executable, "-c", "import time; time.sleep(120)"], tmp_path / "log")
    PID.write_text(str(server.pid))
    assert False, "this test fails with its server running"


def test_the_next_test_finds_it_gone():
    pid = int(PID.read_text())
    try:
        os.waitpid(pid, os.WNOHANG)  # reaped already if it was stopped
    except ChildProcessError:
        pass
    assert not Path(f"/proc/{pid}").exists(), "the server outlived its test"
"""


def test_it_stops_a_server_whose_test_failed(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(
        "from tests.conftest import _no_server_outlives_its_test, pytest_sessionfinish  # noqa\n"
    )
    (tmp_path / "test_inner.py").write_text(INNER)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "1 failed, 1 passed" in run.stdout, run.stdout + run.stderr
    assert "this test fails with its server running" in run.stdout
