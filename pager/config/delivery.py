"""The `limits:`, `routing:` and `heartbeats:` sections: how pages go out, and what must beat."""

from __future__ import annotations

import re
from datetime import timedelta

from pager.config.base import BaseReader
from pager.config.model import HeartbeatSettings, ProviderSettings
from pager.domain.durations import parse_duration
from pager.domain.limits import DEFAULT_LIMITS, Limit
from pager.domain.yamldoc import Map, Seq

_LIMIT = re.compile(r"\s*(\d+)\s*/\s*(\S+)\s*")
_PREFIX = re.compile(r"\+\d{1,6}")


class DeliveryReader(BaseReader):
    def limits(self, doc: Map) -> dict[str, tuple[Limit, ...]]:
        """`limits: {sms: [5/15m, 11/1h], voice: [3/15m]}`; a channel left out keeps its default,
        `[]` turns its limits off."""
        result = dict(DEFAULT_LIMITS)
        if "limits" not in doc:
            return result
        section = doc["limits"]
        if not isinstance(section, Map):
            self.problem(doc.at("limits"), "limits: expected a mapping of channel to limits")
            return result
        self.keys(section, {"sms", "voice"}, "limits")
        for channel, value in section.items():
            if not isinstance(value, Seq):
                self.problem(section.at(channel), f"limits {channel}: expected a list like [5/15m]")
                continue
            found = [self.limit(v, value, i, channel) for i, v in enumerate(value)]
            result[channel] = tuple(limit for limit in found if limit is not None)
        return result

    def limit(self, value: object, items: Seq, index: int, channel: str) -> Limit | None:
        match = _LIMIT.fullmatch(str(value))
        try:
            if match is None or int(match[1]) < 1:
                raise ValueError
            return Limit(int(match[1]), parse_duration(match[2]))
        except ValueError:
            self.problem(
                items.at(index),
                f"limits {channel}: '{value}' is not a limit like 5/15m (count/duration)",
            )
            return None

    def routing(
        self, doc: Map, providers: tuple[ProviderSettings, ...]
    ) -> dict[str, tuple[str, ...]]:
        """`routing: {"+1": [twilio, vonage], default: [vonage]}`: provider order by prefix."""
        if "routing" not in doc:
            return {}
        section = doc["routing"]
        if not isinstance(section, Map):
            self.problem(doc.at("routing"), "routing: expected a mapping of prefix to providers")
            return {}
        names = [p.name for p in providers]
        result = {}
        for prefix, value in section.items():
            where = section.at(prefix)
            if prefix != "default" and not _PREFIX.fullmatch(prefix):
                self.problem(where, f"routing: '{prefix}' is not a prefix like \"+44\" or default")
            if not isinstance(value, Seq) or not value:
                self.problem(where, f"routing {prefix}: expected a list of provider names")
                continue
            order = [self.text(v, value.at(i), f"routing {prefix}") for i, v in enumerate(value)]
            for i, name in enumerate(order):
                if name not in names:
                    known = ", ".join(names)
                    self.problem(
                        value.at(i), f"routing {prefix}: no provider '{name}' (known: {known})"
                    )
            result[prefix] = tuple(order)
        return result

    def heartbeats(self, doc: Map) -> dict[str, HeartbeatSettings]:
        """`heartbeats: {watchdog: {service: payments, interval: 5m, token: ${TOKEN}}}`."""
        if "heartbeats" not in doc:
            return {}
        section = doc["heartbeats"]
        if not isinstance(section, Map):
            self.problem(doc.at("heartbeats"), "heartbeats: expected a mapping by name")
            return {}
        result = {}
        for name, entry in section.items():
            what = f"heartbeat '{name}'"
            if not isinstance(entry, Map):
                self.problem(section.at(name), f"{what}: expected service, interval and token")
                continue
            self.keys(entry, {"service", "interval", "token"}, what)
            for key in ("service", "interval"):
                if key not in entry:
                    self.problem(section.at(name), f"{what}: missing '{key}'")
            interval = self.duration(entry, "interval", what) or timedelta(minutes=5)
            token = (
                self.text(entry["token"], entry.at("token"), f"{what} token")
                if "token" in entry
                else ""
            )
            service = self.text(entry.get("service", ""), entry.at("service"), f"{what} service")
            result[name] = HeartbeatSettings(name, service, interval, token or None)
        return result

    def duration(self, entry: Map, key: str, what: str) -> timedelta | None:
        if key not in entry:
            return None
        try:
            value = parse_duration(entry[key])
        except ValueError as exc:
            self.problem(entry.at(key), f"{what} {key}: {exc}")
            return None
        if value <= timedelta(0):
            self.problem(entry.at(key), f"{what} {key}: must be longer than 0s")
            return None
        return value
