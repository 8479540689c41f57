"""The command line against a running daemon (`pager serve` in a subprocess): PAGER_URL and
PAGER_TOKEN, incidents listed page after page, shown, noted, escalated, acknowledged and
resolved, silences added, listed and ended through the API; its refusals and an unreachable
daemon said plainly, with a non-zero exit."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pager.app import build_pager
from pager.cli import main
from tests.conftest import make_settings
from tests.e2e.daemon import API_TOKEN, Daemon, free_port, running_daemon
from tests.helpers import payload
from tests.test_api_pages import open_incidents

pytestmark = pytest.mark.e2e

STORM = 1100  # more than two of the API's largest pages (500): the CLI follows `next` twice


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    workdir = tmp_path_factory.mktemp("cli-daemon")
    seeded = build_pager(make_settings(f"sqlite:///{workdir / 'pager.db'}"))
    open_incidents(seeded, STORM, datetime(2026, 12, 1, 9, 0, tzinfo=UTC))  # a past storm
    seeded.db.dispose()
    with running_daemon(workdir) as running:
        yield running


def pager(daemon: Daemon, *args: str, token: str = API_TOKEN) -> Result:
    env = {"PAGER_URL": daemon.url, "PAGER_TOKEN": token}
    return CliRunner().invoke(main, list(args), env=env)


def test_it_walks_every_page_of_a_storm(daemon: Daemon) -> None:
    listed = pager(daemon, "incidents", "--limit", "5000", "--json")
    assert listed.exit_code == 0, listed.output
    ids = [json.loads(line)["id"] for line in listed.output.splitlines()]
    assert len(ids) == len(set(ids)) == STORM
    short = pager(daemon, "incidents", "--limit", "3", "--service", "search")
    assert short.exit_code == 0 and len(short.stdout.splitlines()) == 3
    assert all("  search  " in line for line in short.stdout.splitlines())
    assert "more than 3" in short.stderr


def test_it_follows_an_incident_from_the_command_line(daemon: Daemon) -> None:
    [incident] = daemon.post_alerts(payload("alertmanager_firing.json")).json()["opened"]
    listed = pager(daemon, "incidents", "--status", "triggered", "--service", "payments")
    assert listed.stdout.splitlines()[0].startswith(f"#{incident}  triggered     payments  ")
    noted = pager(daemon, "note", str(incident), "restarted the primary", "--by", "dana")
    assert noted.exit_code == 0, noted.output
    assert "restarted the primary" in noted.stdout
    escalated = pager(daemon, "escalate", str(incident), "--json")
    assert json.loads(escalated.stdout)["status"] == "triggered"
    acked = pager(daemon, "ack", str(incident))
    assert acked.exit_code == 0 and "acknowledged: " in acked.stdout
    assert json.loads(pager(daemon, "show", str(incident), "--json").stdout)[
        "acknowledged_by"
    ].startswith("api")
    resolved = pager(daemon, "resolve", str(incident), "--json")
    assert json.loads(resolved.stdout)["status"] == "resolved"
    shown = pager(daemon, "show", str(incident)).stdout.splitlines()
    assert shown[0].startswith(f"#{incident}  resolved      payments  ")
    timeline = [line.split("UTC  ", 1)[1] for line in shown[1:] if " UTC  " in line]
    assert "note: api (for dana) (api): restarted the primary" in timeline
    assert timeline[-1] == "resolved: resolved by api (api)"


def test_it_silences_through_the_api(daemon: Daemon) -> None:
    added = pager(daemon, "silence", "add", "payments", "--for", "1h", "--reason", "upgrade")
    assert added.exit_code == 0, added.output
    assert added.stdout.startswith("silenced #") and "by api: upgrade" in added.stdout
    silence_id = added.stdout.split()[1].lstrip("#")
    listed = pager(daemon, "silence", "list", "--json")
    assert [json.loads(line)["id"] for line in listed.stdout.splitlines()] == [int(silence_id)]
    assert pager(daemon, "silence", "end", silence_id).stdout.startswith(f"ended #{silence_id}")
    assert pager(daemon, "silence", "list").stdout == "no maintenance windows\n"
    refused = pager(daemon, "silence", "add", "nope", "--for", "1h")
    assert refused.exit_code == 1
    assert "SERVICE: 400 invalid_field: no service named 'nope'" in refused.stderr


def test_it_says_what_the_api_refused_and_exits_non_zero(daemon: Daemon) -> None:
    missing = pager(daemon, "show", "999999")
    assert (missing.exit_code, missing.stderr) == (1, "Error: 404 not_found: no incident 999999\n")
    as_json = pager(daemon, "ack", "999999", "--json")
    assert as_json.exit_code == 1
    assert json.loads(as_json.stderr) == {"error": "not_found", "message": "no incident 999999"}
    wrong = pager(daemon, "incidents", token="wrong")
    assert wrong.exit_code == 1 and "401 unauthorized" in wrong.stderr


def test_it_takes_the_url_and_token_from_the_environment_of_a_real_shell(
    daemon: Daemon, tmp_path: Path
) -> None:
    env = {"PATH": "/usr/bin:/bin", "PAGER_URL": daemon.url, "PAGER_TOKEN": API_TOKEN}
    done = subprocess.run(
        [sys.executable, "-m", "pager", "incidents", "--limit", "1", "--status", "resolved"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 1 and "resolved" in done.stdout


def test_it_says_when_nothing_listens_at_the_url() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(
        main, ["incidents", "--url", url, "--token", "t"], env={"PAGER_URL": None}
    )
    assert result.exit_code == 1
    assert f"cannot reach {url}: connection refused" in result.stderr
    unset = CliRunner().invoke(main, ["show", "1", "--url", url], env={"PAGER_TOKEN": None})
    assert unset.exit_code == 2 and "PAGER_TOKEN" in unset.stderr
