"""The configuration reference: every key pager.yaml takes, rendered as docs/configuration.md.

    python -m pager.config.reference > docs/configuration.md   # the reference, in Markdown
    python -m pager.config.reference --example                 # one pager.yaml using every key

The descriptions live in `reference_settings`, `reference_providers` and `reference_alerts`;
the tests hold them to the readers' own sets of allowed keys and to the settings' defaults, so
they cannot drift.
"""

from __future__ import annotations

import re
import sys
import textwrap
from typing import Any

import yaml

from pager.config.reference_alerts import CANARIES, HEARTBEATS, INTEGRATIONS, MAPPING, WEBHOOKS
from pager.config.reference_model import Key, Section
from pager.config.reference_providers import PROVIDER_SECTIONS
from pager.config.reference_settings import (
    API_TOKENS,
    GIT,
    LIMITS,
    ROUTING,
    SIGN_IN,
    SMS_CONSOLE,
    TOP,
    VERIFY,
    VERIFY_SERVICES,
)

SECTIONS: tuple[Section, ...] = (
    TOP,
    API_TOKENS,
    *PROVIDER_SECTIONS,
    INTEGRATIONS,
    MAPPING,
    LIMITS,
    ROUTING,
    HEARTBEATS,
    GIT,
    VERIFY,
    VERIFY_SERVICES,
    SIGN_IN,
    WEBHOOKS,
    CANARIES,
    SMS_CONSOLE,
)
_DOC = re.compile(r"\bdocs/([a-z]+\.md)")
REGENERATE = "python -m pager.config.reference > docs/configuration.md"
HEADER = f"""\
<!-- Generated from pager/config/reference*.py: edit those, then run
     `{REGENERATE}` -->
# Configuration reference: `pager.yaml`

Every key pager.yaml takes, section by section. `pager serve --config pager.yaml` (or
`PAGER_CONFIG=pager.yaml`) reads it; `pager check --config pager.yaml` reads it the same way and
also checks delivery ([docs/providers.md](providers.md)). How values are written:

- `${{VAR}}` is the value of the environment variable `VAR`, `${{VAR:-default}}` with a default;
  when `VAR` is unset, `${{VAR}}` reads the file `VAR_FILE` names (Docker and Kubernetes
  secrets). Secrets belong there, never in the file.
- Durations: `30s`, `5m`, `2h`, `1d`, `1w`, or combined: `1h30m`.
- Phone numbers in E.164 form and in quotes (`"+15017122661"`): unquoted, YAML reads a number.
- A key pager does not know, a missing required key or a bad value is an error with its file
  and line (`pager.yaml:14: unknown key 'tokn' in integration 'payments-am' (known: ...)`).
"""


def render() -> str:
    """The reference in Markdown: docs/configuration.md."""
    parts = [HEADER]
    for section in SECTIONS:
        parts.append(_section(section))
    return "\n".join(parts)


def _section(section: Section) -> str:
    intro = textwrap.fill(_linked(section.intro), width=96, break_on_hyphens=False)
    lines = [f"## {section.title}", "", intro, ""]
    if section.example:
        lines += ["```yaml", section.example.rstrip("\n"), "```", ""]
    lines += [
        "| key | holds | default | required | what it does |",
        "| --- | --- | --- | --- | --- |",
        *(_row(key) for key in section.keys),
        "",
    ]
    return "\n".join(lines)


def _row(key: Key) -> str:
    cells = (f"`{key.name}`", key.what_it_holds, key.default_shown, key.needed, _linked(key.doc))
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _linked(text: str) -> str:
    """`docs/sending.md` as a link, from docs/configuration.md next to it."""
    return _DOC.sub(lambda found: f"[{found[0]}]({found[1]})", text)


def example_document() -> str:
    """One pager.yaml made of every section's example: mappings merged, lists joined."""
    document: dict[str, Any] = {}
    for section in SECTIONS:
        if section.example:
            _merge(document, yaml.safe_load(section.example))
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def _merge(into: dict[str, Any], fragment: dict[str, Any]) -> None:
    for key, value in fragment.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        elif isinstance(value, list) and isinstance(into.get(key), list):
            into[key] = into[key] + value
        else:  # the git form of `rotations` replaces the folder
            into[key] = value


def entries(document: Any, section: Section) -> list[dict[str, Any]]:
    """The mappings of `document` (a parsed pager.yaml) whose keys `section` describes."""
    found = [document]
    for step in section.path:
        nodes = []
        for node in found:
            if step == "*" and isinstance(node, dict):
                nodes += list(node.values())
            elif step == "*" and isinstance(node, list):
                nodes += node
            elif isinstance(node, dict) and step in node:
                nodes.append(node[step])
        found = nodes
    mappings = [node for node in found if isinstance(node, dict)]
    if section.match is None:
        return mappings
    key, value = section.match
    return [node for node in mappings if node.get(key) == value]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args not in ([], ["--example"]):
        print("usage: python -m pager.config.reference [--example]", file=sys.stderr)
        return 2
    text = example_document() if args else render()
    sys.stdout.buffer.write(text.encode("utf-8"))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
