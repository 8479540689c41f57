"""The `rotations:` setting: a folder of rotation files, or a branch of a git repository.

rotations: rotations/                      # a folder (relative to pager.yaml if not here)
rotations:
  git: https://oauth2:${GIT_TOKEN}@git.example.com/ops/oncall.git
  branch: main                             # default: main
  path: rotations                          # folder in the repository; default: its root
  every: 1m                                # how often to fetch; default: 1m
  timeout: 30s                             # for each git command; default: 30s
  checkout: /var/lib/pager/rotations       # the daemon's clone; default: next to SQLite
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path, PurePosixPath

from pager.config.delivery import DeliveryReader
from pager.config.model import GitRotations, Settings
from pager.domain.yamldoc import Map

GIT_KEYS = {"git", "branch", "path", "every", "timeout", "checkout"}
_URL = re.compile(r"(https?|ssh|git|file)://\S+|[\w.-]+@[\w.-]+:\S+")  # or scp-like user@host:path
_BRANCH = re.compile(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*")
_SQLITE_FILE = re.compile(r"sqlite(\+\w+)?:///(?P<file>[^?]+)(\?.*)?")


class RotationsReader(DeliveryReader):
    def rotations(
        self, doc: Map, path: Path, database_url: str
    ) -> tuple[Path, GitRotations | None]:
        """The folder of rotation files, or (the default folder and) the git repository."""
        default = Settings().rotations
        value = doc.get("rotations", str(default))
        if isinstance(value, Map):
            return default, self.git_rotations(value, path, database_url)
        folder = Path(self.text(value, doc.at("rotations"), "rotations"))
        if not folder.is_absolute() and not folder.exists():
            folder = path.parent / folder
        return folder, None

    def git_rotations(self, entry: Map, path: Path, database_url: str) -> GitRotations | None:
        self.keys(entry, GIT_KEYS, "rotations")
        if "git" not in entry:
            self.problem(entry.where, "rotations: missing 'git' (the repository's URL)")
            return None
        # Never quote the URL in a problem: ${GIT_TOKEN} may be in it by now.
        url = self.text(entry["git"], entry.at("git"), "rotations git")
        if url and not _URL.fullmatch(url):
            self.problem(
                entry.at("git"),
                "rotations git: expected an https://, ssh://, git:// or file:// URL"
                " (or user@host:path)",
            )
        branch = self.text(entry.get("branch", "main"), entry.at("branch"), "rotations branch")
        if (
            not _BRANCH.fullmatch(branch)
            or ".." in branch
            or branch.startswith(("-", "."))
            or branch.endswith((".", ".lock"))
        ):
            self.problem(entry.at("branch"), f"rotations branch: '{branch}' is not a branch name")
        return GitRotations(
            url=url,
            branch=branch,
            checkout=self.checkout(entry, path, database_url),
            path=self.folder_in_repo(entry),
            every=self.interval(entry, "every", GitRotations.every),
            timeout=self.interval(entry, "timeout", GitRotations.timeout),
        )

    def folder_in_repo(self, entry: Map) -> str:
        raw = self.text(entry.get("path", ""), entry.at("path"), "rotations path")
        folder = PurePosixPath(raw.strip("/") or ".")  # "/teams/" is the same as "teams"
        if ".." in folder.parts:
            self.problem(entry.at("path"), "rotations path: a folder inside the repository")
        return "" if str(folder) == "." else str(folder)

    def interval(self, entry: Map, key: str, default: timedelta) -> timedelta:
        return self.duration(entry, key, "rotations") or default

    def checkout(self, entry: Map, path: Path, database_url: str) -> Path:
        """Where the clone lives: `checkout`, else next to the SQLite file (`pager.db` ->
        `pager-rotations/`)."""
        if "checkout" in entry:
            folder = Path(self.text(entry["checkout"], entry.at("checkout"), "rotations checkout"))
            return folder if folder.is_absolute() else path.parent / folder
        found = _SQLITE_FILE.fullmatch(database_url)
        database = found["file"] if found else ""
        if not database or database == ":memory:" or database.startswith("file:"):
            self.problem(
                entry.where,
                "rotations: missing 'checkout' (a folder the daemon may write its clone of the"
                " repository to; the default is next to the SQLite file, and there is none)",
            )
            return Path()
        file = Path(database).absolute()
        return file.parent / f"{file.stem}-rotations"
