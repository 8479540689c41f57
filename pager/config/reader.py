"""Reads `pager.yaml` into `Settings`, collecting every problem with its file and line."""

from __future__ import annotations

import re
from pathlib import Path

from pager.config.canaries import CanaryReader
from pager.config.integrations import IntegrationReader
from pager.config.model import (
    PROVIDER_COMMON_KEYS,
    TOP_KEYS,
    ProviderSettings,
    Settings,
    host_and_port,
)
from pager.config.provider_types import PROVIDER_TYPES, ProviderType
from pager.config.rotations import RotationsReader
from pager.config.sign_in import SignInReader
from pager.config.sms_console import SmsConsoleReader
from pager.config.verify import VerifyReader
from pager.config.webhooks import WebhookReader
from pager.domain.yamldoc import Map, Seq

# The keys of a named entry of `api_tokens` (`{name: ci-bot, token: ${CI_BOT_TOKEN}}`).
API_TOKEN_KEYS = {"name", "token"}


class Reader(
    IntegrationReader,
    RotationsReader,
    VerifyReader,
    SignInReader,
    WebhookReader,
    SmsConsoleReader,
    CanaryReader,
):
    def settings(self, doc: Map, path: Path) -> Settings:
        self.keys(doc, TOP_KEYS, "settings")
        base = Settings()
        get = lambda key, default: (  # noqa: E731
            self.text(doc[key], doc.at(key), key) if key in doc else default
        )
        bind = get("bind", base.bind)
        try:
            host_and_port(bind)
        except ValueError as exc:
            self.problem(doc.at("bind"), f"bind: {exc}")
        database_url = get("database_url", base.database_url)
        rotations, rotations_git = self.rotations(doc, path, database_url)
        providers = self.providers(doc) if "providers" in doc else base.providers
        tokens, token_names = self.api_tokens(doc)
        return Settings(
            database_url=database_url,
            rotations=rotations,
            rotations_git=rotations_git,
            public_url=get("public_url", f"http://{bind}").rstrip("/"),
            bind=bind,
            api_tokens=tokens,
            api_token_names=token_names,
            providers=providers,
            integrations=self.integrations(doc),
            source=str(path),
            limits=self.limits(doc),
            routing=self.routing(doc, providers),
            heartbeats=self.heartbeats(doc),
            verify_services=self.verify_services(doc),
            sign_in=self.sign_in(doc),
            webhooks=self.webhooks(doc),
            sms_console=self.sms_console(doc),
            canaries=self.canaries(doc, providers),
        )

    def api_tokens(self, doc: Map) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The tokens and their names: each entry a token, or `{name: ci-bot, token: ...}`."""
        if "api_tokens" not in doc:
            return (), ()
        value = doc["api_tokens"]
        if not isinstance(value, Seq):
            self.problem(doc.at("api_tokens"), "api_tokens: expected a list of tokens")
            return (), ()
        tokens, names = [], []
        for i, entry in enumerate(value):
            where = value.at(i)
            name = "api"
            if isinstance(entry, Map):
                self.keys(entry, API_TOKEN_KEYS, "api_tokens entry")
                name = self.text(entry.get("name", ""), entry.at("name"), "api_tokens name")
                if not name or len(name) > 100 or not name.isprintable():
                    self.problem(
                        where, "api_tokens: a named token needs a name of 1-100 characters"
                    )
                if "token" not in entry:  # else the entry would quietly grant nothing
                    self.problem(where, f"api_tokens: the token named '{name}' is missing 'token'")
                where = entry.at("token") if "token" in entry else where
                entry = entry.get("token", "")
            token = self.text(entry, where, "api_tokens")
            if token:
                tokens.append(token)
                names.append(name)
        return tuple(tokens), tuple(names)

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
            ptype = PROVIDER_TYPES.get(kind)
            if ptype is None:
                known = ", ".join(sorted(PROVIDER_TYPES))
                self.problem(entry.at("type"), f"provider type '{kind}' unknown (known: {known})")
                continue
            if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):
                self.problem(entry.at("name"), f"provider name '{name}': use a-z, 0-9, - and _")
            if any(p.name == name for p in result):
                self.problem(entry.at("name"), f"provider name '{name}' used twice")
            options = self.provider_options(entry, name, ptype)
            rate = self.provider_rate(entry, name, ptype)
            result.append(ProviderSettings(name, kind, options, rate=rate))
        return tuple(result)

    def provider_options(self, entry: Map, name: str, ptype: ProviderType) -> dict[str, str]:
        """The options of provider `name`: the keys its type takes, each as text, those it
        requires present, and those that need another with it."""
        self.keys(entry, ptype.keys | PROVIDER_COMMON_KEYS, f"provider '{name}'")
        for key in sorted(ptype.required - set(entry)):
            self.problem(entry.where, f"provider '{name}': missing '{key}'")
        options = {
            k: self.provider_option(name, k, v, entry.at(k), ptype.flags)
            for k, v in entry.items()
            if k not in PROVIDER_COMMON_KEYS
        }
        for key, needed, why in ptype.key_needs:
            if key in entry and needed not in entry:
                self.problem(entry.at(key), f"provider '{name}': {key} needs {needed} ({why})")
        return options
