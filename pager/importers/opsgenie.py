"""Opsgenie's REST API (opsgenie/opsgenie-oas, swagger.json; services from the Service API,
`/v1/services`): users with their contacts and notification rules, schedules with their
rotations, time restrictions, overrides and final timeline, escalations, services and their
teams' routing rules, parsed into frozen dataclasses. `opsgenie_plan` turns them into pager's
terms.

Users and services are paginated: each answer's `paging.next` is the next page's URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pager.importers.api import Answers, ImportFailed, instant, next_link

VENDOR = "Opsgenie"
API_URL = "https://api.opsgenie.com"  # the EU instance: https://api.eu.opsgenie.com
PAGE_SIZE = 100
TIMELINE_WEEKS = 2  # how far ahead the final timeline is read, to check the import
_UNITS = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1, "miliseconds": 0.001}


def headers(key: str) -> dict[str, str]:
    return {"Authorization": f"GenieKey {key}"}


@dataclass(frozen=True)
class Contact:
    method: str  # sms, voice, email, mobile
    to: str
    enabled: bool


@dataclass(frozen=True)
class RuleStep:
    after: timedelta
    method: str
    to: str
    enabled: bool


@dataclass(frozen=True)
class NotificationRule:
    name: str
    action: str  # create-alert, schedule-start...
    enabled: bool
    match_all: bool  # no criteria
    restricted: bool  # has a time restriction
    steps: tuple[RuleStep, ...]


@dataclass(frozen=True)
class User:
    id: str
    username: str
    name: str
    time_zone: str | None
    contacts: tuple[Contact, ...]
    rules: tuple[NotificationRule, ...]


@dataclass(frozen=True)
class Recipient:
    type: str  # user, none, team, escalation, schedule, all
    id: str
    name: str  # a user's username, or the team's or schedule's name


@dataclass(frozen=True)
class Span:
    """A time restriction: from `start_day` (0 Monday; None: every day) `start` minutes
    into the day, to `end_day` `end` minutes into it."""

    start_day: int | None
    start: int
    end_day: int | None
    end: int


@dataclass(frozen=True)
class Rotation:
    id: str
    name: str
    start: datetime
    end: datetime | None
    type: str  # hourly, daily, weekly
    length: int
    participants: tuple[Recipient, ...]
    spans: tuple[Span, ...]  # () without a time restriction


@dataclass(frozen=True)
class Period:
    rotation: str  # rotation id
    recipient: Recipient | None
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Override:
    user: Recipient
    start: datetime
    end: datetime
    rotations: tuple[str, ...]  # rotation ids; (): every rotation of the schedule


@dataclass(frozen=True)
class Schedule:
    id: str
    name: str
    timezone: str
    enabled: bool
    rotations: tuple[Rotation, ...]
    overrides: tuple[Override, ...]
    timeline: tuple[Period, ...]  # the final timeline


@dataclass(frozen=True)
class EscalationRule:
    condition: str  # if-not-acked | if-not-closed
    notify: str  # default, next, previous, users, admins, all
    delay: timedelta  # after the alert is created
    recipient: Recipient


@dataclass(frozen=True)
class Escalation:
    id: str
    name: str
    rules: tuple[EscalationRule, ...]
    repeat_count: int
    repeat_wait: timedelta
    repeat_resets: bool  # resetRecipientStates or closeAlertAfterAll


@dataclass(frozen=True)
class RoutingRule:
    name: str
    default: bool
    notify: Recipient


@dataclass(frozen=True)
class Service:
    id: str
    name: str
    routing: tuple[RoutingRule, ...]  # its team's, in order


@dataclass(frozen=True)
class Account:
    users: tuple[User, ...]
    schedules: tuple[Schedule, ...]
    escalations: tuple[Escalation, ...]
    services: tuple[Service, ...]


def read_account(answers: Answers, now: datetime) -> Account:
    """Everything the import needs, asked of `answers` (saved files or the live API)."""
    try:
        users = tuple(_user(answers, item) for item in _listed(answers, "v2/users"))
        schedules = tuple(
            _schedule(answers, item, now)
            for item in _data(answers.get("v2/schedules", {"expand": "rotation"}))
        )
        escalations = tuple(_escalation(item) for item in _data(answers.get("v2/escalations")))
        routing: dict[str, tuple[RoutingRule, ...]] = {}
        services = []
        for item in _listed(answers, "v1/services"):
            team = item.get("teamId") or ""
            if team and team not in routing:
                routing[team] = _routing(answers.get(f"v2/teams/{team}/routing-rules"))
            services.append(
                Service(item["id"], item.get("name") or item["id"], routing.get(team, ()))
            )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ImportFailed(f"an answer is not as Opsgenie's API documents it: {error!r}") from None
    return Account(users, schedules, escalations, tuple(services))


def _data(body: Any) -> Any:
    if not isinstance(body, dict) or "data" not in body:
        raise ImportFailed("an answer has no 'data'")
    return body["data"]


def _listed(answers: Answers, path: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for page in answers.pages(path, {"limit": PAGE_SIZE, "offset": 0}, next_link("paging", "next")):
        found.extend(_data(page))
    return found


def _duration(value: dict[str, Any] | None) -> timedelta:
    value = value or {}
    return timedelta(
        seconds=int(value.get("timeAmount") or 0) * _UNITS[value.get("timeUnit") or "minutes"]
    )


def _recipient(item: dict[str, Any] | None) -> Recipient:
    item = item or {"type": "none"}
    name = item.get("username") or item.get("name") or ""
    return Recipient(item.get("type") or "none", item.get("id") or "", name)


def _user(answers: Answers, item: dict[str, Any]) -> User:
    user_id = item["id"]
    contacts = tuple(
        Contact(c["method"], c.get("to") or "", bool((c.get("status") or {}).get("enabled", True)))
        for c in _data(answers.get(f"v2/users/{user_id}/contacts"))
    )
    rules = tuple(
        _rule(_data(answers.get(f"v2/users/{user_id}/notification-rules/{meta['id']}")))
        for meta in _data(answers.get(f"v2/users/{user_id}/notification-rules"))
        if meta.get("actionType") == "create-alert"
    )
    return User(
        user_id,
        item.get("username") or user_id,
        item.get("fullName") or item.get("username") or user_id,
        item.get("timeZone"),
        contacts,
        rules,
    )


def _rule(item: dict[str, Any]) -> NotificationRule:
    steps = tuple(
        RuleStep(
            _duration(step.get("sendAfter")),
            (step.get("contact") or {}).get("method") or "",
            (step.get("contact") or {}).get("to") or "",
            bool(step.get("enabled", True)),
        )
        for step in item.get("steps") or ()
    )
    criteria = (item.get("criteria") or {}).get("type", "match-all")
    return NotificationRule(
        item.get("name") or "",
        item.get("actionType") or "",
        bool(item.get("enabled", True)),
        criteria == "match-all",
        bool(item.get("timeRestriction")),
        steps,
    )


_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def spans(restriction: dict[str, Any] | None) -> tuple[Span, ...]:
    """The spans of a `timeRestriction` (time-of-day or weekday-and-time-of-day)."""
    if not restriction:
        return ()
    if restriction.get("type") == "time-of-day":
        r = restriction["restriction"]
        return (
            Span(None, r["startHour"] * 60 + r["startMin"], None, r["endHour"] * 60 + r["endMin"]),
        )
    return tuple(
        Span(
            _DAYS.index(r["startDay"]),
            r["startHour"] * 60 + r["startMin"],
            _DAYS.index(r["endDay"]),
            r["endHour"] * 60 + r["endMin"],
        )
        for r in restriction.get("restrictions") or ()
    )


def _rotation(item: dict[str, Any]) -> Rotation:
    end = item.get("endDate")
    return Rotation(
        item["id"],
        item.get("name") or item["id"],
        instant(item["startDate"]),
        instant(end) if end else None,
        item["type"],
        int(item.get("length") or 1),
        tuple(_recipient(p) for p in item.get("participants") or ()),
        spans(item.get("timeRestriction")),
    )


def _schedule(answers: Answers, item: dict[str, Any], now: datetime) -> Schedule:
    schedule_id = item["id"]
    timeline = _data(
        answers.get(
            f"v2/schedules/{schedule_id}/timeline",
            {"interval": TIMELINE_WEEKS, "intervalUnit": "weeks", "date": now.isoformat()},
        )
    )
    periods = tuple(
        Period(
            rotation["id"],
            _recipient(p.get("recipient")),
            instant(p["startDate"]),
            instant(p["endDate"]),
        )
        for rotation in (timeline.get("finalTimeline") or {}).get("rotations") or ()
        for p in rotation.get("periods") or ()
    )
    overrides = tuple(
        Override(
            _recipient(o.get("user")),
            instant(o["startDate"]),
            instant(o["endDate"]),
            tuple(r["id"] for r in o.get("rotations") or ()),
        )
        for o in _data(answers.get(f"v2/schedules/{schedule_id}/overrides"))
    )
    return Schedule(
        schedule_id,
        item.get("name") or schedule_id,
        item.get("timezone") or "",
        bool(item.get("enabled", True)),
        tuple(_rotation(r) for r in item.get("rotations") or ()),
        overrides,
        periods,
    )


def _escalation(item: dict[str, Any]) -> Escalation:
    repeat = item.get("repeat") or {}
    return Escalation(
        item["id"],
        item.get("name") or item["id"],
        tuple(
            EscalationRule(
                rule.get("condition") or "if-not-acked",
                rule.get("notifyType") or "default",
                _duration(rule.get("delay")),
                _recipient(rule.get("recipient")),
            )
            for rule in item.get("rules") or ()
        ),
        int(repeat.get("count") or 0),
        timedelta(minutes=int(repeat.get("waitInterval") or 0)),
        bool(repeat.get("resetRecipientStates") or repeat.get("closeAlertAfterAll")),
    )


def _routing(body: Any) -> tuple[RoutingRule, ...]:
    return tuple(
        RoutingRule(r.get("name") or "", bool(r.get("isDefault")), _recipient(r.get("notify")))
        for r in sorted(_data(body), key=lambda r: r.get("order") or 0)
    )
