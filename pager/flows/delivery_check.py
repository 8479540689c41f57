"""`pager check` on delivery: can every page leave, reach its person, and can its answers come
back? Read from pager.yaml and the rotation files only; `number_check` also asks the providers.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from pager.config import ProviderSettings, Settings
from pager.domain.notify_rules import URGENCIES, rules_for
from pager.domain.rotations import Schedule
from pager.domain.routing import carrier_key, route, route_key
from pager.domain.yamldoc import Problem, Where
from pager.providers.lookups import lookup_types

CHANNEL_WORDS = {"sms": "SMS", "voice": "calls"}
# Names that resolve only inside a network (RFC 6762, RFC 8375, RFC 6761 and common practice).
_INTERNAL_SUFFIXES = (".local", ".localhost", ".internal", ".home.arpa", ".lan")

Places = Mapping[str, Where]
_At = Callable[[str], Where]  # a place key -> where it is written


@dataclass
class Findings:
    """What a delivery check found, by how much it matters."""

    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    notices: list[Problem] = field(default_factory=list)

    def extend(self, other: Findings) -> None:
        self.errors += other.errors
        self.warnings += other.warnings
        self.notices += other.notices


def delivery_findings(settings: Settings, schedule: Schedule, places: Places) -> Findings:
    """Every delivery problem pager.yaml and the rotation files show together."""
    findings = Findings()
    top = Where(settings.source, 1)
    at = lambda key: places.get(key, top)  # noqa: E731
    findings.errors += sandbox_beside_real_errors(settings, at)
    channels = paged_channels(schedule)
    if "sms" in channels:
        findings.warnings += one_way_warnings(settings, schedule, at)
    findings.warnings += unsigned_warnings(settings, at)
    unreachable, note = public_url_findings(settings, at("public_url"))
    findings.warnings += unreachable
    findings.notices += note
    findings.warnings += unroutable_warnings(settings, schedule, channels, at)
    findings.warnings += carrier_route_warnings(settings, channels, at)
    return findings


def paged_channels(schedule: Schedule) -> set[str]:
    """The channels some escalation step pages by: its own, or (a step without) those of the
    people's notification rules, at either urgency."""
    steps = [step for policy in schedule.policies.values() for step in policy.steps]
    found = {channel for step in steps for channel in step.channels}
    if any(not step.channels for step in steps):
        found |= {
            rule.channel
            for person in schedule.people.values()
            for urgency in URGENCIES
            for rule in rules_for((), person.notify, urgency)
        }
    return found


def able(settings: Settings, channel: str) -> list[str]:
    """Names of the providers that carry `channel`, in configured order."""
    return [p.name for p in settings.providers if channel in p.channels]


def first_choice(settings: Settings, channel: str, phone: str) -> str | None:
    """The provider a page by `channel` to `phone` goes through first."""
    routed = route(settings.routing, able(settings, channel), phone)
    return routed[0] if routed else None


def _route_name(key: str | None) -> str:
    """How a message names the routing entry `key` (None: no entry, the configured order)."""
    if key is None:
        return "no routing"
    return "routing default" if key == "default" else f'routing "{key}"'


def one_way_warnings(settings: Settings, schedule: Schedule, at: _At) -> list[Problem]:
    """A provider SMS replies can't come back to: who loses ACK by SMS."""
    problems = []
    for provider in settings.providers:
        why = provider.why_no_replies()
        if why is None or "sms" not in provider.channels:
            continue
        groups: dict[str, list[str]] = {}
        for person in schedule.people.values():
            if first_choice(settings, "sms", person.phone) == provider.name:
                groups.setdefault(
                    _route_name(route_key(settings.routing, person.phone)), []
                ).append(person.id)
        if groups:
            who = "; ".join(f"{', '.join(ids)} ({words})" for words, ids in groups.items())
            effect = f"ACK by SMS won't work for {who}"
        else:
            effect = "replies to the pages it sends when another provider fails are lost"
        problems.append(
            Problem(
                at(_sender_place(provider)),
                f"provider '{provider.name}' can't take SMS replies ({why}): {effect}",
            )
        )
    return problems


def _sender_place(provider: ProviderSettings) -> str:
    if provider.options.get("one_way"):
        return f"provider:{provider.name}:one_way"
    for key in ("from", "originator", "origination_number", "sender_id"):
        if key in provider.options:
            return f"provider:{provider.name}:{key}"
    return f"provider:{provider.name}"


def sandbox_beside_real_errors(settings: Settings, at: _At) -> list[Problem]:
    """A sandbox listed with real providers: a failover to it "delivers" a page no phone gets,
    and its printed token would answer for real numbers. Only with an explicit opt-in."""
    real = [p.name for p in settings.providers if p.type != "sandbox"]
    if not real:
        return []
    return [
        Problem(
            at(f"provider:{p.name}"),
            f"provider '{p.name}' is a sandbox listed with real providers ({', '.join(real)}): "
            "a page that fails over to it counts as delivered though no phone gets it; remove "
            "it, or set allow_with_real_providers: true (a test of failover)",
        )
        for p in settings.providers
        if p.type == "sandbox" and not p.options.get("allow_with_real_providers")
    ]


def unsigned_warnings(settings: Settings, at: _At) -> list[Problem]:
    """A provider that signs its webhooks with a key we were not given: we refuse them all."""
    problems = []
    for provider in settings.providers:
        key = provider.kind.signing_key
        if key is None or provider.options.get(key):
            continue
        refused = "delivery reports, SMS replies and keypad acks"
        if not provider.keypad:
            refused = "delivery reports and SMS replies"
        problems.append(
            Problem(
                at(f"provider:{provider.name}"),
                f"provider '{provider.name}' has no {key}: its webhooks can't be verified, so "
                f"pager refuses its {refused} (they fail closed); set {key}",
            )
        )
    return problems


def public_url_findings(settings: Settings, where: Where) -> tuple[list[Problem], list[Problem]]:
    """(warnings, notices) about `public_url`, where providers post their webhooks."""
    posting = [p.name for p in settings.providers if p.kind.posts_callbacks]
    if not posting:
        return [], []
    url = settings.public_url
    parts = urlsplit(url)
    reason = _why_internal(parts.hostname or "")
    if reason:
        message = (
            f"public_url '{url}' is {reason}: {', '.join(posting)} can't reach it, so delivery "
            "status, inbound SMS and keypad acks won't arrive; set public_url to an address "
            "they can reach"
        )
        return [Problem(where, message)], []
    if parts.scheme == "http":
        note = (
            f"public_url '{url}' is plain http: webhooks are still signed, but replies and "
            "numbers cross the internet unencrypted; prefer https in production"
        )
        return [], [Problem(where, note)]
    return [], []


def _why_internal(host: str) -> str | None:
    """Why providers on the internet can't reach `host`, or None when they may."""
    host = host.lower().rstrip(".")
    if not host:
        return "missing a host"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if host == "localhost":
            return "localhost"
        suffix = next((end for end in _INTERNAL_SUFFIXES if host.endswith(end)), None)
        if suffix:
            return f"a name only a local network resolves ({suffix})"
        if "." not in host:
            return "a name without a domain"
        return None
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_unspecified:
        return "the unspecified address (it means every interface to bind, no place to reach)"
    if address.is_private:
        return "a private address"
    return None


def unroutable_warnings(
    settings: Settings, schedule: Schedule, channels: Iterable[str], at: _At
) -> list[Problem]:
    """A person no provider can page by a channel; a route with no provider for a channel,
    whose people are paged by it through the others."""
    problems = []
    for channel in sorted(channels):
        carriers = able(settings, channel)
        word = CHANNEL_WORDS.get(channel, channel)
        if not carriers:
            problems += [
                Problem(
                    at(f"person:{person.id}"),
                    f"person '{person.id}' can't be paged by {channel}: no configured provider "
                    f"sends {word}",
                )
                for person in schedule.people.values()
            ]
            continue
        for key, order in settings.routing.items():
            if any(name in carriers for name in order):
                continue
            routed = [
                p.id
                for p in schedule.people.values()
                if route_key(settings.routing, p.phone) == key
            ]
            if routed:
                problems.append(
                    Problem(
                        at(f"routing:{key}"),
                        f"{_route_name(key)} has no provider that sends {word}: {channel} pages to "
                        f"{', '.join(routed)} fall back to {', '.join(carriers)}",
                    )
                )
    return problems


def carrier_route_warnings(settings: Settings, channels: Iterable[str], at: _At) -> list[Problem]:
    """Carrier routes that can't work: nothing configured can learn a number's carrier, or a
    route has no provider for a channel pages go by."""
    keys = [key for key in settings.routing if carrier_key(key) is not None]
    problems = []
    if keys and not any(p.kind.lookups for p in settings.providers):
        types = " or ".join(lookup_types())
        problems.append(
            Problem(
                at(f"routing:{keys[0]}"),
                f"{_route_name(keys[0])} names a carrier, but no configured provider looks up "
                f"numbers ({types}): no number's carrier is ever known, so pages go by prefix",
            )
        )
    for key in keys:
        for channel in sorted(channels):
            senders = able(settings, channel)
            if not senders or any(name in senders for name in settings.routing[key]):
                continue  # no provider at all is said per person above
            problems.append(
                Problem(
                    at(f"routing:{key}"),
                    f"{_route_name(key)} has no provider that sends "
                    f"{CHANNEL_WORDS.get(channel, channel)}: {channel} pages to numbers on that "
                    "carrier go by their prefix instead",
                )
            )
    return problems
