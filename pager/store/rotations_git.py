"""The daemon's own clone of the rotations repository, driven through the `git` command.

The clone is bare: files are read from the objects of the fetched commit, never from a working
tree, so what is read is exactly what was committed, and the processes that share the clone
(`pager web` workers, `pager worker`) never see a half-written checkout. A lock file serializes
fetches. The URL, which may carry a token, reaches git through its environment (GIT_CONFIG_*):
never the command line (`ps` shows that to every user), never the clone's config file. Every
message that leaves this module has the credentials of URLs masked.
"""

from __future__ import annotations

import fcntl
import os
import re
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

REMOTE = "pager"  # the remote's name, defined only in git's environment
_USERINFO = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s]+@")
# Query parameters that carry a credential (GitLab's ?private_token=, ?access_token=, ...).
_SECRET_PARAM = re.compile(
    r"([?&;](?:private_token|access_token|token|key|api_key|password|passwd|secret|sig|"
    r"signature|auth)=)[^&#\s'\"]+",
    re.IGNORECASE,
)
_SHA = re.compile(rb"[0-9a-f]{40}([0-9a-f]{24})?")
_FILE_MODES = (b"100644", b"100755")  # regular files; symbolic links (120000) are not followed


class GitError(Exception):
    """A git command failed or took too long; the message has credentials masked."""


def mask_credentials(text: str, url: str = "") -> str:
    """`text` with the user:password@ of every URL in it as ***@, credentials in query strings
    (`?private_token=...`) as ***, and the password (or token) of `url` as *** wherever it
    appears."""
    for secret in _secrets_of(url):
        text = text.replace(secret, "***")
    return _SECRET_PARAM.sub(r"\1***", _USERINFO.sub(r"\1***@", text))


def _secrets_of(url: str) -> list[str]:
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    found = [parts.password] if parts.password else []
    if parts.scheme in ("http", "https") and parts.username and not parts.password:
        found.append(parts.username)  # https://TOKEN@host/...: the user name is the token
    # Short values would mask ordinary words in git's messages; they are also no secret.
    return [s for raw in found if raw for s in {raw, unquote(raw)} if len(s) >= 6]


@dataclass(frozen=True)
class RotationRepo:
    """A bare clone under `checkout` of one branch of the repository at `url`."""

    url: str = field(repr=False)
    branch: str
    checkout: Path
    timeout: float = 30.0  # seconds, for each git command

    @property
    def git_dir(self) -> Path:
        return self.checkout / "repo.git"

    @property
    def ref(self) -> str:
        return f"refs/remotes/{REMOTE}/{self.branch}"

    def fetch(self) -> None:
        """Fetch the branch's head commit; raise GitError when the repository can't be read."""
        try:
            self.checkout.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise GitError(f"cannot create {self.checkout}: {exc.strerror}") from None
        with self._lock():
            if not (self.git_dir / "HEAD").is_file():
                self._git("init", "--quiet", "--bare", str(self.git_dir))
            self._git("fetch", "--quiet", "--no-tags", "--depth=1", REMOTE)

    def head(self) -> str | None:
        """The commit of the branch the last good fetch brought, or None before the first."""
        if not (self.git_dir / "HEAD").is_file():
            return None
        try:
            out = self._git("rev-parse", "--verify", "--quiet", f"{self.ref}^{{commit}}")
        except GitError:
            return None  # the ref does not exist yet
        return out.decode().strip() or None

    def folder(self, commit: str, path: str) -> list[tuple[str, bytes]] | None:
        """(path in the repository, content) of each `*.yaml` / `*.yml` file in folder `path`
        ("" for the root) at `commit`, sorted by name; None when there is no such folder."""
        try:
            listing = self._git("ls-tree", "-z", f"{commit}:{path}" if path else commit)
        except GitError:
            return None  # not in this commit, or not a folder
        wanted: list[tuple[str, bytes]] = []
        for record in listing.split(b"\0"):
            meta, _, name = record.partition(b"\t")
            mode, kind, oid = (meta.split() + [b"", b"", b""])[:3]
            text_name = name.decode("utf-8", "replace")
            if kind == b"blob" and mode in _FILE_MODES and text_name.endswith((".yaml", ".yml")):
                wanted.append((f"{path}/{text_name}" if path else text_name, oid))
        wanted.sort()
        blobs = self._blobs([oid for _, oid in wanted])
        return [(name, blobs[oid]) for name, oid in wanted]

    def _blobs(self, oids: list[bytes]) -> dict[bytes, bytes]:
        if not oids:
            return {}
        out = self._git("cat-file", "--batch", stdin=b"".join(oid + b"\n" for oid in oids))
        found: dict[bytes, bytes] = {}
        at = 0
        for oid in oids:  # each: "<oid> blob <size>\n<content>\n"
            header_end = out.index(b"\n", at)
            header = out[at:header_end].split()
            if len(header) != 3 or not _SHA.fullmatch(header[0]):
                raise GitError(f"git cat-file: unexpected answer for {oid.decode()}")
            size = int(header[2])
            found[oid] = out[header_end + 1 : header_end + 1 + size]
            at = header_end + 1 + size + 1
        return found

    @contextmanager
    def _lock(self) -> Iterator[None]:
        with (self.checkout / "fetch.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            yield

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        count = int(env.get("GIT_CONFIG_COUNT", "0") or 0)
        remote = {
            f"remote.{REMOTE}.url": self.url,
            f"remote.{REMOTE}.fetch": f"+refs/heads/{self.branch}:{self.ref}",
        }
        for index, (key, value) in enumerate(remote.items(), start=count):
            env[f"GIT_CONFIG_KEY_{index}"] = key
            env[f"GIT_CONFIG_VALUE_{index}"] = value
        env["GIT_CONFIG_COUNT"] = str(count + len(remote))
        env["GIT_TERMINAL_PROMPT"] = "0"  # a missing password is an error, never a prompt
        env["LC_ALL"] = "C"
        if "GIT_SSH_COMMAND" not in env and "GIT_SSH" not in env:
            env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes"  # no passphrase or host key prompt
        return env

    def _git(self, *args: str, stdin: bytes | None = None) -> bytes:
        command = ["git", f"--git-dir={self.git_dir}", *args]
        what = f"git {args[0]}"
        try:
            process = subprocess.Popen(  # noqa: S603 (fixed program, our own arguments)
                command,
                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=self._environment(),
                start_new_session=True,  # no terminal to prompt on; one group to kill
            )
        except OSError as exc:
            raise GitError(f"cannot run git: {exc.strerror}") from None
        try:
            out, err = process.communicate(stdin, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            # git's helpers (ssh, git-remote-https) share the group; they hold the pipes too.
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise GitError(f"{what}: no answer within {self.timeout:g}s") from None
        if process.returncode != 0:
            lines = err.decode("utf-8", "replace").split("\n")
            message = " ".join(line.strip() for line in lines if line.strip())
            detail = mask_credentials(message, self.url) or f"exit status {process.returncode}"
            raise GitError(f"{what} failed: {detail}")
        return out
