"""What `pager simulate` reads: two rotation sets (a folder, or a commit of the repository the
rotations are in) and the incidents of a span of time (the database, or a history file).

Nothing here writes: the database is only read, the repository's objects only looked at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from pager.domain.incident_history import parse_history
from pager.domain.rotation_schema import parse_schedule
from pager.domain.rotations import Schedule
from pager.domain.simulate import HistoricIncident
from pager.domain.yamldoc import Problem
from pager.flows.rotations import read_files
from pager.flows.rotations_git import commit_files
from pager.store import incident_history
from pager.store.db import Database
from pager.store.git_revisions import repository_of
from pager.store.rotations_git import GitError, mask_credentials


class CannotRead(Exception):
    """A set or the history cannot be read at all (no such commit, folder or database)."""


@dataclass(frozen=True)
class RotationSet:
    """A rotation set as named (`origin/main`, `rotations/`): its commit ("" for a folder), and
    its schedule, or the problems that keep it from validating (each with file:line)."""

    label: str
    commit: str
    schedule: Schedule | None
    problems: list[Problem] = field(default_factory=list)


def rotation_set(spec: str, folder: Path) -> RotationSet:
    """The set `spec` names: a folder (read as it is), else a git revision of the repository
    `folder` is in, whose files in `folder` are read from that commit."""
    path = Path(spec)
    if path.is_dir() or path.is_file():
        try:
            files = read_files(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise CannotRead(f"cannot read {spec}: {exc}") from None
        commit = ""
    else:
        commit, files, problems = _files_at(spec, folder)
        if problems:
            return RotationSet(spec, commit, None, problems)
    if not files:
        raise CannotRead(f"no rotation files (*.yaml, *.yml) in {spec}")
    schedule, problems = parse_schedule(files)
    return RotationSet(spec, commit, schedule, problems)


def _files_at(revision: str, folder: Path) -> tuple[str, list[tuple[str, str]], list[Problem]]:
    """The commit `revision` names, and the rotation files in `folder` at it, each named
    `<commit>:<path>` as `git show` takes it (as the daemon's own git reading names them)."""
    try:
        repo, inside = repository_of(folder)
        commit = repo.commit_of(revision)
        found = repo.folder(commit, inside)
    except GitError as exc:
        raise CannotRead(f"{revision}: neither a folder nor a commit we can read ({exc})") from None
    if found is None:
        where = f"{commit[:12]}:{inside}" if inside else commit[:12]
        raise CannotRead(f"{revision}: no folder {inside or '/'} in commit {where}")
    files, problems = commit_files(commit, found)
    return commit, files, problems


def history_from_file(path: Path) -> tuple[list[HistoricIncident], list[Problem]]:
    """The incidents in a history file (see `domain.incident_history`), or its problems."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CannotRead(f"cannot read {path}: {exc}") from None
    return parse_history(str(path), text)


def history_from_database(url: str, start: datetime, end: datetime) -> list[HistoricIncident]:
    """The incidents opened in [start, end) as the database has them (read only)."""
    if url.startswith("sqlite") and not _sqlite_file_exists(url):
        raise CannotRead("no database at the database_url of the settings (give --history FILE)")
    db = Database(url)
    try:
        with db.read() as session:
            return [
                HistoricIncident(
                    number=row.id,
                    service=row.service,
                    opened_at=row.created_at,
                    acknowledged_at=row.acknowledged_at,
                    resolved_at=row.resolved_at,
                    urgency=row.urgency,
                )
                for row in incident_history.opened_between(session, start, end)
            ]
    except SQLAlchemyError as exc:
        reason = mask_credentials((str(exc).splitlines() or [type(exc).__name__])[0][:200], url)
        raise CannotRead(f"cannot read the incidents from the database: {reason}") from None
    finally:
        db.dispose()


def _sqlite_file_exists(url: str) -> bool:
    """Opening a SQLite file that is not there would create it: look first."""
    database = make_url(url).database or ""
    return database in ("", ":memory:") or Path(database).is_file()
