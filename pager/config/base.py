"""What every part of the settings reader shares: problems with places, text with ${ENV}."""

from __future__ import annotations

import re
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any

from pager.config.model import ENV_REFERENCE
from pager.domain.yamldoc import Map, Problem, Where


class BaseReader:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[Problem] = []

    def problem(self, where: Where, message: str) -> None:
        self.problems.append(Problem(where, message))

    def text(self, value: Any, where: Where, what: str) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.problem(where, f"{what}: expected text, got {type(value).__name__}")
            return ""

        def substitute(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in self.env and self.env[name] != "":
                return self.env[name]
            path = self.env.get(f"{name}_FILE")
            if path:  # Docker and Kubernetes secrets: the variable names a file holding it
                secret, error = _read_secret_file(path)
                if error:
                    self.problem(where, f"{what}: {name}_FILE={path}: {error}")
                return secret
            if default is not None:
                return default
            self.problem(where, f"{what}: environment variable {name} is not set")
            return ""

        return ENV_REFERENCE.sub(substitute, str(value))

    def section(self, parent: Map, key: str, expected: str) -> Map | None:
        """`parent[key]` when it is a mapping. None when it is absent, or when it is not a
        mapping: then with the problem `expected` at its place."""
        if key not in parent:
            return None
        value = parent[key]
        if not isinstance(value, Map):
            self.problem(parent.at(key), expected)
            return None
        return value

    def keys(self, node: Map, allowed: AbstractSet[str], what: str) -> None:
        for key in node:
            if key not in allowed:
                known = ", ".join(sorted(allowed))
                self.problem(node.at(key), f"unknown key '{key}' in {what} (known: {known})")


def _read_secret_file(path: str) -> tuple[str, str | None]:
    """(the secret in the file at `path` less one trailing newline, None) or ("", what is wrong).

    What is wrong never quotes the file: it holds a secret.
    """
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        return "", f"cannot read the file ({exc.strerror or type(exc).__name__})"
    try:
        secret = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "", "the file is not UTF-8 text"
    if secret.endswith("\n"):  # `echo secret > file` adds one (Windows editors: CR LF)
        secret = secret.removesuffix("\n").removesuffix("\r")
    if not secret:
        return "", "the file is empty"
    return secret, None
