"""Where settings come from: the embedded quick-start defaults, or a `pager.yaml`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pager.config.model import REPO_ROTATIONS, ConfigError, IntegrationSettings, Settings
from pager.config.reader import Reader
from pager.domain import yamldoc
from pager.domain.yamldoc import Map, Problem, Where


def default_rotations() -> Path:
    """Where rotations come from when nothing names them: ./rotations, else the example shipped
    with pager (the quick start). `serve`, `check` and `oncall` all follow this one rule."""
    return Path("rotations") if Path("rotations").is_dir() else REPO_ROTATIONS


def default_settings(bind: str | None = None) -> Settings:
    """The quick start: SQLite in the working directory, the sandbox provider, example rotations."""
    rotations = default_rotations()
    bind = bind or "127.0.0.1:8080"
    return Settings(
        rotations=rotations,
        bind=bind,
        public_url=f"http://{bind}",
        integrations={
            "alertmanager": IntegrationSettings("alertmanager", "payments", "alertmanager", None),
            "grafana": IntegrationSettings("grafana", "payments", "grafana", None),
        },
    )


def load_settings(path: Path, env: Mapping[str, str] | None = None) -> Settings:
    """Read `pager.yaml`; raise ConfigError listing every problem found."""
    env = os.environ if env is None else env
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([Problem(Where(str(path), 1), f"cannot read: {exc.strerror}")]) from exc
    try:
        doc = yamldoc.load(text, str(path))
    except Problem as problem:
        raise ConfigError([problem]) from problem
    if not isinstance(doc, Map):
        raise ConfigError([Problem(Where(str(path), 1), "expected a mapping of settings")])
    reader = Reader(env)
    settings = reader.settings(doc, path)
    if reader.problems:
        raise ConfigError(sorted(reader.problems, key=lambda p: (p.where.line, p.where.column)))
    return settings
