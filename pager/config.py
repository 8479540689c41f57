"""Settings: `pager.yaml` with `${ENV_VAR}` interpolation, or the embedded quick-start defaults.

Secrets come from the environment (`${TWILIO_AUTH_TOKEN}`), never from files in git. A key we
do not know is an error with its file and line, so a typo never silently disables a setting.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pager.domain import yamldoc
from pager.domain.yamldoc import Map, Problem, Seq, Where

SOURCES = ("alertmanager", "grafana")
PROVIDER_KEYS: dict[str, tuple[set[str], set[str]]] = {
    # type: (required keys, optional keys) besides name and type
    "twilio": ({"account_sid", "auth_token", "from"}, {"api_base_url", "timeout"}),
    "sandbox": (set(), {"from"}),
}
TOP_KEYS = {
    "database_url",
    "rotations",
    "public_url",
    "api_tokens",
    "providers",
    "integrations",
    "bind",
}
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
REPO_ROTATIONS = Path(__file__).resolve().parent.parent / "rotations"


class ConfigError(Exception):
    """The configuration cannot be used; `problems` are `file:line: message` each."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class ProviderSettings:
    name: str
    type: str
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class IntegrationSettings:
    name: str
    service: str
    source: str
    token: str | None  # None: the daemon generates one and keeps it in the database


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///pager.db"
    rotations: Path = Path("rotations")
    public_url: str = "http://127.0.0.1:8080"
    bind: str = "127.0.0.1:8080"
    api_tokens: tuple[str, ...] = ()
    providers: tuple[ProviderSettings, ...] = (ProviderSettings("sandbox", "sandbox"),)
    integrations: Mapping[str, IntegrationSettings] = field(default_factory=dict)
    source: str = "embedded defaults"


def default_settings(bind: str | None = None) -> Settings:
    """The quick start: SQLite in the working directory, the sandbox provider, example rotations."""
    rotations = Path("rotations") if Path("rotations").is_dir() else REPO_ROTATIONS
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
    reader = _Reader(env)
    settings = reader.settings(doc, path)
    if reader.problems:
        raise ConfigError(sorted(reader.problems, key=lambda p: (p.where.line, p.where.column)))
    return settings


class _Reader:
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

        return _ENV.sub(substitute, str(value))

    def keys(self, node: Map, allowed: set[str], what: str) -> None:
        for key in node:
            if key not in allowed:
                known = ", ".join(sorted(allowed))
                self.problem(node.at(key), f"unknown key '{key}' in {what} (known: {known})")

    def settings(self, doc: Map, path: Path) -> Settings:
        self.keys(doc, TOP_KEYS, "settings")
        base = Settings()
        get = lambda key, default: (  # noqa: E731
            self.text(doc[key], doc.at(key), key) if key in doc else default
        )
        bind = get("bind", base.bind)
        rotations = Path(get("rotations", str(base.rotations)))
        if not rotations.is_absolute():
            rotations = (path.parent / rotations) if not rotations.exists() else rotations
        return Settings(
            database_url=get("database_url", base.database_url),
            rotations=rotations,
            public_url=get("public_url", f"http://{bind}").rstrip("/"),
            bind=bind,
            api_tokens=self.api_tokens(doc),
            providers=self.providers(doc) if "providers" in doc else base.providers,
            integrations=self.integrations(doc),
            source=str(path),
        )

    def api_tokens(self, doc: Map) -> tuple[str, ...]:
        if "api_tokens" not in doc:
            return ()
        value = doc["api_tokens"]
        if not isinstance(value, Seq):
            self.problem(doc.at("api_tokens"), "api_tokens: expected a list of tokens")
            return ()
        tokens = [self.text(v, value.at(i), "api_tokens") for i, v in enumerate(value)]
        return tuple(t for t in tokens if t)

    def providers(self, doc: Map) -> tuple[ProviderSettings, ...]:
        value = doc["providers"]
        if not isinstance(value, Seq) or not value:
            self.problem(doc.at("providers"), "providers: expected a non-empty list")
            return ()
        result: list[ProviderSettings] = []
        for i, entry in enumerate(value):
            where = value.at(i)
            if not isinstance(entry, Map):
                self.problem(where, "providers: each entry is a mapping with name and type")
                continue
            kind = self.text(entry.get("type", ""), entry.at("type"), "type")
            name = self.text(entry.get("name", kind), entry.at("name"), "name")
            if kind not in PROVIDER_KEYS:
                known = ", ".join(sorted(PROVIDER_KEYS))
                self.problem(entry.at("type"), f"provider type '{kind}' unknown (known: {known})")
                continue
            if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):
                self.problem(entry.at("name"), f"provider name '{name}': use a-z, 0-9, - and _")
            if any(p.name == name for p in result):
                self.problem(entry.at("name"), f"provider name '{name}' used twice")
            required, optional = PROVIDER_KEYS[kind]
            self.keys(entry, required | optional | {"name", "type"}, f"provider '{name}'")
            for key in sorted(required - set(entry)):
                self.problem(entry.where, f"provider '{name}': missing '{key}'")
            options = {
                k: self.text(v, entry.at(k), f"provider '{name}' {k}")
                for k, v in entry.items()
                if k not in ("name", "type")
            }
            result.append(ProviderSettings(name, kind, options))
        return tuple(result)

    def integrations(self, doc: Map) -> dict[str, IntegrationSettings]:
        if "integrations" not in doc:
            return {}
        value = doc["integrations"]
        if not isinstance(value, Map):
            self.problem(doc.at("integrations"), "integrations: expected a mapping by name")
            return {}
        result = {}
        for name, entry in value.items():
            where = value.at(name)
            if not isinstance(entry, Map):
                self.problem(where, f"integration '{name}': expected service, source and token")
                continue
            self.keys(entry, {"service", "source", "token"}, f"integration '{name}'")
            for key in ("service", "source", "token"):
                if key not in entry:
                    self.problem(where, f"integration '{name}': missing '{key}'")
            source = self.text(entry.get("source", ""), entry.at("source"), "source")
            if source and source not in SOURCES:
                known = ", ".join(SOURCES)
                self.problem(entry.at("source"), f"source '{source}' unknown (known: {known})")
            token = self.text(
                entry.get("token", ""), entry.at("token"), f"integration '{name}' token"
            )
            if "token" in entry and not token and not self.problems:
                self.problem(entry.at("token"), f"integration '{name}': token is empty")
            service = self.text(entry.get("service", ""), entry.at("service"), "service")
            result[name] = IntegrationSettings(name, service, source, token or None)
        return result
