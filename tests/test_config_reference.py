"""docs/configuration.md: generated from pager/config/reference*.py, and held to the readers.

A key a reader takes without a description fails here, as does a description of a key no
reader takes, a default the settings don't have, an example pager.yaml that doesn't load, and a
docs/configuration.md that is not what `render()` makes.
"""

from __future__ import annotations

import base64
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

import pytest
import yaml

from pager.config import ConfigError, Settings, canaries, load_settings, sign_in, webhooks
from pager.config.delivery import HEARTBEAT_KEYS, LIMIT_KEYS
from pager.config.integrations import MAPPING_KEYS
from pager.config.model import (
    ENV_REFERENCE,
    INTEGRATION_KEYS,
    PROVIDER_COMMON_KEYS,
    TOP_KEYS,
)
from pager.config.provider_types import PROVIDER_TYPES
from pager.config.reader import API_TOKEN_KEYS
from pager.config.reference import REGENERATE, SECTIONS, entries, example_document, render
from pager.config.reference_model import Key, Kind, Section
from pager.config.rotations import GIT_KEYS
from pager.config.sms_console import SMS_CONSOLE_KEYS
from pager.config.verify import SERVICE_KEYS, VERIFY_KEYS
from pager.domain.durations import parse_duration

ROOT = Path(__file__).resolve().parent.parent
# Each section of the reference, and the set of keys its reader allows.
ALLOWED: dict[str, set[str]] = {
    "top": TOP_KEYS,
    "api_tokens": API_TOKEN_KEYS,
    "providers": PROVIDER_COMMON_KEYS,
    **{f"provider {kind.name}": set(kind.keys) for kind in PROVIDER_TYPES.values()},
    "integrations": INTEGRATION_KEYS,
    "mapping": MAPPING_KEYS,
    "limits": LIMIT_KEYS,
    "heartbeats": HEARTBEAT_KEYS,
    "rotations git": GIT_KEYS,
    "verify": VERIFY_KEYS,
    "verify services": SERVICE_KEYS,
    "sign_in": sign_in.KEYS,
    "webhooks": webhooks.KEYS,
    "canaries": canaries.KEYS,
    "sms_console": SMS_CONSOLE_KEYS,
}
# Where the settings keep what each section's entries become, in the order of the entries.
READ_AS: dict[str, Callable[[Settings], list[Any]]] = {
    "top": lambda s: [s],
    "mapping": lambda s: [i.mapping for i in s.integrations.values() if i.mapping is not None],
    "rotations git": lambda s: [s.rotations_git],
    "verify services": lambda s: list(s.verify_services.values()),
    "sign_in": lambda s: [s.sign_in],
    "webhooks": lambda s: list(s.webhooks),
    "canaries": lambda s: list(s.canaries),
    "sms_console": lambda s: [s.sms_console],
}
BY_ID = {section.id: section for section in SECTIONS}
# A Standard Webhooks secret (the strictest secret pager reads) for every ${VAR} of the example.
SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()


def keys(where: Callable[[Section, Key], bool]) -> list[Any]:
    return [
        pytest.param(section, key, id=f"{section.id}:{key.name}")
        for section in SECTIONS
        for key in section.keys
        if where(section, key)
    ]


def environment(text: str) -> dict[str, str]:
    """A value for every ${VAR} in `text`: a URL for a *_URL, else a secret."""
    names = {match[1] for match in ENV_REFERENCE.finditer(text)}
    return {n: "https://hooks.example.com/T0/B0" if n.endswith("_URL") else SECRET for n in names}


def example() -> dict[str, Any]:
    return yaml.safe_load(example_document())


def load(tmp_path: Path, document: dict[str, Any]) -> Settings:
    text = yaml.safe_dump(document, sort_keys=False)
    path = tmp_path / "pager.yaml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path, environment(text))


def first_with(document: dict[str, Any], section: Section, key: str) -> tuple[int, dict[str, Any]]:
    found = entries(document, section)
    return next((i, entry) for i, entry in enumerate(found) if key in entry)


def value(key: Key) -> object:
    """`key.default` as the settings hold it."""
    assert key.default is not None
    if key.kind is Kind.DURATION:
        return parse_duration(key.default)
    read = yaml.safe_load(key.default)
    return tuple(read) if key.kind is Kind.LIST else read


def dataclass_default(cls: type, name: str) -> object:
    field = {f.name: f for f in fields(cls)}[name]
    if field.default_factory is not MISSING:
        return field.default_factory()
    assert field.default is not MISSING, f"{cls.__name__}.{name} has no default"
    return field.default


def has_own_section(section: Section, key: Key) -> bool:
    """Whether `key` (providers, mapping...) is described as a section of its own."""
    path = (*section.path, key.name)
    return any(other.path[: len(path)] == path for other in SECTIONS if other is not section)


def test_it_describes_exactly_the_keys_each_reader_allows() -> None:
    assert {s.id for s in SECTIONS if not s.forms} == set(ALLOWED)
    for section_id, allowed in ALLOWED.items():
        described = [key.name for key in BY_ID[section_id].keys]
        assert len(described) == len(set(described)), f"{section_id}: a key described twice"
        assert not allowed - set(described), f"{section_id}: not described"
        assert not set(described) - allowed, f"{section_id}: described, but the reader refuses"


def test_it_marks_required_what_each_provider_type_requires() -> None:
    for kind in PROVIDER_TYPES.values():
        section = BY_ID[f"provider {kind.name}"]
        assert {key.name for key in section.keys if key.required} == kind.required, kind.name


def test_it_keeps_docs_configuration_md_as_render_makes_it() -> None:
    written = (ROOT / "docs" / "configuration.md").read_bytes()
    assert written == render().encode("utf-8"), f"docs/configuration.md is stale: run {REGENERATE}"


def test_it_links_only_to_docs_that_exist() -> None:
    links = re.findall(r"\]\(([^)]+)\)", render())
    assert links
    assert [link for link in links if not (ROOT / "docs" / link).is_file()] == []


def test_it_prints_the_reference_and_the_example_from_the_command_line() -> None:
    for args, expected in (([], render()), (["--example"], example_document())):
        done = subprocess.run(
            [sys.executable, "-m", "pager.config.reference", *args],
            capture_output=True,
            check=True,
            cwd=ROOT,
        )
        assert done.stdout == expected.encode("utf-8")


@pytest.mark.parametrize(("section", "key"), keys(lambda s, k: k.default_of is not None))
def test_it_states_the_defaults_of_the_settings(section: Section, key: Key) -> None:
    assert key.default_of is not None
    assert value(key) == dataclass_default(*key.default_of)


@pytest.mark.parametrize(("section", "key"), keys(lambda s, k: k.default_of is not None))
def test_it_reads_the_stated_default_for_a_key_left_out(
    section: Section, key: Key, tmp_path: Path
) -> None:
    document = example()
    index, entry = first_with(document, section, key.name)
    del entry[key.name]
    read = READ_AS[section.id](load(tmp_path, document))[index]
    assert key.default_of is not None
    assert getattr(read, key.default_of[1]) == value(key)


@pytest.mark.parametrize(("section", "key"), keys(lambda s, k: k.default is not None))
def test_it_accepts_each_stated_default_written_out(
    section: Section, key: Key, tmp_path: Path
) -> None:
    document = example()
    assert key.default is not None
    _, entry = first_with(document, section, key.name)
    entry[key.name] = yaml.safe_load(key.default)
    load(tmp_path, document)


def test_it_loads_the_example_made_of_every_sections_example(tmp_path: Path) -> None:
    settings = load(tmp_path, example())
    assert {provider.type for provider in settings.providers} == set(PROVIDER_TYPES)
    assert settings.rotations_git is not None
    assert settings.verify_services and settings.webhooks and settings.heartbeats


def test_it_uses_every_described_key_in_the_example() -> None:
    document = example()
    for section in SECTIONS:
        found = entries(document, section)
        used = set().union(*(entry.keys() for entry in found))
        if section.forms:
            assert len(used) == len(section.keys), f"{section.id}: one example per form"
            continue
        missing = {key.name for key in section.keys} - used
        assert not missing, f"{section.id}: no example of {sorted(missing)}"


def test_it_takes_every_secret_of_the_example_from_the_environment() -> None:
    document = example()
    for section in SECTIONS:
        secrets = {key.name for key in section.keys if key.kind is Kind.SECRET}
        for entry in entries(document, section):
            for name in secrets & set(entry):
                assert ENV_REFERENCE.search(str(entry[name])), f"{section.id} {name}"


@pytest.mark.parametrize(("section", "key"), keys(lambda s, k: k.required and not s.forms))
def test_it_refuses_the_example_without_a_required_key(
    section: Section, key: Key, tmp_path: Path
) -> None:
    document = example()
    for entry in entries(document, section):
        entry.pop(key.name, None)
    with pytest.raises(ConfigError) as refused:
        load(tmp_path, document)
    assert any(key.name in problem.message for problem in refused.value.problems)


@pytest.mark.parametrize(
    ("section", "key"),
    keys(lambda s, k: not (k.required or k.required_when or s.forms or has_own_section(s, k))),
)
def test_it_loads_the_example_without_an_optional_key(
    section: Section, key: Key, tmp_path: Path
) -> None:
    """Left out of one of the entries that have it (a provider's `name` is its type then, so
    not every entry can do without), the example still loads."""
    problems = []
    for index in range(len(entries(example(), section))):
        document = example()
        entry = entries(document, section)[index]
        if key.name not in entry:
            continue
        del entry[key.name]
        try:
            load(tmp_path, document)
            return
        except ConfigError as refused:
            problems.append(str(refused))
    pytest.fail(f"{section.id} {key.name}: no entry loads without it: {problems}")
