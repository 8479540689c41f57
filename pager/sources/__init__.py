"""Alert sources: one module per source turns a webhook body into AlertEvents.

Adding a source is one module with `parse(payload) -> list[AlertEvent]` and one line below.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pager.domain.alerts import AlertEvent
from pager.sources import alertmanager, grafana
from pager.sources.errors import SourceError

Parser = Callable[[Any], list[AlertEvent]]

PARSERS: dict[str, Parser] = {
    "alertmanager": alertmanager.parse,
    "grafana": grafana.parse,
}

__all__ = ["PARSERS", "Parser", "SourceError"]
