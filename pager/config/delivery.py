"""The `limits:`, `routing:` and `heartbeats:` sections: how pages go out, and what must beat."""

from __future__ import annotations

import re
from datetime import timedelta

from pager.config.base import BaseReader
from pager.config.model import HeartbeatSettings, ProviderSettings
from pager.domain.durations import parse_duration
from pager.domain.limits import DEFAULT_LIMITS, Limit
from pager.domain.routing import carrier_key
from pager.domain.yamldoc import Map, Seq, Where

LIMIT_KEYS = {"sms", "voice"}
PROVIDER_TIMEOUT_LONGEST = 60.0  # seconds: a page waits for no API call longer
HEARTBEAT_KEYS = {"service", "interval", "token"}
_LIMIT = re.compile(r"\s*(\d+)\s*/\s*(\S+)\s*")
_PREFIX = re.compile(r"\+\d{1,6}")


class DeliveryReader(BaseReader):
    def provider_option(
        self, name: str, key: str, value: object, where: Where, flags: frozenset[str]
    ) -> str:
        """One option of provider `name` as text; one of its type's `flags` (one_way) is
        "true" or ""."""
        if key == "timeout":
            return self.provider_timeout(name, value, where)
        if key not in flags:
            return self.text(value, where, f"provider '{name}' {key}")
        if not isinstance(value, bool):
            self.problem(where, f"provider '{name}' {key}: expected true or false")
            return ""
        return "true" if value else ""

    def provider_timeout(self, name: str, value: object, where: Where) -> str:
        """A provider's `timeout`: seconds for each API call, as the SDKs take them (`10`,
        `2.5`), not a duration (`10s`)."""
        text = self.text(value, where, f"provider '{name}' timeout")
        try:
            seconds = float(text)
        except ValueError:
            seconds = -1.0
        if not 0 < seconds <= PROVIDER_TIMEOUT_LONGEST:
            self.problem(
                where,
                f"provider '{name}' timeout: seconds from 0 to {PROVIDER_TIMEOUT_LONGEST:g}, "
                f"like 10 or 2.5, got {text!r}",
            )
        return text

    def limits(self, doc: Map) -> dict[str, tuple[Limit, ...]]:
        """`limits: {sms: [5/15m, 11/1h], voice: [3/15m]}`; a channel left out keeps its default,
        `[]` turns its limits off."""
        result = dict(DEFAULT_LIMITS)
        section = self.section(doc, "limits", "limits: expected a mapping of channel to limits")
        if section is None:
            return result
        self.keys(section, LIMIT_KEYS, "limits")
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
        """`routing: {"carrier:Verizon Wireless": [twilio-vz], "+1": [twilio, vonage],
        default: [vonage]}`: provider order by carrier, else by prefix."""
        section = self.section(doc, "routing", "routing: expected a mapping of prefix to providers")
        if section is None:
            return {}
        names = [p.name for p in providers]
        result = {}
        carriers: dict[tuple[str, str], str] = {}  # (prefix, carrier casefolded) -> key
        for key, value in section.items():
            where = section.at(key)
            self.route_key(key, where, carriers)
            if not isinstance(value, Seq) or not value:
                self.problem(where, f"routing {key}: expected a list of provider names")
                continue
            order = [self.text(v, value.at(i), f"routing {key}") for i, v in enumerate(value)]
            for i, name in enumerate(order):
                if name not in names:
                    known = ", ".join(names)
                    self.problem(
                        value.at(i), f"routing {key}: no provider '{name}' (known: {known})"
                    )
            result[key] = tuple(order)
        return result

    def route_key(self, key: str, where: Where, carriers: dict[tuple[str, str], str]) -> None:
        """A routing key: `default`, a prefix, `carrier:NAME` or `+PREFIX carrier:NAME`; two
        keys for the same carrier (case aside) and prefix are one too many."""
        parts = carrier_key(key)
        if parts is None:
            if key != "default" and not _PREFIX.fullmatch(key):
                self.problem(
                    where,
                    f"routing: '{key}' is not a prefix like \"+44\", a carrier like "
                    '"carrier:Verizon Wireless" (or "+1 carrier:Verizon Wireless"), or default',
                )
            return
        prefix, carrier = parts
        if not carrier or (prefix and not _PREFIX.fullmatch(prefix)):
            self.problem(
                where,
                f"routing: '{key}' is not a carrier route like \"carrier:Verizon Wireless\" or "
                '"+1 carrier:Verizon Wireless" (the carrier as `pager check --online` shows it)',
            )
            return
        same = carriers.setdefault((prefix, carrier.casefold()), key)
        if same != key:
            self.problem(where, f"routing: '{key}' routes the same numbers as '{same}'")

    def heartbeats(self, doc: Map) -> dict[str, HeartbeatSettings]:
        """`heartbeats: {watchdog: {service: payments, interval: 5m, token: ${TOKEN}}}`."""
        section = self.section(doc, "heartbeats", "heartbeats: expected a mapping by name")
        if section is None:
            return {}
        result = {}
        for name, entry in section.items():
            what = f"heartbeat '{name}'"
            if not isinstance(entry, Map):
                self.problem(section.at(name), f"{what}: expected service, interval and token")
                continue
            self.keys(entry, HEARTBEAT_KEYS, what)
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

    def choices(
        self, entry: Map, key: str, what: str, known: tuple[str, ...], example: str
    ) -> tuple[str, ...]:
        """`key`'s list of words from `known` (`channels: [sms]`, `events: [...]`), each once,
        in the order given; all of `known` when the key is absent, or names none of them."""
        if key not in entry:
            return known
        value = entry[key]
        if not isinstance(value, Seq) or not value:
            self.problem(entry.at(key), f"{what} {key}: a list, e.g. {example}")
            return known
        chosen: list[str] = []
        for i, word in enumerate(value):
            if word not in known:
                self.problem(
                    value.at(i), f"{what} {key}: '{word}' unknown (known: {', '.join(known)})"
                )
            elif word not in chosen:
                chosen.append(word)
        return tuple(chosen) or known

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


def delivery_places(doc: Map) -> dict[str, Where]:
    """Where a pager.yaml sets what `pager check` reports on: `public_url` (else `bind`, else the
    top), `provider:<name>` and `provider:<name>:<key>`, `routing:<key>`."""
    places = {"public_url": doc.where}
    for key in ("bind", "public_url"):
        if key in doc:
            places["public_url"] = doc.at(key)
    providers = doc.get("providers")
    if isinstance(providers, Seq):
        for index, entry in enumerate(providers):
            if not isinstance(entry, Map):
                continue
            name = str(entry.get("name", entry.get("type", "")))
            places[f"provider:{name}"] = providers.at(index)
            places.update({f"provider:{name}:{key}": entry.at(key) for key in entry})
    routing = doc.get("routing")
    if isinstance(routing, Map):
        places.update({f"routing:{prefix}": routing.at(prefix) for prefix in routing})
    return places
