"""`pager backup` while the daemon takes alerts, and the restore: the copy put in a new file,
a daemon started on it sees every incident the backup holds."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from pager.cli import main
from tests.e2e.daemon import daemon_env, running_daemon
from tests.helpers import payload

pytestmark = pytest.mark.e2e


def storm(n: int) -> dict[str, object]:
    """An Alertmanager group of its own: each delivery opens a new incident."""
    body = payload("alertmanager_firing.json")
    body["groupKey"] = f'{{}}:{{alertname="Storm{n}"}}'
    for alert in body["alerts"]:  # type: ignore[union-attr]
        alert["fingerprint"] = f"storm-{n}-{alert['fingerprint']}"
        alert["labels"] = {**alert["labels"], "alertname": f"Storm{n}"}
    return body


def all_ids(daemon) -> list[int]:
    ids, url = [], "/incidents?limit=500"
    while url:
        page = daemon.api(url)
        ids += [incident["id"] for incident in page["incidents"]]
        url = page["next"] and page["next"].split("/api/v1", 1)[1]
    return ids


def test_it_backs_up_while_the_daemon_writes_and_a_daemon_starts_on_the_copy(
    tmp_path: Path,
) -> None:
    live_dir, restored_dir = tmp_path / "live", tmp_path / "restored"
    live_dir.mkdir()
    restored_dir.mkdir()
    backup = tmp_path / "pager-backup.db"
    with running_daemon(live_dir) as daemon:
        for n in range(20):
            assert daemon.post_alerts(storm(n)).status_code == 200
        stop, posted = threading.Event(), []

        def keep_writing() -> None:
            n = 20
            while not stop.is_set():
                answer = daemon.post_alerts(storm(n))
                assert answer.status_code == 200, answer.text
                posted.append(n)
                n += 1

        writer = threading.Thread(target=keep_writing)
        writer.start()
        try:
            while len(posted) < 5:  # the backup starts with writes in flight
                stop.wait(0.01)
            env = daemon_env(live_dir, daemon.twilio, None)
            made = CliRunner().invoke(
                main, ["backup", str(backup), "--config", str(live_dir / "pager.yaml")], env=env
            )
            after = len(posted)
            while len(posted) < after + 2 and writer.is_alive():  # and writes after it
                stop.wait(0.01)
        finally:
            stop.set()
            writer.join()
        assert made.exit_code == 0, made.output
        live_ids = all_ids(daemon)
    backed_up = int(made.output.split(": ")[1].split()[0])
    assert 25 <= backed_up < len(live_ids)  # writes went on after the copy's instant

    restored = restored_dir / "pager.db"  # the restore: the copy as a new database file
    restored.write_bytes(backup.read_bytes())
    with running_daemon(restored_dir, database_url=f"sqlite:///{restored}") as again:
        ids = all_ids(again)
    assert len(ids) == len(set(ids)) == backed_up
    assert set(ids) == set(sorted(live_ids)[:backed_up])  # the oldest ones: a consistent prefix
