"""The `canaries:` section: routes proven end to end on a schedule, an SMS that leaves through
one provider and comes back through another's inbound webhook."""

from __future__ import annotations

from datetime import timedelta

from pager.config.delivery import DeliveryReader
from pager.config.model import CanarySettings, ProviderSettings
from pager.domain.phones import normalise
from pager.domain.yamldoc import Map, Seq

KEYS = {"route", "to", "every", "timeout", "service"}
SHORTEST_EVERY = timedelta(minutes=5)
TIMEOUT_RANGE = (timedelta(seconds=30), timedelta(hours=1))


class CanaryReader(DeliveryReader):
    def canaries(
        self, doc: Map, providers: tuple[ProviderSettings, ...]
    ) -> tuple[CanarySettings, ...]:
        """`canaries: [{route: twilio, to: "+447700900999", every: 6h, timeout: 5m,
        service: pager}]`."""
        if "canaries" not in doc:
            return ()
        value = doc["canaries"]
        if not isinstance(value, Seq):
            self.problem(doc.at("canaries"), "canaries: expected a list of entries")
            return ()
        found: dict[str, CanarySettings] = {}
        for i, entry in enumerate(value):
            if not isinstance(entry, Map):
                self.problem(value.at(i), "canaries: each entry has route, to and service")
                continue
            canary = self.canary(entry, providers)
            if canary is None:
                continue
            if canary.key in found:
                self.problem(value.at(i), f"canary {canary.route} -> {canary.to} is listed twice")
                continue
            found[canary.key] = canary
        return tuple(found.values())

    def canary(self, entry: Map, providers: tuple[ProviderSettings, ...]) -> CanarySettings | None:
        self.keys(entry, KEYS, "canary")
        for key in ("route", "to", "service"):
            if key not in entry:
                self.problem(entry.where, f"canary: missing '{key}'")
        route = self.text(entry.get("route", ""), entry.at("route"), "canary route")
        what = f"canary '{route}'"
        named = {p.name: p for p in providers}
        if route and route not in named:
            known = ", ".join(sorted(named))
            self.problem(entry.at("route"), f"{what}: no provider named '{route}' (known: {known})")
        elif route and named[route].type == "sandbox":
            self.problem(entry.at("route"), f"{what}: the sandbox reaches no real phone")
        raw = self.text(entry.get("to", ""), entry.at("to"), f"{what} to")
        to = normalise(raw)
        if raw and to is None:
            self.problem(entry.at("to"), f"{what} to: '{raw}' is not a phone number (E.164)")
        if to and not _receives_on(providers, to):
            self.problem(
                entry.at("to"),
                f"{what} to: {to} is no provider entry's own number (`from`), so pager would "
                "never hear the canary come back: add the entry that receives on it",
            )
        service = self.text(entry.get("service", ""), entry.at("service"), f"{what} service")
        every = self.duration(entry, "every", what) or timedelta(hours=6)
        if every < SHORTEST_EVERY:
            self.problem(entry.at("every"), f"{what} every: at least 5m (each run is an SMS)")
        timeout = self.duration(entry, "timeout", what) or timedelta(minutes=5)
        if not TIMEOUT_RANGE[0] <= timeout <= TIMEOUT_RANGE[1]:
            self.problem(entry.at("timeout"), f"{what} timeout: between 30s and 1h")
        if timeout >= every:
            self.problem(entry.at("timeout"), f"{what} timeout: shorter than every")
        if not (route and to and service):
            return None
        return CanarySettings(route, to, service, every, timeout)


def _receives_on(providers: tuple[ProviderSettings, ...], number: str) -> bool:
    """Whether an inbound SMS to `number` reaches pager: it is the sender of an entry that takes
    replies, or a Twilio Messaging Service's (whose numbers pager cannot list) may be."""
    for provider in providers:
        if provider.why_no_replies() is not None:
            continue
        sender = provider.sender or ""
        shared = provider.kind.replying_senders  # a Twilio Messaging Service's numbers
        if (shared and shared.fullmatch(sender)) or normalise(sender) == number:
            return True
    return False
