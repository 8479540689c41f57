"""Per-person notification rules: which channels page someone, and how long after the step.

A person's rules (`notify:` in the rotation files) are written per urgency:

    notify:
      high: [sms, voice after 2m]   # a text at once, a call 2 minutes later if still unacked
      low:  [sms]

or as one list for both urgencies. A step that names its own `channels` pages on those, all at
once; a step without `channels` pages each person by their rules for the incident's urgency,
and someone with no rules for it by SMS. Pure: every instant is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pager.domain.durations import format_duration, parse_duration
from pager.domain.urgency import morning_after

CHANNELS = ("sms", "voice")
URGENCIES = ("high", "low")
DEFAULT_CHANNEL = "sms"
_AFTER = " after "


def unknown_channel(value: object) -> str:
    """The message for a channel we cannot page on."""
    shown = "nothing" if value is None else repr(value)
    return f"unknown channel {shown} (allowed: {', '.join(CHANNELS)})"


@dataclass(frozen=True)
class NotifyRule:
    """Page on `channel`, `after` the step pages this person (if still unacknowledged)."""

    channel: str
    after: timedelta = timedelta(0)

    @classmethod
    def parse(cls, value: object) -> NotifyRule:
        """Read `sms` or `voice after 2m`; raise ValueError with a message a user can act on."""
        if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in CHANNELS:
            # The `{voice: 2m}` a user may try: show our way of writing it.
            [(channel, delay)] = value.items()
            raise ValueError(f"write the rule as text, like '{channel} after {delay}'")
        if not isinstance(value, str) or not value.strip():
            shown = "nothing" if value is None else repr(value)
            raise ValueError(f"expected a rule like sms or 'voice after 2m', got {shown}")
        channel, after, delay = value.strip().partition(_AFTER)
        channel = channel.strip()
        if channel not in CHANNELS:
            first, _, rest = channel.partition(" ")
            rest = rest.strip().removeprefix("after").strip()
            if first in CHANNELS:
                example = f"{first} after {rest if _is_duration(rest) else '2m'}"
                raise ValueError(f"write '{example}', got '{value.strip()}'")
            raise ValueError(unknown_channel(channel))
        if not after:
            return cls(channel)
        try:
            return cls(channel, parse_duration(delay.strip()))
        except ValueError as error:
            raise ValueError(f"'{value}': {error}") from None

    def __str__(self) -> str:
        if not self.after:
            return self.channel
        return f"{self.channel}{_AFTER}{format_duration(self.after)}"


def _is_duration(text: str) -> bool:
    try:
        parse_duration(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class NotifyRules:
    """A person's rules per urgency; an urgency with none (empty) follows the step's way."""

    high: tuple[NotifyRule, ...] = ()
    low: tuple[NotifyRule, ...] = ()

    def for_urgency(self, urgency: str) -> tuple[NotifyRule, ...]:
        return self.low if urgency == "low" else self.high


@dataclass(frozen=True)
class PlannedPage:
    """One page of one person: on `channel` at `at` (aware UTC). `morning_in` names the time
    zone whose 08:00 `at` is, when low urgency moved it out of that person's night."""

    channel: str
    at: datetime
    morning_in: str | None = None


def rules_for(
    step_channels: Sequence[str], rules: NotifyRules, urgency: str
) -> tuple[NotifyRule, ...]:
    """How a step pages one person: on the step's own channels, all at once; else by the
    person's rules for `urgency`; else by SMS."""
    if step_channels:
        return tuple(NotifyRule(channel) for channel in step_channels)
    return rules.for_urgency(urgency) or (NotifyRule(DEFAULT_CHANNEL),)


def plan_pages(
    step_channels: Sequence[str],
    rules: NotifyRules,
    timezone: str,
    urgency: str,
    now: datetime,
) -> tuple[PlannedPage, ...]:
    """How a step run at `now` pages one person (whose zone is `timezone`), in time order.

    The step's own channels win, all at once; else the person's rules for `urgency`; else SMS.
    Low urgency never wakes anyone: a later page that would fall in the person's night waits
    for their morning (the step itself already waited for it, see `urgency.morning_after`).
    """
    pages = []
    for rule in rules_for(step_channels, rules, urgency):
        at = now + rule.after
        morning = morning_after(timezone, at) if urgency == "low" and rule.after else None
        pages.append(
            PlannedPage(rule.channel, morning, timezone)
            if morning
            else PlannedPage(rule.channel, at)
        )
    return tuple(sorted(pages, key=lambda page: page.at))


def describe(pages: Sequence[PlannedPage], now: datetime) -> str:
    """`sms and voice` when all go now (as a step with channels always does); else when each
    goes: `sms now, voice at +2m`, `voice at 08:00 Europe/London (after quiet hours)`."""
    if all(page.at == now for page in pages):
        return " and ".join(page.channel for page in pages)
    groups: dict[tuple[datetime, str | None], list[str]] = {}
    for page in pages:
        groups.setdefault((page.at, page.morning_in), []).append(page.channel)
    return ", ".join(
        f"{' and '.join(channels)} {_when(at, zone, now)}"
        for (at, zone), channels in groups.items()
    )


def _when(at: datetime, morning_in: str | None, now: datetime) -> str:
    if morning_in:
        return f"at 08:00 {morning_in} (after quiet hours)"
    return "now" if at == now else f"at +{format_duration(at - now)}"
