"""Load the rotation files; only a set that validates replaces the one in force."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from pathlib import Path

from pager import metrics
from pager.domain.rotation_schema import parse_schedule
from pager.domain.yamldoc import Problem, Where
from pager.flows.context import Pager, Rotations
from pager.store import rotation_sets

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


def load_rotations(pager: Pager, now: datetime) -> Rotations:
    """Read and validate the files; put them in force if they validate, else keep the last good."""
    try:
        files = read_files(pager.settings.rotations)
        schedule, problems = parse_schedule(files)
    except (OSError, UnicodeDecodeError) as exc:
        files, schedule, problems = (
            [],
            None,
            [Problem(Where(str(pager.settings.rotations), 1), str(exc))],
        )
    except Problem as unreadable:
        files, schedule, problems = [], None, [unreadable]
    if schedule is not None:
        digest = digest_of(files)
        with pager.db.transaction() as session:
            rotation_sets.save(session, digest, files, now)
        pager.rotations = Rotations(schedule, [], "files", digest)
        metrics.ROTATIONS_VALID.set(1)
        log.info("event=rotations_loaded digest=%s files=%d", digest[:12], len(files))
        return pager.rotations
    metrics.ROTATIONS_VALID.set(0)
    for problem in problems:
        log.error("event=rotations_invalid problem=%r", str(problem))
    if pager.rotations.schedule is not None:
        pager.rotations = Rotations(
            pager.rotations.schedule, problems, pager.rotations.origin, pager.rotations.digest
        )
        return pager.rotations
    with pager.db.transaction() as session:
        last_good = rotation_sets.latest(session)
        stored = rotation_sets.files_of(last_good) if last_good else []
    schedule, _ = parse_schedule(stored) if stored else (None, [])
    origin = "database" if schedule is not None else "none"
    pager.rotations = Rotations(schedule, problems, origin, last_good.digest if last_good else "")
    return pager.rotations
