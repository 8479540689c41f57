"""The `sign_in:` section: the lifetime of a dashboard sign-in code, and how long a session
lasts idle and in all."""

from __future__ import annotations

from datetime import timedelta

from pager.config.delivery import DeliveryReader
from pager.config.model import SignInSettings
from pager.domain.durations import format_duration
from pager.domain.yamldoc import Map

KEYS = {"code_ttl", "idle_timeout", "lifetime"}
# (shortest, longest) of each: a code lives 5-10 minutes (issue 13); a session at least as long
# as it takes to act on one incident, and never longer than a month between sign-ins.
RANGES = {
    "code_ttl": (timedelta(minutes=5), timedelta(minutes=10)),
    "idle_timeout": (timedelta(minutes=5), timedelta(days=30)),
    "lifetime": (timedelta(hours=1), timedelta(days=30)),
}


class SignInReader(DeliveryReader):
    def sign_in(self, doc: Map) -> SignInSettings:
        """`sign_in: {code_ttl: 10m, idle_timeout: 12h, lifetime: 7d}`, each optional."""
        base = SignInSettings()
        section = self.section(doc, "sign_in", "sign_in: expected a mapping")
        if section is None:
            return base
        self.keys(section, KEYS, "sign_in")
        read = {key: self._within(section, key, getattr(base, key)) for key in sorted(KEYS)}
        settings = SignInSettings(**read)
        if settings.idle_timeout > settings.lifetime:
            self.problem(
                section.at("idle_timeout" if "idle_timeout" in section else "lifetime"),
                "sign_in: idle_timeout is longer than lifetime (a session ends at the first)",
            )
        return settings

    def _within(self, section: Map, key: str, default: timedelta) -> timedelta:
        value = self.duration(section, key, "sign_in")
        if value is None:
            return default
        shortest, longest = RANGES[key]
        if not shortest <= value <= longest:
            span = f"{format_duration(shortest)} and {format_duration(longest)}"
            self.problem(section.at(key), f"sign_in {key}: between {span}")
            return default
        return value
