"""Grafana OnCall's public HTTP API (grafana/oncall, docs/sources/oncall-api-reference/):
users, personal notification rules, schedules with their on-call shifts (rotations, overrides)
and final shifts, escalation chains with their escalation policies, and integrations with
their routes, parsed into frozen dataclasses. `grafana_oncall_plan` turns them into pager's
terms.

Lists are paginated: `next` is the URL of the next page. The API gives no phone numbers:
`pager import --phones` supplies them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pager.importers.api import Answers, ImportFailed, Params, listed, next_link

VENDOR = "Grafana OnCall"
API_URL = ""  # each stack has its own: OnCall -> Settings shows it
FINAL_SHIFTS_DAYS = 14  # how far ahead the final shifts are read, to check the import


def headers(key: str) -> dict[str, str]:
    return {"Authorization": key}


@dataclass(frozen=True)
class User:
    id: str
    email: str
    username: str
    timezone: str | None


@dataclass(frozen=True)
class PersonalRule:
    user: str
    position: int
    type: str  # wait, notify_by_sms, notify_by_phone_call, notify_by_email...
    wait: timedelta  # for `wait`
    important: bool


@dataclass(frozen=True)
class Shift:
    id: str
    name: str
    type: str  # rolling_users, recurrent_event, single_event, override
    time_zone: str | None
    level: int
    start: datetime  # aware UTC: the API writes it without an offset, in UTC
    duration: timedelta
    rotation_start: datetime | None
    until: datetime | None
    frequency: str | None  # hourly, daily, weekly, monthly
    interval: int
    week_start: str | None
    by_day: tuple[str, ...]  # MO, TU...
    by_month_or_monthday: bool
    groups: tuple[tuple[str, ...], ...]  # rolling_users, or the one group of `users`
    start_index: int


@dataclass(frozen=True)
class FinalShift:
    user: str  # user id
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Schedule:
    id: str
    name: str
    type: str  # web, calendar, ical
    time_zone: str | None
    overrides_calendar: bool  # has an `ical_url_overrides`
    shifts: tuple[Shift, ...]
    final: tuple[FinalShift, ...]


@dataclass(frozen=True)
class Step:
    """An escalation policy of a chain (a step, in pager's words)."""

    position: int
    type: str
    wait: timedelta
    important: bool
    persons: tuple[str, ...]  # notify_persons, notify_person_next_each_time
    schedule: str | None  # notify_on_call_from_schedule


@dataclass(frozen=True)
class Chain:
    id: str
    name: str
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Integration:
    id: str
    name: str
    chain: str | None  # the default route's escalation chain
    routes: int  # how many other (regex or template) routes it has


@dataclass(frozen=True)
class Account:
    users: tuple[User, ...]
    rules: tuple[PersonalRule, ...] | None  # None: the key may not read them
    schedules: tuple[Schedule, ...]
    chains: tuple[Chain, ...]
    integrations: tuple[Integration, ...]


def read_account(answers: Answers, now: datetime) -> Account:
    """Everything the import needs, asked of `answers` (saved files or the live API)."""
    try:
        users = tuple(_user(item) for item in _listed(answers, "api/v1/users/"))
        try:
            rules: tuple[PersonalRule, ...] | None = tuple(
                _rule(item) for item in _listed(answers, "api/v1/personal_notification_rules/")
            )
        except ImportFailed:
            rules = None  # they need a user's key (or were not saved)
        shifts = [_shift(item) for item in _listed(answers, "api/v1/on_call_shifts/")]
        schedules = tuple(
            _schedule(answers, item, shifts, now) for item in _listed(answers, "api/v1/schedules/")
        )
        steps = [_step(item) for item in _listed(answers, "api/v1/escalation_policies/")]
        chains = tuple(
            Chain(
                item["id"],
                item.get("name") or item["id"],
                tuple(sorted((s for c, s in steps if c == item["id"]), key=lambda s: s.position)),
            )
            for item in _listed(answers, "api/v1/escalation_chains/")
        )
        routes = _listed(answers, "api/v1/routes/")
        integrations = tuple(
            _integration(item, routes) for item in _listed(answers, "api/v1/integrations/")
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ImportFailed(
            f"an answer is not as Grafana OnCall's API documents it: {error!r}"
        ) from None
    return Account(users, rules, schedules, chains, integrations)


def _listed(answers: Answers, path: str, params: Params | None = None) -> list[dict[str, Any]]:
    return listed(answers, path, dict(params or {}), "results", next_link("next"))


def _utc(text: str | None) -> datetime | None:
    if not text:
        return None
    at = datetime.fromisoformat(text)
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def _user(item: dict[str, Any]) -> User:
    return User(
        item["id"], item.get("email") or "", item.get("username") or "", item.get("timezone")
    )


def _rule(item: dict[str, Any]) -> PersonalRule:
    return PersonalRule(
        item["user_id"],
        int(item.get("position") or 0),
        item["type"],
        timedelta(seconds=int(item.get("duration") or 0)),
        bool(item.get("important")),
    )


def _shift(item: dict[str, Any]) -> tuple[str | None, Shift]:
    groups = item.get("rolling_users") or ([item["users"]] if item.get("users") else [])
    start = _utc(item["start"])
    if start is None:
        raise ValueError(f"on-call shift {item['id']} has no start")
    return item.get("schedule"), Shift(
        id=item["id"],
        name=item.get("name") or item["id"],
        type=item["type"],
        time_zone=item.get("time_zone"),
        level=int(item.get("level") or 0),
        start=start,
        duration=timedelta(seconds=int(item.get("duration") or 0)),
        rotation_start=_utc(item.get("rotation_start")),
        until=_utc(item.get("until")),
        frequency=item.get("frequency"),
        interval=int(item.get("interval") or 1),
        week_start=item.get("week_start"),
        by_day=tuple(item.get("by_day") or ()),
        by_month_or_monthday=bool(item.get("by_month") or item.get("by_monthday")),
        groups=tuple(tuple(group) for group in groups),
        start_index=int(item.get("start_rotation_from_user_index") or 0),
    )


def _schedule(
    answers: Answers, item: dict[str, Any], shifts: list[tuple[str | None, Shift]], now: datetime
) -> Schedule:
    schedule_id = item["id"]
    listed = set(item.get("shifts") or ())
    mine = tuple(s for owner, s in shifts if owner == schedule_id or s.id in listed)
    window = {
        "start_date": now.date().isoformat(),
        "end_date": (now + timedelta(days=FINAL_SHIFTS_DAYS)).date().isoformat(),
    }
    final = (
        tuple(
            FinalShift(e["user_pk"], _utc(e["shift_start"]) or now, _utc(e["shift_end"]) or now)
            for e in _listed(answers, f"api/v1/schedules/{schedule_id}/final_shifts", window)
        )
        if item.get("type") != "ical"
        else ()
    )
    return Schedule(
        schedule_id,
        item.get("name") or schedule_id,
        item.get("type") or "",
        item.get("time_zone"),
        bool(item.get("ical_url_overrides")),
        mine,
        final,
    )


def _step(item: dict[str, Any]) -> tuple[str, Step]:
    persons = item.get("persons_to_notify") or item.get("persons_to_notify_next_each_time") or ()
    return item["escalation_chain_id"], Step(
        int(item.get("position") or 0),
        item["type"],
        timedelta(seconds=int(item.get("duration") or 0)),
        bool(item.get("important")),
        tuple(persons),
        item.get("notify_on_call_from_schedule"),
    )


def _integration(item: dict[str, Any], routes: list[dict[str, Any]]) -> Integration:
    default = item.get("default_route") or {}
    others = [
        r
        for r in routes
        if r.get("integration_id") == item["id"]
        and r.get("id") != default.get("id")
        and not r.get("is_the_last_route")
    ]
    return Integration(
        item["id"], item.get("name") or item["id"], default.get("escalation_chain_id"), len(others)
    )
