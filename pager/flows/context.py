"""What every flow works with: the store, the providers, the rotations in force, the settings."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote

from pager.config import Settings
from pager.domain.rotations import Schedule
from pager.domain.routing import route
from pager.domain.yamldoc import Problem
from pager.flows.rotations_git import Unreachable
from pager.providers.base import Provider
from pager.store.db import Database


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Rotations:
    """The rotation set in force: the last one that validated (DESIGN invariant 6)."""

    schedule: Schedule | None = None
    problems: list[Problem] = field(default_factory=list)  # of the files on disk, if broken
    origin: str = "none"  # files | database (last good, files broken) | none
    digest: str = ""  # of the set in force
    files_digest: str = ""  # of the files last read, valid or not: unchanged files are not re-read
    loaded_at: datetime | None = None  # when the set in force was loaded

    @property
    def unreachable_only(self) -> bool:
        """Only the git repository could not be fetched: nothing in force is wrong, it may be
        out of date."""
        return bool(self.problems) and all(isinstance(p, Unreachable) for p in self.problems)

    @property
    def status(self) -> str:
        """ok, invalid (the files have problems), unreachable (the git repository), missing."""
        if self.unreachable_only:
            return "unreachable"
        if self.problems:
            return "invalid"
        return "ok" if self.schedule else "missing"


@dataclass
class Pager:
    db: Database
    settings: Settings
    providers: Sequence[Provider]
    rotations: Rotations = field(default_factory=Rotations)
    wake: Callable[[], None] = lambda: None
    calendar_token: str = ""  # in /calendar URLs: calendar apps can't send headers
    session_key: str = ""  # signs the dashboard's session cookie (the same in every process)
    configured_tokens: frozenset[str] = frozenset()  # from the settings: never printed

    def provider(self, name: str) -> Provider | None:
        return next((p for p in self.providers if p.name == name), None)

    def providers_for(
        self, channel: str, phone: str = "", carrier: str | None = None
    ) -> list[Provider]:
        """Providers that can carry `channel` to `phone`, in failover order: the `routing` entry
        for the number's `carrier` when one names it, else the one with the longest prefix of
        the number (else `default`), else the configured order. A route whose providers can't
        carry the channel falls back to all that can: a page is never left without a way out."""
        able = {p.name: p for p in self.providers if channel in p.channels}
        routed = route(self.settings.routing, list(able), phone, carrier)
        return [able[name] for name in routed]

    def callback_url(self, provider: str, kind: str, token: str | None = None) -> str:
        url = f"{self.settings.public_url}/providers/{quote(provider)}/{kind}"
        return f"{url}?a={token}" if token else url
