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


@dataclass(frozen=True)
class SourceRules:
    """What an integration of one source needs: how it authenticates, which options it takes."""

    auth: str  # "token" | "secret" | "token or secret" (the secret, when set, wins)
    options: frozenset[str] = frozenset()


SOURCE_RULES: dict[str, SourceRules] = {
    "alertmanager": SourceRules("token"),
    "grafana": SourceRules("token or secret"),
    "github": SourceRules("secret", frozenset({"branches"})),
    "gitlab": SourceRules("token", frozenset({"branches"})),
    "jenkins": SourceRules("token", frozenset({"branches"})),
    "pagerduty": SourceRules("token"),
    "generic": SourceRules("token or secret", frozenset({"mapping"})),
}
SOURCES = tuple(SOURCE_RULES)
INTEGRATION_KEYS = {
    "service",
    "source",
    "token",
    "secret",
    "previous_secret",
    "branches",
    "mapping",
}
MAPPING_PATHS = ("id", "title", "status", "summary", "labels", "url")
_MISSING_AUTH = {
    "token": "missing 'token'",
    "secret": "missing 'secret' (the webhook's HMAC secret, e.g. ${GITHUB_WEBHOOK_SECRET})",
    "token or secret": "missing 'token' (or 'secret' for signed requests)",
}
_UNUSED_AUTH = {
    "token": {"secret", "previous_secret"},
    "secret": {"token"},
    "token or secret": set(),
}
PROVIDER_KEYS: dict[str, tuple[set[str], set[str]]] = {
    # type: (required keys, optional keys) besides name and type
    "twilio": ({"account_sid", "auth_token", "from"}, {"api_base_url", "timeout"}),
    "vonage": (
        {"api_key", "api_secret", "from"},
        {"application_id", "private_key", "signature_secret", "signature_method", "api_host",
         "rest_host", "timeout"},
    ),
    "sns": (
        {"region", "access_key_id", "secret_access_key"},
        {"sender_id", "origination_number", "endpoint_url", "timeout"},
    ),
    "sinch": (
        {"service_plan_id", "api_token", "from"},
        {"region", "base_url", "webhook_secret", "timeout"},
    ),
    "messagebird": ({"access_key", "originator"}, {"base_url", "signing_key", "timeout"}),
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


FieldPath = tuple[str, ...]  # `$.incident.key` -> ("incident", "key")


@dataclass(frozen=True)
class FieldMapping:
    """Where a generic webhook's body keeps each alert field, and which states mean what."""

    title: FieldPath
    id: FieldPath | None = None
    status: FieldPath | None = None
    summary: FieldPath | None = None
    labels: FieldPath | None = None
    url: FieldPath | None = None
    firing: tuple[str, ...] = ("firing",)
    resolved: tuple[str, ...] = ("resolved",)


@dataclass(frozen=True)
class IntegrationSettings:
    name: str
    service: str
    source: str
    token: str | None  # None: the daemon generates one and keeps it in the database
    secret: str | None = None  # HMAC key (GitHub, Grafana, generic)
    previous_secret: str | None = None  # still accepted while the senders move to `secret`
    branches: tuple[str, ...] = ()  # CI sources: empty means the repository's default branch
    mapping: FieldMapping | None = None  # generic source: where the fields are


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
            if not isinstance(entry, Map):
                self.problem(
                    value.at(name), f"integration '{name}': expected service, source and token"
                )
                continue
            self.keys(entry, INTEGRATION_KEYS, f"integration '{name}'")
            result[name] = self.integration(name, entry, value.at(name))
        return result

    def integration(self, name: str, entry: Map, where: Where) -> IntegrationSettings:
        for key in ("service", "source"):
            if key not in entry:
                self.problem(where, f"integration '{name}': missing '{key}'")
        source = self.text(entry.get("source", ""), entry.at("source"), "source")
        rules = SOURCE_RULES.get(source)
        if source and rules is None:
            known = ", ".join(SOURCES)
            self.problem(entry.at("source"), f"source '{source}' unknown (known: {known})")
        if rules is not None:
            self.source_rules(name, entry, where, source, rules)
        return IntegrationSettings(
            name=name,
            service=self.text(entry.get("service", ""), entry.at("service"), "service"),
            source=source,
            token=self.secret(name, entry, "token"),
            secret=self.secret(name, entry, "secret"),
            previous_secret=self.secret(name, entry, "previous_secret"),
            branches=self.branches(name, entry),
            mapping=self.mapping(name, entry) if "mapping" in entry else None,
        )

    def secret(self, name: str, entry: Map, key: str) -> str | None:
        """A token or secret: text, usually `${ENV}`; set but empty is a mistake."""
        if key not in entry:
            return None
        value = self.text(entry[key], entry.at(key), f"integration '{name}' {key}")
        if not value and not self.problems:
            self.problem(entry.at(key), f"integration '{name}': {key} is empty")
        return value or None

    def source_rules(
        self, name: str, entry: Map, where: Where, source: str, rules: SourceRules
    ) -> None:
        """The keys this source needs are there, and none it would silently ignore."""
        accepted = rules.auth.split(" or ")
        if not any(key in entry for key in accepted):
            self.problem(where, f"integration '{name}': {_MISSING_AUTH[rules.auth]}")
        unused = (_UNUSED_AUTH[rules.auth] | {"branches", "mapping"}) - rules.options
        for key in sorted(unused & set(entry)):
            self.problem(entry.at(key), f"integration '{name}': source '{source}' takes no '{key}'")
        if "previous_secret" in entry and "secret" not in entry:
            self.problem(
                entry.at("previous_secret"), f"integration '{name}': previous_secret needs secret"
            )

    def branches(self, name: str, entry: Map) -> tuple[str, ...]:
        if "branches" not in entry:
            return ()
        value = entry["branches"]
        if not isinstance(value, Seq) or not value:
            self.problem(
                entry.at("branches"),
                f"integration '{name}': branches: expected a list of branch names",
            )
            return ()
        found = [
            self.text(v, value.at(i), f"integration '{name}' branches") for i, v in enumerate(value)
        ]
        return tuple(b for b in found if b)

    def mapping(self, name: str, entry: Map) -> FieldMapping | None:
        what = f"integration '{name}' mapping"
        value = entry["mapping"]
        if not isinstance(value, Map):
            self.problem(entry.at("mapping"), f"{what}: expected a mapping of fields to paths")
            return None
        self.keys(value, {*MAPPING_PATHS, "firing", "resolved"}, what)
        if "title" not in value:
            self.problem(value.where, f"{what}: missing 'title' (a path such as $.incident.name)")
            return None
        paths = {key: self.field_path(value, key, what) for key in MAPPING_PATHS if key in value}
        states = {
            key: self.states(value, key, what) for key in ("firing", "resolved") if key in value
        }
        return FieldMapping(**paths, **states)

    def field_path(self, mapping: Map, key: str, what: str) -> FieldPath:
        text = self.text(mapping[key], mapping.at(key), f"{what} {key}")
        segments = tuple(text.removeprefix("$").removeprefix(".").split("."))
        if not text or not all(segments):
            self.problem(
                mapping.at(key), f"{what} {key}: '{text}' is not a path like $.incident.key"
            )
        return segments

    def states(self, mapping: Map, key: str, what: str) -> tuple[str, ...]:
        value = mapping[key]
        if not isinstance(value, Seq) or not value:
            self.problem(mapping.at(key), f"{what} {key}: expected a list of states")
            return ()
        return tuple(self.text(v, value.at(i), f"{what} {key}") for i, v in enumerate(value))
