"""Rotation files from a git repository: fetch the branch, read the files of its head commit.

A file's name carries the commit, as git writes it, so a problem says which commit is wrong:
`1a2b3c4d5e6f:rotations/team.yaml:14: unknown person 'bob'` (`git show` takes the part before
the line number). A fetch that fails is an `Unreachable` problem: it never blocks a set, but it
shows wherever problems show, next to the set that stays in force.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from pager import metrics
from pager.config.model import GitRotations
from pager.domain.yamldoc import Problem, Where
from pager.store.rotations_git import GitError, RotationRepo, mask_credentials

log = logging.getLogger(__name__)


class Unreachable(Problem):
    """The repository could not be fetched: the set in force stays, but may be out of date."""

    def __str__(self) -> str:
        return f"{self.where.file}: {self.message}"


@dataclass(frozen=True)
class Commit:
    """What the clone holds of the branch: its head commit's rotation files."""

    sha: str  # "" while the clone holds no commit of the branch
    files: list[tuple[str, str]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # the files cannot be read
    unreachable: Unreachable | None = None  # the fetch before reading failed


def repository(git: GitRotations) -> str:
    """The repository and branch as logs and problems show them: credentials masked."""
    return f"{mask_credentials(git.url)} branch {git.branch}"


def read_branch(git: GitRotations, *, fetch: bool) -> Commit:
    """Fetch the branch (if `fetch`, or if the clone holds none of it yet), then read the
    rotation files of the commit it is at."""
    repo = RotationRepo(git.url, git.branch, git.checkout, git.timeout.total_seconds())
    sha = repo.head()
    unreachable = None
    if fetch or sha is None:
        unreachable = _fetch(repo, git)
        sha = repo.head()
    if sha is None:
        return Commit("", unreachable=unreachable)
    folder = f"{sha[:12]}:{git.path}" if git.path else sha[:12]
    try:
        found = repo.folder(sha, git.path)
    except GitError as exc:
        return Commit(sha, [], [Problem(Where(folder, 1), str(exc))], unreachable)
    if found is None:
        problem = Problem(Where(folder, 1), "no such folder in this commit")
        return Commit(sha, [], [problem], unreachable)
    files, problems = commit_files(sha, found)
    return Commit(sha, files, problems, unreachable)


def commit_files(
    sha: str, found: list[tuple[str, bytes]]
) -> tuple[list[tuple[str, str]], list[Problem]]:
    """The files of commit `sha` as text, each named `<commit>:<path>`; those that are not
    UTF-8 as problems."""
    files: list[tuple[str, str]] = []
    problems: list[Problem] = []
    for name, content in found:
        where = f"{sha[:12]}:{name}"
        try:
            files.append((where, content.decode("utf-8")))
        except UnicodeDecodeError as exc:
            problems.append(Problem(Where(where, 1), f"cannot read: not UTF-8 text ({exc.reason})"))
    return files, problems


def _fetch(repo: RotationRepo, git: GitRotations) -> Unreachable | None:
    try:
        repo.fetch()
    except GitError as exc:
        metrics.ROTATIONS_GIT_FETCH_OK.labels(git.branch).set(0)
        log.warning(
            "event=rotations_fetch_failed repository=%r error=%r", repository(git), str(exc)
        )
        return Unreachable(
            Where(repository(git), 1), f"cannot fetch ({exc}); the set in force stays"
        )
    metrics.ROTATIONS_GIT_FETCH_OK.labels(git.branch).set(1)
    return None
