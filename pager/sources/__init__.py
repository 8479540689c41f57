"""Alert sources: one module per tool, each saying how its webhooks authenticate and read.

Adding a source is one module with `verify(delivery, integration, now)` (raises NotAuthenticated)
and `read(payload, delivery, integration) -> Received` (raises SourceError, or Ignored for a
delivery that asks nothing), one line in REGISTRY below, and its rules in `config.SOURCE_RULES`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pager.config import IntegrationSettings
from pager.domain.alerts import AlertEvent
from pager.sources import alertmanager, auth, generic, github, gitlab, grafana, jenkins, pagerduty
from pager.sources.delivery import Delivery, Received
from pager.sources.errors import Ignored, NotAuthenticated, SourceError

Parser = Callable[[Any], list[AlertEvent]]
Read = Callable[[Any, Delivery, IntegrationSettings], Received]


@dataclass(frozen=True)
class Source:
    verify: auth.Verify
    read: Read


def _events_only(parse: Parser) -> Read:
    """A source whose body alone says everything (no headers, no options)."""
    return lambda payload, delivery, integration: Received(events=tuple(parse(payload)))


REGISTRY: dict[str, Source] = {
    "alertmanager": Source(auth.by_token, _events_only(alertmanager.parse)),
    "grafana": Source(grafana.verify, _events_only(grafana.parse)),
    "github": Source(github.verify, github.read),
    "gitlab": Source(gitlab.verify, gitlab.read),
    "jenkins": Source(jenkins.verify, jenkins.read),
    "pagerduty": Source(pagerduty.verify, pagerduty.read),
    "generic": Source(generic.verify, generic.read),
}

# Sources whose body alone makes the events (used where there is no request, e.g. tests).
PARSERS: dict[str, Parser] = {
    "alertmanager": alertmanager.parse,
    "grafana": grafana.parse,
}

__all__ = [
    "PARSERS",
    "REGISTRY",
    "Delivery",
    "Ignored",
    "NotAuthenticated",
    "Parser",
    "Received",
    "Source",
    "SourceError",
]
