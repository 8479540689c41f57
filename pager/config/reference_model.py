"""What the configuration reference is made of: the keys of pager.yaml, by section.

The descriptions are in `reference_settings`, `reference_providers` and `reference_alerts`;
`reference` renders them and builds an example pager.yaml from the sections' examples.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """What a key holds, as the reader takes it."""

    TEXT = "text"
    SECRET = "secret"  # noqa: S105 (the name of a kind, not a password)
    URL = "URL"
    FOLDER = "folder"
    DURATION = "duration"
    SECONDS = "seconds"
    NUMBER = "whole number"
    FLAG = "flag"
    RATE = "rate"
    LIST = "list"
    MAPPING = "mapping"


# How each kind reads in the reference's "holds" column.
HOLDS = {
    Kind.TEXT: "text",
    Kind.SECRET: "secret, from `${ENV}`",
    Kind.URL: "URL",
    Kind.FOLDER: "folder",
    Kind.DURATION: "duration (`30s`, `5m`, `1h30m`)",
    Kind.SECONDS: "seconds (`10`, `2.5`)",
    Kind.NUMBER: "whole number",
    Kind.FLAG: "`true` or `false`",
    Kind.RATE: "rate (`1/s`, `30/m`, `unlimited`)",
    Kind.LIST: "list",
    Kind.MAPPING: "mapping",
}


@dataclass(frozen=True)
class Key:
    """One key of a section: what it holds, its default, whether it is needed, what it does."""

    name: str
    kind: Kind
    doc: str  # one or two sentences a user can act on
    holds: str = ""  # more precise than the kind alone: "list of label names"
    required: bool = False
    required_when: str = ""  # needed in some cases only: "with format: standard"
    # The default as written in pager.yaml (`10m`, `[sms, call]`), when there is one.
    default: str | None = None
    default_text: str = ""  # the default in words, shown instead of `default`
    # The dataclass field whose default `default` states: (class, field name).
    default_of: tuple[type, str] | None = None

    @property
    def what_it_holds(self) -> str:
        return self.holds or HOLDS[self.kind]

    @property
    def needed(self) -> str:
        return "yes" if self.required else self.required_when or "no"

    @property
    def default_shown(self) -> str:
        if self.default_text:
            return self.default_text
        return f"`{self.default}`" if self.default is not None else ""


@dataclass(frozen=True)
class Section:
    """A part of pager.yaml whose keys the reader checks against one set of allowed keys."""

    id: str  # how the tests name it: "sign_in", "provider twilio"
    title: str
    # Where its keys are, from the top of pager.yaml: "*" is each entry of a list or mapping.
    path: tuple[str, ...]
    intro: str
    # A pager.yaml fragment ("": another section's shows these keys). All the fragments
    # together are one pager.yaml that uses every key (`reference.example_document`).
    example: str
    keys: tuple[Key, ...]
    match: tuple[str, str] | None = None  # only the entries with this key and value
    forms: bool = False  # the keys are forms ("+PREFIX"), not names
