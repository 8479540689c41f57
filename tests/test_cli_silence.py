"""`pager silence add/list/end` against a configured database."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from freezegun import freeze_time

from pager.cli import main
from tests.conftest import ROTATIONS


def test_it_adds_lists_and_ends_a_maintenance_window(tmp_path: Path) -> None:
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
                "90m",
                "--reason",
                "db upgrade",
                "--by",
                "dana",
                "--config",
                str(config),
            ],
        )
        assert added.exit_code == 0, added.output
        assert (
            added.output == "silenced #1  payments  2026-11-25 03:00 -> 2026-11-25 04:30 UTC  "
            "by dana: db upgrade\n"
        )
        listed = runner.invoke(main, ["silence", "list", "--config", str(config)])
        assert listed.output.startswith("#1  payments  2026-11-25 03:00 -> 2026-11-25 04:30 UTC")
        ended = runner.invoke(main, ["silence", "end", "1", "--config", str(config)])
        assert ended.output.startswith(
            "ended #1  payments  2026-11-25 03:00 -> 2026-11-25 03:00 UTC"
        )
        assert (
            runner.invoke(main, ["silence", "list", "--config", str(config)]).output
            == "no maintenance windows\n"
        )
        refused = runner.invoke(
            main, ["silence", "add", "nope", "--for", "1h", "--config", str(config)]
        )
        assert refused.exit_code == 1
        assert refused.output.startswith("Error: SERVICE: no service named 'nope'"), refused.output
        past = runner.invoke(
            main,
            ["silence", "add", "payments", "--until", "2001-01-01T00:00", "--config", str(config)],
        )
        assert past.output.startswith("Error: --for/--until: "), past.output
        both = runner.invoke(main, ["silence", "add", "payments", "--config", str(config)])
        assert both.exit_code == 2 and "give exactly one of --for and --until" in both.output


def test_it_prints_the_local_windows_as_the_api_does_with_json(tmp_path: Path) -> None:
    config = tmp_path / "pager.yaml"
    config.write_text(f"database_url: sqlite:///{tmp_path / 'pager.db'}\nrotations: {ROTATIONS}\n")
    runner = CliRunner(env={"PAGER_URL": None})  # no daemon named: the local database
    with freeze_time("2026-11-25T03:00:00Z"):
        added = runner.invoke(
            main, ["silence", "add", "payments", "--for", "1h", "--json", "--config", str(config)]
        )
        listed = runner.invoke(main, ["silence", "list", "--json", "--config", str(config)])
    assert added.exit_code == 0, added.output
    expected = {
        "id": 1,
        "service": "payments",
        "starts_at": "2026-11-25T03:00:00+00:00",
        "ends_at": "2026-11-25T04:00:00+00:00",
        "reason": "",
        "created_by": "cli",
    }
    assert json.loads(added.output) == expected
    assert [json.loads(line) for line in listed.output.splitlines()] == [expected]
