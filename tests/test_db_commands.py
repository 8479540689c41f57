"""`pager db upgrade|current|downgrade` on SQLite and PostgreSQL, and `pager backup` on each:
a SQLite copy made through SQLite's backup API, the pg_dump line for PostgreSQL."""

from __future__ import annotations

import shlex
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner, Result
from sqlalchemy import inspect

from pager.app import build_pager
from pager.cli import main
from pager.store.db import MIGRATIONS, Database
from tests.conftest import ROTATIONS, make_settings
from tests.test_api_pages import T0, open_incidents

HEAD = Database.head()
BEFORE_HEAD = str(ScriptDirectory(str(MIGRATIONS)).get_revision(HEAD).down_revision)


def pager_cli(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--config", str(config)])


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Path:
    written = tmp_path / "pager.yaml"
    written.write_text(f"database_url: '{database_url}'\nrotations: {ROTATIONS}\n")
    return written


def columns(url: str) -> set[str]:
    """The notifications table's columns (the newest migration, 0020, adds `route`)."""
    database = Database(url)
    try:
        with database.engine.connect() as connection:
            return {c["name"] for c in inspect(connection).get_columns("notifications")}
    finally:
        database.dispose()


def test_it_upgrades_tells_and_downgrades_the_schema(config: Path, database_url: str) -> None:
    upgraded = pager_cli(config, "db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert upgraded.output == f"database is at the newest migration ({HEAD})\n"
    assert pager_cli(config, "db", "current").output == f"{HEAD} (the newest)\n"

    back = pager_cli(config, "db", "downgrade", BEFORE_HEAD)
    assert (back.exit_code, back.output) == (0, f"database is at {BEFORE_HEAD}\n")
    assert "route" not in columns(database_url)
    behind = pager_cli(config, "db", "current").output
    assert behind == f"{BEFORE_HEAD} (the newest is {HEAD}: run `pager db upgrade`)\n"
    # Alembic's relative steps work too, after `--` (else -1 reads as an option).
    assert pager_cli(config, "db", "upgrade").exit_code == 0
    stepped = CliRunner().invoke(main, ["db", "downgrade", "--config", str(config), "--", "-1"])
    assert stepped.output == f"database is at {BEFORE_HEAD}\n"

    assert pager_cli(config, "db", "upgrade").exit_code == 0
    assert "route" in columns(database_url)
    wrong = pager_cli(config, "db", "downgrade", "nope")
    assert wrong.exit_code == 1 and "cannot downgrade to 'nope'" in wrong.output


def test_it_says_there_is_no_database_rather_than_making_one(tmp_path: Path) -> None:
    config = tmp_path / "pager.yaml"
    config.write_text(f"database_url: sqlite:///{tmp_path / 'none.db'}\nrotations: {ROTATIONS}\n")
    told = pager_cli(config, "db", "current")
    assert told.exit_code == 1 and "no database at" in told.output
    assert not (tmp_path / "none.db").exists()


def test_it_backs_up_sqlite_to_a_new_file_that_opens_on_its_own(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'pager.db'}"
    live = build_pager(make_settings(url))
    open_incidents(live, 12, T0)
    config = tmp_path / "pager.yaml"
    config.write_text(f"database_url: {url}\nrotations: {ROTATIONS}\n")
    target = tmp_path / "backups" / "pager-backup.db"
    target.parent.mkdir()
    try:
        made = pager_cli(config, "backup", str(target))
        open_incidents(live, 3, T0)  # after the backup: not in it
    finally:
        live.db.dispose()
    assert made.exit_code == 0, made.output
    assert made.output.startswith(f"backed up {tmp_path / 'pager.db'} to {target}: 12 incidents")
    assert not (target.parent / f"{target.name}-wal").exists()  # one self-contained file
    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT count(*) FROM incidents").fetchone() == (12,)
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    again = pager_cli(config, "backup", str(target))
    assert again.exit_code == 1 and "exists already" in again.output


def test_it_gives_the_pg_dump_line_for_postgresql(tmp_path: Path, database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the PostgreSQL case (SQLite's is above)")
    config = tmp_path / "pager.yaml"
    config.write_text(f"database_url: '{database_url}'\nrotations: {ROTATIONS}\n")
    built = build_pager(make_settings(database_url))  # in this test's own schema
    built.db.dispose()
    told = pager_cli(config, "backup", str(tmp_path / "pager.dump"))
    assert told.exit_code == 1
    dump = next(line.strip() for line in told.output.splitlines() if "pg_dump " in line)
    assert "+psycopg" not in dump and dump.startswith("pg_dump --format=custom --file ")
    if shutil.which("pg_dump") is None:
        return
    # The line as printed works: pg_dump writes a dump pg_restore can read.
    subprocess.run(shlex.split(dump), check=True, timeout=120, capture_output=True)
    listed = subprocess.run(
        ["pg_restore", "--list", str(tmp_path / "pager.dump")],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert " TABLE " in listed.stdout and " incidents " in listed.stdout
