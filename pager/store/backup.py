"""Backups of the store: SQLite's online backup API for a SQLite file (safe while the daemon
writes to it); for PostgreSQL, the `pg_dump` line to run, since its own tool does it best."""

from __future__ import annotations

import shlex
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupRefused(Exception):
    """The backup could not be made: the message says why and what to do."""


@dataclass(frozen=True)
class Backup:
    path: Path
    pages: int
    incidents: int


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for another database (or an in-memory one)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def backup_sqlite(source: Path, target: Path) -> Backup:
    """Copy the database at `source` to a new file `target`, consistent as of one instant.

    SQLite's backup API reads one snapshot (WAL: the daemon goes on writing meanwhile, and
    waits for nothing); the copy is written beside `target` and renamed into place only once
    it is complete and passes `PRAGMA integrity_check`."""
    if not source.is_file():
        raise BackupRefused(f"no database file at {source}")
    if target.exists():
        raise BackupRefused(f"{target} exists already: give a new file")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    origin = sqlite3.connect(source, timeout=30)
    copy = sqlite3.connect(partial)
    try:
        origin.backup(copy)  # every page in one step: one snapshot
        checked = copy.execute("PRAGMA integrity_check").fetchone()[0]
        if checked != "ok":
            raise BackupRefused(f"the copy failed its integrity check: {checked}")
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        pages = copy.execute("PRAGMA page_count").fetchone()[0]
        incidents = copy.execute("SELECT count(*) FROM incidents").fetchone()[0]
    except BaseException:
        copy.close()
        partial.unlink(missing_ok=True)
        raise
    finally:
        origin.close()
    copy.close()
    partial.rename(target)
    return Backup(target, pages, incidents)


def pg_dump_lines(url: str, target: Path) -> tuple[str, str]:
    """The documented way for PostgreSQL: `pg_dump` in its custom format, and the
    `pg_restore` of it. The password is left out: both read PGPASSWORD or ~/.pgpass."""
    parsed = make_url(url).set(drivername="postgresql", password=None)
    where = shlex.quote(parsed.render_as_string(hide_password=False))
    file = shlex.quote(str(target))
    return (
        f"pg_dump --format=custom --file {file} {where}",
        f"pg_restore --clean --if-exists --dbname {where} {file}",
    )
