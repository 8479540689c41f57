"""The `rate` of a provider entry: how fast that account may send (`rate: 1/s`)."""

from __future__ import annotations

import re

from pager.config.base import BaseReader
from pager.config.provider_types import ProviderType
from pager.domain.durations import parse_duration
from pager.domain.limits import Limit
from pager.domain.yamldoc import Map

_RATE = re.compile(r"\s*(\d+)\s*/\s*(\d*)\s*([smh])\s*")
UNLIMITED = "unlimited"


class ProviderRateReader(BaseReader):
    def provider_rate(self, entry: Map, name: str, ptype: ProviderType) -> Limit | None:
        """`rate: 1/s` (also `3/s`, `100/s`, `30/m`, `500/5m` or `unlimited`); the type's
        default when the entry names none."""
        if "rate" not in entry:
            return ptype.default_rate
        value = entry["rate"]
        text = value if isinstance(value, str) else ""
        if text.strip() == UNLIMITED:
            return None
        match = _RATE.fullmatch(text)
        if match is None or int(match[1]) < 1 or match[2] == "0":
            self.problem(
                entry.at("rate"),
                f"provider '{name}' rate: '{value}' is not a rate like 1/s, 3/s, 100/s or 30/m "
                f"(messages/time), or {UNLIMITED}",
            )
            return ptype.default_rate
        return Limit(int(match[1]), parse_duration(f"{match[2] or 1}{match[3]}"))
