"""Rotations from git in the running daemon: `pager serve` fetches the branch on its own timer,
puts a pushed edit in force, refuses a bad commit (naming it) and keeps paging with the last
good set."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.e2e.daemon import BEARER, start_daemon
from tests.e2e.test_reload import carol_covers_now, page
from tests.fakes.git_host import Upstream
from tests.fakes.twilio import FakeTwilio
from tests.helpers import ALICE, CAROL, team_with_alice_on_call_now

pytestmark = pytest.mark.e2e


def test_it_pulls_a_pushed_edit_and_refuses_a_bad_commit_while_paging_goes_on(
    tmp_path: Path,
) -> None:
    upstream = Upstream(tmp_path / "host")
    team = team_with_alice_on_call_now()
    upstream.push({"rotations/team.yaml": team}, "first rotations")
    # The `rotations:` line of the daemon's pager.yaml, as a YAML flow mapping.
    rotations = f'{{git: "{upstream.url}", path: rotations, every: 1s}}'
    workdir = tmp_path / "daemon"
    workdir.mkdir()
    with FakeTwilio(auto_status="delivered") as twilio:
        daemon = start_daemon(workdir, twilio, rotations=rotations)  # type: ignore[arg-type]
        try:
            assert page(daemon, "before") == ALICE
            digest = daemon.api("/rotations")["digest"]

            carol_covers_now(upstream.work / "rotations")
            upstream.push({}, "carol covers")  # no reload call: the timer pulls it
            daemon.wait_for(lambda: daemon.api("/rotations")["digest"] != digest, what="a pull")
            assert page(daemon, "after-good-commit") == CAROL

            broken = team.replace("members: [alice, bob]", "members: [alice, bobby]")
            bad = upstream.push({"rotations/team.yaml": broken}, "typo")
            problems = daemon.wait_for(
                lambda: daemon.api("/rotations")["problems"], what="the bad commit refused"
            )
            [problem] = problems
            assert problem.startswith(f"{bad[:12]}:rotations/team.yaml:")
            assert "unknown person 'bobby'" in problem
            ready = requests.get(f"{daemon.url}/readyz", headers=BEARER, timeout=5)
            assert ready.status_code == 200 and ready.json()["status"] == "degraded"
            assert ready.json()["checks"]["rotation_problems"] == [problem]
            metrics = requests.get(f"{daemon.url}/metrics", timeout=5).text
            assert "pager_rotations_valid 0.0" in metrics
            assert 'pager_rotations_git_fetch_ok{branch="main"} 1.0' in metrics
            assert page(daemon, "while-broken") == CAROL  # the last good set still pages
            assert f"problem={problem!r}" in daemon.log.read_text()
        finally:
            daemon.stop()
