"""Rotation files as a commit of a repository on this machine has them (a CI checkout).

Read only: nothing is fetched or checked out; the files come from the commit's objects, as the
daemon's own clone reads them (`rotations_git.RotationRepo.folder`).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from pager.store.rotations_git import GitError, RotationRepo

_TIMEOUT = 30.0  # seconds, for each git command


@dataclass(frozen=True)
class LocalRepository(RotationRepo):
    """A repository already here; `git_dir` is its own (a worktree's, in a worktree)."""

    local_git_dir: Path = Path(".git")

    @property
    def git_dir(self) -> Path:
        return self.local_git_dir

    def commit_of(self, revision: str) -> str:
        """The full commit id `revision` names; GitError when it names none."""
        if revision.startswith("-"):
            raise GitError(f"not a revision: {revision!r}")
        try:
            out = self._git("rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
        except GitError:
            raise GitError(f"no commit '{revision}' in {self.local_git_dir}") from None
        return out.decode().strip()


def repository_of(folder: Path) -> tuple[LocalRepository, str]:
    """The repository `folder` is in (it, or its nearest existing parent, need not be tracked)
    and the folder's path inside it ("" for its top)."""
    folder = folder.resolve()
    anchor = next((p for p in (folder, *folder.parents) if p.is_dir()), Path("/"))
    command = ["git", "-C", str(anchor), "rev-parse", "--absolute-git-dir", "--show-toplevel"]
    try:
        found = subprocess.run(  # noqa: S603 (fixed program, our own arguments)
            command,
            capture_output=True,
            text=True,
            timeout=_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitError(f"cannot run git: {exc}") from None
    lines = found.stdout.splitlines()
    if found.returncode != 0 or len(lines) != 2:
        raise GitError(f"{folder} is not in a git repository")
    git_dir, top = Path(lines[0]), Path(lines[1]).resolve()
    inside = folder.relative_to(top).as_posix()
    repo = LocalRepository(
        url="", branch="", checkout=git_dir, timeout=_TIMEOUT, local_git_dir=git_dir
    )
    return repo, "" if inside == "." else inside
