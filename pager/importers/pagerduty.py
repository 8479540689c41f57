"""PagerDuty's REST API v2 (PagerDuty/api-schema, reference/REST/openapiv3.json): users with
their contact methods and notification rules, schedules with their layers, restrictions,
overrides and final (rendered) schedule, escalation policies and services, parsed into frozen
dataclasses. `pagerduty_plan` turns them into pager's terms.

Lists are paginated by offset: `limit`, `offset`, and `more` in each answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from pager.importers.api import Answers, ImportFailed, Params, instant, listed

VENDOR = "PagerDuty"
API_URL = "https://api.pagerduty.com"
PAGE_SIZE = 100
# How far ahead the final schedule is rendered (to check the import) and overrides read.
RENDERED = timedelta(days=28)
OVERRIDES_AHEAD = timedelta(days=365)


def headers(key: str) -> dict[str, str]:
    """The headers of every request: the REST API key, and the API version."""
    return {
        "Authorization": f"Token token={key}",
        "Accept": "application/vnd.pagerduty+json;version=2",
    }


@dataclass(frozen=True)
class Contact:
    id: str
    type: str  # phone_contact_method, sms_contact_method, email_contact_method, ...
    address: str
    country_code: int | None


@dataclass(frozen=True)
class NotificationRule:
    delay: timedelta
    contact_id: str
    contact_type: str  # as `Contact.type`, without `_reference`
    urgency: str  # high | low


@dataclass(frozen=True)
class User:
    id: str
    name: str
    email: str
    time_zone: str | None
    contacts: tuple[Contact, ...]
    rules: tuple[NotificationRule, ...]


@dataclass(frozen=True)
class Restriction:
    type: str  # daily_restriction | weekly_restriction
    start_day: int | None  # ISO: 1 is Monday
    start_time: time
    duration: timedelta


@dataclass(frozen=True)
class Layer:
    id: str
    name: str
    start: datetime
    end: datetime | None
    virtual_start: datetime
    turn: timedelta
    users: tuple[str, ...]
    restrictions: tuple[Restriction, ...]


@dataclass(frozen=True)
class Entry:
    """A rendered entry or an override: `user` (None: nobody) from `start` to `end`."""

    user: str | None
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Schedule:
    id: str
    name: str
    time_zone: str
    layers: tuple[Layer, ...]  # as the API lists them
    final: tuple[Entry, ...]
    overrides: tuple[Entry, ...]


@dataclass(frozen=True)
class EscalationRule:
    delay: timedelta
    targets: tuple[tuple[str, str], ...]  # (type without `_reference`, id)
    round_robin: bool


@dataclass(frozen=True)
class EscalationPolicy:
    id: str
    name: str
    loops: int
    rules: tuple[EscalationRule, ...]
    handoff_notifications: str | None


@dataclass(frozen=True)
class Service:
    id: str
    name: str
    policy: str | None
    status: str | None
    settings: tuple[str, ...]  # the names of settings it has that pager keeps elsewhere


@dataclass(frozen=True)
class Account:
    users: tuple[User, ...]
    schedules: tuple[Schedule, ...]
    policies: tuple[EscalationPolicy, ...]
    services: tuple[Service, ...]


def read_account(answers: Answers, now: datetime) -> Account:
    """Everything the import needs, asked of `answers` (saved files or the live API)."""
    include = {"include[]": ["contact_methods", "notification_rules"]}
    try:
        return Account(
            users=tuple(_user(item) for item in _listed(answers, "users", include)),
            schedules=tuple(
                _schedule(
                    _answer(answers.get(f"schedules/{item['id']}", _window(now, RENDERED))),
                    _overrides_of(answers, item["id"], now),
                )
                for item in _listed(answers, "schedules", {})
            ),
            policies=tuple(_policy(item) for item in _listed(answers, "escalation_policies", {})),
            services=tuple(_service(item) for item in _listed(answers, "services", {})),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ImportFailed(f"an answer is not as PagerDuty's API documents it: {error!r}") from None


def _window(now: datetime, ahead: timedelta) -> Params:
    return {"since": now.isoformat(), "until": (now + ahead).isoformat()}


def _answer(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get("schedule"), dict):
        raise ImportFailed("a schedule answer has no 'schedule' object")
    return body["schedule"]


def _listed(answers: Answers, path: str, params: Params) -> list[dict[str, Any]]:
    """Every item of a paginated list (`GET /users` -> its `users`)."""
    return listed(answers, path, {**params, "limit": PAGE_SIZE, "offset": 0}, path, _next_page)


def _next_page(page: Any, path: str, params: Params) -> tuple[str, Params] | None:
    if not isinstance(page, dict) or not page.get("more"):
        return None
    limit = int(page.get("limit") or params.get("limit") or PAGE_SIZE)
    offset = int(page.get("offset") or params.get("offset") or 0)
    return path, {**params, "offset": offset + limit}


def _overrides_of(answers: Answers, schedule_id: str, now: datetime) -> tuple[Entry, ...]:
    body = answers.get(f"schedules/{schedule_id}/overrides", _window(now, OVERRIDES_AHEAD))
    items = body.get("overrides") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise ImportFailed(f"the overrides of schedule {schedule_id} have no 'overrides' list")
    return tuple(_entry(item) for item in items)


def _entry(item: dict[str, Any]) -> Entry:
    user = item.get("user")
    return Entry(
        user["id"] if isinstance(user, dict) else None, instant(item["start"]), instant(item["end"])
    )


def _kind(type_name: str) -> str:
    return type_name.removesuffix("_reference")


def _user(item: dict[str, Any]) -> User:
    contacts = tuple(
        Contact(c["id"], _kind(c["type"]), str(c.get("address") or ""), c.get("country_code"))
        for c in item.get("contact_methods") or ()
    )
    rules = tuple(
        NotificationRule(
            timedelta(minutes=int(r.get("start_delay_in_minutes") or 0)),
            r["contact_method"]["id"],
            _kind(r["contact_method"]["type"]),
            str(r.get("urgency") or "high"),
        )
        for r in item.get("notification_rules") or ()
        if isinstance(r, dict) and isinstance(r.get("contact_method"), dict)
    )
    return User(
        item["id"],
        item.get("name") or item["id"],
        item.get("email") or "",
        item.get("time_zone"),
        contacts,
        rules,
    )


def _schedule(item: dict[str, Any], overrides: tuple[Entry, ...]) -> Schedule:
    final = (item.get("final_schedule") or {}).get("rendered_schedule_entries") or ()
    return Schedule(
        id=item["id"],
        name=item.get("name") or item["id"],
        time_zone=item["time_zone"],
        layers=tuple(_layer(layer) for layer in item.get("schedule_layers") or ()),
        final=tuple(_entry(entry) for entry in final),
        overrides=overrides,
    )


def _layer(item: dict[str, Any]) -> Layer:
    end = item.get("end")
    return Layer(
        id=str(item.get("id") or ""),
        name=item.get("name") or "",
        start=instant(item["start"]),
        end=instant(end) if end else None,
        virtual_start=instant(item["rotation_virtual_start"]),
        turn=timedelta(seconds=int(item["rotation_turn_length_seconds"])),
        users=tuple(entry["user"]["id"] for entry in item.get("users") or ()),
        restrictions=tuple(_restriction(r) for r in item.get("restrictions") or ()),
    )


def _restriction(item: dict[str, Any]) -> Restriction:
    day = item.get("start_day_of_week")
    return Restriction(
        item["type"],
        int(day) if day is not None and item["type"] == "weekly_restriction" else None,
        time.fromisoformat(item["start_time_of_day"]),
        timedelta(seconds=int(item["duration_seconds"])),
    )


def _policy(item: dict[str, Any]) -> EscalationPolicy:
    rules = tuple(
        EscalationRule(
            timedelta(minutes=int(rule.get("escalation_delay_in_minutes") or 0)),
            tuple((_kind(t["type"]), t["id"]) for t in rule.get("targets") or ()),
            _strategy(rule.get("escalation_rule_assignment_strategy")) == "round_robin",
        )
        for rule in item.get("escalation_rules") or ()
    )
    return EscalationPolicy(
        item["id"],
        item.get("name") or item["id"],
        int(item.get("num_loops") or 0),
        rules,
        item.get("on_call_handoff_notifications"),
    )


def _strategy(value: Any) -> str | None:
    # The schema says a string; its own example gives a list of {"type": ...}.
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return value[0].get("type")
    return value if isinstance(value, str) else None


_SERVICE_SETTINGS = (
    "auto_resolve_timeout",
    "acknowledgement_timeout",
    "incident_urgency_rule",
    "support_hours",
    "scheduled_actions",
    "alert_grouping_parameters",
    "auto_pause_notifications_parameters",
    "integrations",
)


def _service(item: dict[str, Any]) -> Service:
    policy = item.get("escalation_policy")
    return Service(
        item["id"],
        item.get("name") or item["id"],
        policy["id"] if isinstance(policy, dict) else None,
        item.get("status"),
        tuple(_present(item, _SERVICE_SETTINGS)),
    )


def _present(item: dict[str, Any], keys: Iterable[str]) -> Iterable[str]:
    return (key for key in keys if item.get(key) not in (None, [], {}, False))
