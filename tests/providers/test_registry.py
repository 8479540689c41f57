"""The provider types' registry (`pager.config.provider_types`): every type builds from its
minimal entry with the channels it declares, and a new type is its module plus its descriptor:
the reader, the rates, the channels, `pager check` and lookups follow with no other edit.

This module is the new type's module too: it has the `build` and `lookup` a type's module has.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

import pager.providers
from pager.config import PROVIDER_TYPES, ConfigError, ProviderSettings, load_settings
from pager.config.provider_types import SMS_ONLY, ProviderType
from pager.domain.limits import Limit
from pager.domain.yamldoc import Where
from pager.flows.delivery_check import public_url_findings, unsigned_warnings
from pager.providers.base import BuildContext, Provider
from pager.providers.lookups import NumberFacts, lookup_for, lookup_types
from pager.providers.sandbox import PhoneMessage
from tests.fakes.vonage import private_key_pem

# The keys each type requires, with values its provider can be built from (nothing is sent).
MINIMAL: dict[str, dict[str, str]] = {
    "twilio": {"account_sid": "AC" + "0" * 32, "auth_token": "token", "from": "+15017122661"},
    "vonage": {"api_key": "key", "api_secret": "secret", "from": "+447700900000"},
    "sns": {"region": "eu-west-1", "access_key_id": "AKIA", "secret_access_key": "secret"},
    "sinch": {"service_plan_id": "plan", "api_token": "token", "from": "+447700900002"},
    "messagebird": {"access_key": "key", "originator": "+31970102030"},
    "sandbox": {},
}
FAKE = "fakesms"
FAKE_TYPE = ProviderType(
    name=FAKE,
    module=__name__,
    required=frozenset({"api_key", "from"}),
    optional=frozenset({"webhook_key", "one_way", "account"}),
    flags=frozenset({"one_way"}),
    default_rate=Limit(5, timedelta(seconds=1)),
    sender_key="from",
    signing_key="webhook_key",
    posts_callbacks=True,
    channels=SMS_ONLY,
    lookups=True,
    key_needs=(("account", "webhook_key", "the account signs its webhooks"),),
)


@dataclass(frozen=True)
class FakeSmsProvider:
    """What this module's `build` makes of a `type: fakesms` entry."""

    name: str
    api_key: str
    channels: frozenset[str]


@dataclass(frozen=True)
class FakeLookup:
    name: str

    def look_up(self, number: str) -> NumberFacts:
        return NumberFacts(number, self.name, True)


def build(settings: ProviderSettings, context: BuildContext) -> FakeSmsProvider:
    """A `type: fakesms` entry's provider (the function a type's module has)."""
    return FakeSmsProvider(settings.name, settings.options["api_key"], settings.channels)


def lookup(settings: ProviderSettings) -> FakeLookup:
    """A `type: fakesms` entry's lookup (the function a type's module has when it looks up)."""
    return FakeLookup(settings.name)


@pytest.fixture
def fake_type(monkeypatch: pytest.MonkeyPatch) -> ProviderType:
    """FAKE_TYPE in the registry for one test: its only line."""
    monkeypatch.setitem(PROVIDER_TYPES, FAKE, FAKE_TYPE)
    return FAKE_TYPE


def entry(kind: str, options: Mapping[str, object], name: str | None = None) -> str:
    lines = [f"  - name: {name or kind}", f"    type: {kind}"]
    lines += [f'    {key}: "{value}"' for key, value in options.items() if key != "private_key"]
    if "private_key" in options:  # a PEM block: YAML's literal style keeps its lines
        pem = str(options["private_key"]).strip().replace("\n", "\n      ")
        lines.append(f"    private_key: |\n      {pem}")
    return "\n".join(lines)


def settings_of(tmp_path: Path, *entries: str, extra: str = "") -> tuple[ProviderSettings, ...]:
    path = tmp_path / "pager.yaml"
    path.write_text("providers:\n" + "\n".join(entries) + "\n" + extra)
    return load_settings(path, {}).providers


def problems_of(tmp_path: Path, *entries: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        settings_of(tmp_path, *entries)
    return [p.message for p in caught.value.problems]


def recorded(message: PhoneMessage) -> None:
    raise AssertionError("building a provider records nothing")


def built(settings: ProviderSettings) -> Provider:
    return pager.providers.build(settings, sandbox_token="sandbox-token", record=recorded)


def test_it_has_a_minimal_entry_here_for_every_registered_type() -> None:
    assert set(MINIMAL) == set(PROVIDER_TYPES)
    for kind, options in MINIMAL.items():
        assert set(options) == PROVIDER_TYPES[kind].required, kind


@pytest.mark.parametrize("kind", sorted(MINIMAL))
def test_it_builds_each_type_from_its_minimal_entry_with_the_channels_it_declares(
    tmp_path: Path, kind: str
) -> None:
    (settings,) = settings_of(tmp_path, entry(kind, MINIMAL[kind]))

    provider = built(settings)

    assert type(provider).__module__ == PROVIDER_TYPES[kind].module
    assert provider.name == kind
    assert provider.channels == settings.channels
    assert settings.rate == PROVIDER_TYPES[kind].default_rate


def test_it_gives_vonage_calls_only_with_an_application(tmp_path: Path) -> None:
    key = private_key_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    application = {**MINIMAL["vonage"], "application_id": "app-1", "private_key": key}
    texts, calls = settings_of(
        tmp_path, entry("vonage", MINIMAL["vonage"]), entry("vonage", application, "calls")
    )

    assert (texts.channels, built(texts).channels) == (SMS_ONLY, SMS_ONLY)
    assert calls.channels == PROVIDER_TYPES["vonage"].channels == {"sms", "voice"}
    assert built(calls).channels == calls.channels


def test_it_offers_lookups_for_exactly_the_types_that_declare_them(tmp_path: Path) -> None:
    entries = settings_of(tmp_path, *(entry(kind, options) for kind, options in MINIMAL.items()))

    offered = sorted(p.type for p in entries if lookup_for(p) is not None)

    assert offered == lookup_types() == ["twilio", "vonage"]


def test_it_reads_an_entry_of_a_type_only_the_registry_knows(
    tmp_path: Path, fake_type: ProviderType
) -> None:
    (settings,) = settings_of(
        tmp_path,
        f"  - type: {FAKE}\n    api_key: k1\n    from: PAGER\n    one_way: true",
    )

    assert (settings.name, settings.type) == (FAKE, FAKE)
    assert dict(settings.options) == {"api_key": "k1", "from": "PAGER", "one_way": "true"}
    assert settings.rate == Limit(5, timedelta(seconds=1))
    assert (settings.channels, settings.keypad, settings.sender) == (SMS_ONLY, False, "PAGER")
    assert settings.why_no_replies() == "it is configured one_way"


def test_it_refuses_a_new_types_entry_as_it_refuses_any_other(
    tmp_path: Path, fake_type: ProviderType
) -> None:
    found = problems_of(
        tmp_path, f"  - type: {FAKE}\n    account: a1\n    one_way: maybe\n    colour: red"
    )

    assert sorted(found) == sorted(
        [
            "unknown key 'colour' in provider 'fakesms' (known: account, api_key, from, name, "
            "one_way, rate, type, webhook_key)",
            "provider 'fakesms': missing 'api_key'",
            "provider 'fakesms': missing 'from'",
            "provider 'fakesms' one_way: expected true or false",
            "provider 'fakesms': account needs webhook_key (the account signs its webhooks)",
        ]
    )


def test_it_names_a_new_type_among_the_known_ones(tmp_path: Path, fake_type: ProviderType) -> None:
    (found,) = problems_of(tmp_path, "  - type: carrier-pigeon")

    assert found == (
        "provider type 'carrier-pigeon' unknown (known: fakesms, messagebird, sandbox, sinch, "
        "sns, twilio, vonage)"
    )


def test_it_builds_and_looks_up_a_new_type_through_its_module(
    tmp_path: Path, fake_type: ProviderType
) -> None:
    (settings,) = settings_of(
        tmp_path, f"  - name: fake-1\n    type: {FAKE}\n    api_key: k1\n    from: '+447700900003'"
    )

    assert pager.providers.module_of(settings) is sys.modules[__name__]
    assert built(settings) == FakeSmsProvider("fake-1", "k1", SMS_ONLY)
    assert lookup_for(settings) == FakeLookup("fake-1")
    assert FAKE in lookup_types()


def test_it_checks_a_new_types_webhooks_in_pager_check(
    tmp_path: Path, fake_type: ProviderType
) -> None:
    path = tmp_path / "pager.yaml"
    path.write_text(
        f"public_url: http://127.0.0.1:8080\nproviders:\n  - type: {FAKE}\n    api_key: k1\n"
        "    from: '+447700900003'\n"
    )
    settings = load_settings(path, {})
    top = Where(str(path), 1)

    (unsigned,) = unsigned_warnings(settings, lambda key: top)
    (unreachable,), _ = public_url_findings(settings, top)

    assert unsigned.message == (
        "provider 'fakesms' has no webhook_key: its webhooks can't be verified, so pager refuses "
        "its delivery reports and SMS replies (they fail closed); set webhook_key"
    )
    assert unreachable.message.startswith("public_url 'http://127.0.0.1:8080' is ")
    assert "fakesms can't reach it" in unreachable.message
