"""Load the rotation files; only a set that validates replaces the one in force.

A broken edit never takes paging down: the last good set stays in force (from memory, or from
the database after a restart) and the problems show in the log, `/readyz`, the metric
`pager_rotations_valid` and `POST /api/v1/rotations/reload` (DESIGN invariant 6).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from pathlib import Path

from pager import metrics
from pager.config.model import GitRotations
from pager.domain.phones import mask_numbers_in
from pager.domain.rotation_schema import parse_schedule
from pager.domain.rotations import Schedule
from pager.domain.yamldoc import Problem, Where
from pager.flows.context import Pager, Rotations
from pager.flows.rotations_git import Unreachable, read_branch
from pager.flows.silences import recheck_planned_windows
from pager.flows.verify import note_unverified
from pager.store import audit, rotation_sets

log = logging.getLogger(__name__)


def read_files(path: Path) -> list[tuple[str, str]]:
    """Every `*.yaml` / `*.yml` in `path` (or `path` itself if it is a file), sorted by name."""
    if path.is_file():
        return [(str(path), path.read_text(encoding="utf-8"))]
    if not path.is_dir():
        raise Problem(Where(str(path), 1), "no such directory")
    found = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    return [(str(p), p.read_text(encoding="utf-8")) for p in found]


def digest_of(files: list[tuple[str, str]]) -> str:
    h = hashlib.sha256()
    for name, text in files:
        h.update(Path(name).name.encode() + b"\0" + text.encode() + b"\0")
    return h.hexdigest()


def _read(path: Path) -> tuple[list[tuple[str, str]], list[Problem]]:
    try:
        return read_files(path), []
    except (OSError, UnicodeDecodeError) as exc:
        return [], [Problem(Where(str(path), 1), f"cannot read: {exc}")]
    except Problem as unreadable:
        return [], [unreadable]


def load_rotations(pager: Pager, now: datetime, *, force: bool = True) -> Rotations:
    """Read and validate the files; put them in force if they validate, else keep the last good.

    Without `force`, files that did not change since the last read are not parsed again. With
    a git repository (`rotations: {git: ...}`), the branch is fetched first, except by the
    first load in a process when the clone already holds a commit: starting never waits for
    the network then, and the watcher fetches straight after.
    """
    git = pager.settings.rotations_git
    if git is not None:
        return _load_commit(pager, git, now, force=force)
    files, problems = _read(pager.settings.rotations)
    files_digest = digest_of(files) if not problems else ""
    if not force and files_digest and files_digest == pager.rotations.files_digest:
        return pager.rotations
    return _validate_then_replace(pager, files, files_digest, problems, [], now)


def _load_commit(pager: Pager, git: GitRotations, now: datetime, *, force: bool) -> Rotations:
    started = pager.rotations.loaded_at is not None  # None only until the first load
    commit = read_branch(git, fetch=started)
    notes: list[Problem] = [commit.unreachable] if commit.unreachable else []
    if not commit.sha:
        return _keep_last_good(pager, notes, "", now)
    files_digest = digest_of(commit.files) if not commit.problems else ""
    current = pager.rotations
    if not force and files_digest and files_digest == current.files_digest:
        # The same files as last time: only whether the fetch worked may have changed.
        blocking = [p for p in current.problems if not isinstance(p, Unreachable)]
        current.problems = blocking + notes
        return current
    return _validate_then_replace(
        pager, commit.files, files_digest, commit.problems, notes, now, commit.sha
    )


def _validate_then_replace(
    pager: Pager,
    files: list[tuple[str, str]],
    files_digest: str,
    problems: list[Problem],
    notes: list[Problem],
    now: datetime,
    commit: str = "",
) -> Rotations:
    """`notes` (a failed fetch) never block a set; they show with it."""
    schedule = None
    if not problems:
        schedule, problems = parse_schedule(files)
    if schedule is not None:
        return _put_in_force(pager, schedule, files, files_digest, notes, now, commit)
    metrics.ROTATIONS_VALID.set(0)
    for problem in problems:
        log.error("event=rotations_invalid problem=%r", mask_numbers_in(str(problem)))
    return _keep_last_good(pager, problems + notes, files_digest, now)


def _keep_last_good(
    pager: Pager, problems: list[Problem], files_digest: str, now: datetime
) -> Rotations:
    """The set in force stays, else the last good one in the database comes in force."""
    current = pager.rotations
    if current.schedule is not None:
        pager.rotations = Rotations(
            current.schedule,
            problems,
            current.origin,
            current.digest,
            files_digest,
            current.loaded_at,
        )
        return pager.rotations
    with pager.db.transaction() as session:
        last_good = rotation_sets.latest(session)
        stored = rotation_sets.files_of(last_good) if last_good else []
    schedule, _ = parse_schedule(stored) if stored else (None, [])
    origin = "database" if schedule is not None else "none"
    digest = last_good.digest if last_good else ""
    if last_good is not None and schedule is not None:
        # Loud: paging goes on, but from files nobody can see until someone fixes theirs.
        log.warning(
            "event=rotations_from_database digest=%s stored_at=%s problems=%d "
            "note='the rotation files do not validate: paging from the last good set stored'",
            digest[:12],
            last_good.loaded_at.isoformat(),
            len(problems),
        )
    pager.rotations = Rotations(schedule, problems, origin, digest, files_digest, now)
    note_unverified(pager)
    return pager.rotations


def _put_in_force(
    pager: Pager,
    schedule: Schedule,
    files: list[tuple[str, str]],
    digest: str,
    notes: list[Problem],
    now: datetime,
    commit: str,
) -> Rotations:
    before = pager.rotations
    changed = digest != before.digest
    with pager.db.transaction() as session:
        # Audited once per new set, however many processes and restarts load it.
        if rotation_sets.save(session, digest, files, now):
            source = f"git commit {commit}" if commit else f"{len(files)} file(s)"
            audit.record(
                session, now, "pager", "pager", "rotations_loaded", f"digest {digest[:12]}", source
            )
    was_broken = any(not isinstance(p, Unreachable) for p in before.problems)
    pager.rotations = Rotations(schedule, notes, "files", digest, digest, now)
    metrics.ROTATIONS_VALID.set(1)
    note_unverified(pager)  # a changed number is unproven again
    at = f" commit={commit}" if commit else ""
    if was_broken:
        log.info("event=rotations_valid_again digest=%s%s", digest[:12], at)
    if changed:
        log.info("event=rotations_loaded digest=%s files=%d%s", digest[:12], len(files), at)
        recheck_planned_windows(pager, now)  # a planned window may have ended early or moved
    elif not was_broken:
        log.info("event=rotations_unchanged digest=%s%s", digest[:12], at)
    return pager.rotations
