"""What every part of the settings reader shares: problems with places, text with ${ENV}."""

from __future__ import annotations

import re
from collections.abc import Mapping
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
            if default is not None:
                return default
            self.problem(where, f"{what}: environment variable {name} is not set")
            return ""

        return ENV_REFERENCE.sub(substitute, str(value))

    def keys(self, node: Map, allowed: set[str], what: str) -> None:
        for key in node:
            if key not in allowed:
                known = ", ".join(sorted(allowed))
                self.problem(node.at(key), f"unknown key '{key}' in {what} (known: {known})")
