"""`pager audit`: the trail of what was done, from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from freezegun import freeze_time

from pager.cli import main
from tests.conftest import ROTATIONS


def test_it_lists_silences_and_rotation_loads_newest_first(tmp_path: Path) -> None:
    config = tmp_path / "pager.yaml"
    config.write_text(f"database_url: sqlite:///{tmp_path / 'pager.db'}\nrotations: {ROTATIONS}\n")
    runner = CliRunner()
    with freeze_time("2026-11-25T03:00:00Z"):
        added = runner.invoke(
            main,
            [
                "silence",
                "add",
                "payments",
                "--for",
                "1h",
                "--reason",
                "db",
                "--by",
                "dana",
                "--config",
                str(config),
            ],
        )
        assert added.exit_code == 0, added.output
        assert runner.invoke(main, ["silence", "end", "1", "--config", str(config)]).exit_code == 0
        shown = runner.invoke(main, ["audit", "--config", str(config)])
        as_json = runner.invoke(main, ["audit", "--json", "--config", str(config)])
        only = runner.invoke(main, ["audit", "--actor", "dana", "--config", str(config)])
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[0].startswith(
        "#3  2026-11-25 03:00:00 UTC  cli (cli)  silence_ended service payments"
    )
    assert lines[1].startswith(
        "#2  2026-11-25 03:00:00 UTC  dana (cli)  silence_added service payments"
    )
    assert "pager (pager)  rotations_loaded digest " in lines[2]
    entries = [json.loads(line) for line in as_json.output.splitlines()]
    assert [e["action"] for e in entries] == ["silence_ended", "silence_added", "rotations_loaded"]
    assert only.output.count("\n") == 1 and "silence_added" in only.output
