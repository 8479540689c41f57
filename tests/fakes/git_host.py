"""A git host for tests: `Upstream`, a bare repository with a working clone that pushes to it,
and `FakeGitHost`, git's own smart HTTP server (`git http-backend`, run as CGI) on 127.0.0.1
behind HTTP basic auth, as GitLab or Gitea ask a token (`https://oauth2:<token>@host/...`).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

from werkzeug.wrappers import Request, Response

from tests.fakes.twilio import serve_in_background, stop_server

IDENTITY = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}


def git(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **IDENTITY},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


class Upstream:
    """A bare repository (the git host) and a working clone that pushes to it."""

    def __init__(self, root: Path) -> None:
        self.bare = root / "oncall.git"
        self.work = root / "work"
        git("init", "--quiet", "--bare", "--initial-branch=main", str(self.bare))
        git("init", "--quiet", "--initial-branch=main", str(self.work))
        git("remote", "add", "origin", str(self.bare), cwd=self.work)

    @property
    def url(self) -> str:
        return self.bare.as_uri()  # file:///...

    def push(self, files: dict[str, str], message: str = "edit rotations") -> str:
        for name, content in files.items():
            path = self.work / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
        git("add", "--all", cwd=self.work)
        git("commit", "--quiet", "--message", message, cwd=self.work)
        git("push", "--quiet", "origin", "HEAD:main", cwd=self.work)
        return git("rev-parse", "HEAD", cwd=self.work)

    def gone(self) -> Callable[[], None]:
        """Take the repository away (as a host that is down); the result brings it back."""
        hidden = self.bare.with_name("hidden.git")
        self.bare.rename(hidden)
        return lambda: hidden.rename(self.bare)


class FakeGitHost:
    """Serves the bare repositories under `root`. `password` may change while it runs (a token
    rotated on the host); `users_seen` records the user name of each request."""

    def __init__(self, root: Path, user: str, password: str) -> None:
        self.root = root  # bare repositories: <root>/<name>.git
        self.user = user
        self.password = password
        self.users_seen: list[str] = []
        self._server = serve_in_background(self)
        self.base_url = f"http://127.0.0.1:{self._server.port}"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        stop_server(self._server)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        auth = request.authorization
        self.users_seen.append((auth.username or "") if auth else "")
        if auth is None or (auth.username, auth.password) != (self.user, self.password):
            response = Response("authentication required", status=401)
            response.headers["WWW-Authenticate"] = 'Basic realm="git"'
            return response(environ, start_response)
        return self._backend(request)(environ, start_response)

    def _backend(self, request: Request) -> Response:
        cgi = {
            "PATH": "/usr/bin:/bin",
            "GIT_PROJECT_ROOT": str(self.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": request.method,
            "PATH_INFO": request.path,
            "QUERY_STRING": request.query_string.decode(),
            "CONTENT_TYPE": request.content_type or "",
            "REMOTE_USER": self.user,
            "REMOTE_ADDR": "127.0.0.1",
        }
        for header in ("Content-Encoding", "Git-Protocol"):
            if header in request.headers:
                cgi["HTTP_" + header.upper().replace("-", "_")] = request.headers[header]
        body = request.get_data()
        cgi["CONTENT_LENGTH"] = str(len(body))
        out = subprocess.run(
            ["git", "http-backend"], input=body, env=cgi, capture_output=True, check=True
        ).stdout
        head, _, payload = out.partition(b"\r\n\r\n")
        response = Response(payload)
        for line in head.decode().split("\r\n"):
            name, _, value = line.partition(": ")
            if name.lower() == "status":
                response.status = value
            elif name:
                response.headers[name] = value
        return response
