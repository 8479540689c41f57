"""How pages leave, as the dashboard's home shows it: the providers and their channels, the
per-number limits, and whether only the sandbox (no real phone) is configured."""

from __future__ import annotations

from dataclasses import dataclass

from pager.domain.durations import format_duration
from pager.flows.context import Pager
from pager.providers.sandbox import SandboxProvider


@dataclass(frozen=True)
class Delivery:
    providers: tuple[tuple[str, str], ...]  # name, channels
    limits: tuple[tuple[str, str], ...]  # channel, "5/15m, 11/1h"
    sandbox_only: bool


def how_pages_leave(pager: Pager) -> Delivery:
    """The providers in routing order, each with its channels; the limits by channel."""
    limits = pager.settings.limits
    providers = pager.providers
    return Delivery(
        providers=tuple((x.name, ", ".join(sorted(x.channels))) for x in providers),
        limits=tuple(
            (channel, ", ".join(f"{x.count}/{format_duration(x.per)}" for x in limits[channel]))
            for channel in sorted(limits)
        ),
        sandbox_only=bool(providers) and all(isinstance(x, SandboxProvider) for x in providers),
    )
