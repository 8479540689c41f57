"""`pager check --online`: ask the providers about each person's number before a page has to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pager.config import Settings
from pager.domain.phones import mask
from pager.domain.rotations import Schedule
from pager.domain.routing import route
from pager.domain.yamldoc import Problem, Where
from pager.flows.delivery_check import Findings, able, paged_channels
from pager.providers.lookups import NumberFacts, NumberLookup, lookup_for


@dataclass(frozen=True)
class PersonNumber:
    """One person's number as a provider sees it."""

    person: str
    facts: NumberFacts


def configured_lookups(settings: Settings) -> dict[str, NumberLookup]:
    """The lookups the configured providers offer, by provider name, in configured order."""
    found = {p.name: lookup_for(p) for p in settings.providers}
    return {name: lookup for name, lookup in found.items() if lookup is not None}


def number_findings(
    settings: Settings,
    schedule: Schedule,
    places: Mapping[str, Where],
    lookups: Mapping[str, NumberLookup],
) -> tuple[Findings, list[PersonNumber]]:
    """Look up every person's number with the lookup of the provider their SMS go through first
    (else the first one configured). Raises ProviderError when a provider can't answer."""
    findings, numbers = Findings(), []
    channels = paged_channels(schedule)
    for person in schedule.people.values():
        lookup = lookup_for_number(settings, lookups, person.phone)
        facts = lookup.look_up(person.phone)
        numbers.append(PersonNumber(person.id, facts))
        where = places.get(f"person:{person.id}", Where(settings.source, 1))
        shown = mask(person.phone)
        if not facts.valid:
            message = f"{facts.source} says {shown} is not a valid number ({facts.invalid_because})"
            findings.errors.append(Problem(where, f"person '{person.id}': {message}"))
            continue
        if "sms" in channels and not facts.takes_sms:
            carrier = f" ({facts.carrier})" if facts.carrier else ""
            findings.warnings.append(
                Problem(
                    where,
                    f"person '{person.id}': {shown} is a {facts.line_type} number{carrier}: SMS "
                    "pages won't reach it; page them by voice or give a mobile number",
                )
            )
        if facts.note:
            findings.notices.append(
                Problem(
                    where, f"person '{person.id}': {facts.source} answered in part ({facts.note})"
                )
            )
    return findings, numbers


def lookup_for_number(
    settings: Settings, lookups: Mapping[str, NumberLookup], phone: str
) -> NumberLookup:
    """The lookup of the first provider the SMS pages to `phone` go through that has one, else
    of the first one configured; `lookups` must not be empty."""
    routed = route(settings.routing, able(settings, "sms"), phone)
    name = next((n for n in routed if n in lookups), next(iter(lookups)))
    return lookups[name]
