"""GoAlert's GraphQL API (target/goalert, graphql2/schema.graphql and graph/_Query.graphqls):
users with their contact methods and notification rules, rotations, schedules with their
targets, rules, temporary schedules and shifts, user overrides, escalation policies and
services, parsed into frozen dataclasses. `goalert_plan` turns them into pager's terms.

Every list is a connection: `nodes`, and `pageInfo { hasNextPage endCursor }` to ask for the
next page with `after`. Saved answers are the JSON answers to `QUERIES` (`users.json`,
`users.2.json`...).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from pager.importers.api import Answers, ImportFailed, instant

VENDOR = "GoAlert"
API_URL = ""  # self-hosted: each GoAlert has its own address
GRAPHQL = "api/graphql"
SHIFTS_AHEAD = timedelta(days=14)  # how far ahead the schedules' shifts are read, to check

_PAGE = "pageInfo { hasNextPage endCursor }"
QUERIES = {
    "users": "query users($after: String) { users(first: 100, after: $after) { nodes { id "
    "name email contactMethods { id type value disabled } notificationRules { delayMinutes "
    "contactMethodID } } " + _PAGE + " } }",
    "rotations": "query rotations($after: String) { rotations(input: {first: 100, after: "
    "$after}) { nodes { id name start timeZone type shiftLength activeUserIndex userIDs } "
    + _PAGE
    + " } }",
    "schedules": "query schedules($after: String, $start: ISOTimestamp!, $end: ISOTimestamp!)"
    " { schedules(input: {first: 100, after: $after}) { nodes { id name timeZone targets { "
    "target { id type name } rules { start end weekdayFilter } } temporarySchedules { start "
    "end } shifts(start: $start, end: $end) { userID start end } } " + _PAGE + " } }",
    "userOverrides": "query userOverrides($after: String, $start: ISOTimestamp) { "
    "userOverrides(input: {first: 100, after: $after, start: $start}) { nodes { id start end "
    "addUserID removeUserID target { id type name } } " + _PAGE + " } }",
    "escalationPolicies": "query escalationPolicies($after: String) { escalationPolicies("
    "input: {first: 100, after: $after}) { nodes { id name repeat steps { stepNumber "
    "delayMinutes targets { id type name } } } " + _PAGE + " } }",
    "services": "query services($after: String) { services(input: {first: 100, after: "
    "$after}) { nodes { id name escalationPolicyID } " + _PAGE + " } }",
}


def headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@dataclass(frozen=True)
class ContactMethod:
    id: str
    type: str  # SMS, VOICE, EMAIL, WEBHOOK, SLACK_DM
    value: str
    disabled: bool


@dataclass(frozen=True)
class NotificationRule:
    delay: timedelta
    contact_method: str


@dataclass(frozen=True)
class User:
    id: str
    name: str
    email: str
    contact_methods: tuple[ContactMethod, ...]
    rules: tuple[NotificationRule, ...]


@dataclass(frozen=True)
class Rotation:
    id: str
    name: str
    start: datetime
    time_zone: str
    type: str  # hourly, daily, weekly, monthly
    shift_length: int
    active_index: int
    users: tuple[str, ...]


@dataclass(frozen=True)
class Target:
    type: str  # user, rotation, schedule, slackChannel...
    id: str
    name: str


@dataclass(frozen=True)
class Rule:
    """On the days of `weekdays` (0 is Monday), from `start` to `end` (the next day when
    `end` is not after it; the whole day when they are equal)."""

    start: time
    end: time
    weekdays: frozenset[int]


@dataclass(frozen=True)
class ScheduleTarget:
    target: Target
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class Shift:
    user: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Schedule:
    id: str
    name: str
    time_zone: str
    targets: tuple[ScheduleTarget, ...]
    temporary: tuple[tuple[datetime, datetime], ...]
    shifts: tuple[Shift, ...]


@dataclass(frozen=True)
class Override:
    start: datetime
    end: datetime
    add: str  # user id, or ""
    remove: str
    target: Target


@dataclass(frozen=True)
class Step:
    number: int
    delay: timedelta  # before the next step
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class Policy:
    id: str
    name: str
    repeat: int
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Service:
    id: str
    name: str
    policy: str


@dataclass(frozen=True)
class Account:
    users: tuple[User, ...]
    rotations: tuple[Rotation, ...]
    schedules: tuple[Schedule, ...]
    overrides: tuple[Override, ...]
    policies: tuple[Policy, ...]
    services: tuple[Service, ...]


def read_account(answers: Answers, now: datetime) -> Account:
    """Everything the import needs, asked of `answers` (saved files or the live API)."""
    window = {"start": now.isoformat(), "end": (now + SHIFTS_AHEAD).isoformat()}
    try:
        return Account(
            users=tuple(_user(n) for n in _nodes(answers, "users")),
            rotations=tuple(_rotation(n) for n in _nodes(answers, "rotations")),
            schedules=tuple(_schedule(n) for n in _nodes(answers, "schedules", window)),
            overrides=tuple(
                _override(n) for n in _nodes(answers, "userOverrides", {"start": now.isoformat()})
            ),
            policies=tuple(_policy(n) for n in _nodes(answers, "escalationPolicies")),
            services=tuple(
                Service(n["id"], n["name"], n["escalationPolicyID"])
                for n in _nodes(answers, "services")
            ),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ImportFailed(f"an answer is not as GoAlert's schema says: {error!r}") from None


def _nodes(
    answers: Answers, name: str, variables: Mapping[str, Any] | None = None
) -> Iterator[dict[str, Any]]:
    """Every node of the connection `name`, page after page."""
    after, page = "", 1
    while True:
        body = {
            "operationName": name,
            "query": QUERIES[name],
            "variables": {**(variables or {}), "after": after},
        }
        answer = answers.post(GRAPHQL, body, name if page == 1 else f"{name}.{page}")
        if not isinstance(answer, dict) or answer.get("errors") or not answer.get("data"):
            errors = answer.get("errors") if isinstance(answer, dict) else None
            raise ImportFailed(f"GoAlert answered the {name} query with {errors or answer!r}")
        connection = answer["data"][name]
        yield from connection["nodes"]
        info = connection.get("pageInfo") or {}
        if not info.get("hasNextPage"):
            return
        after, page = info["endCursor"], page + 1


def _user(node: dict[str, Any]) -> User:
    return User(
        node["id"],
        node.get("name") or node["id"],
        node.get("email") or "",
        tuple(
            ContactMethod(
                c["id"], c.get("type") or "", c.get("value") or "", bool(c.get("disabled"))
            )
            for c in node.get("contactMethods") or ()
        ),
        tuple(
            NotificationRule(timedelta(minutes=int(r["delayMinutes"])), r["contactMethodID"])
            for r in node.get("notificationRules") or ()
        ),
    )


def _rotation(node: dict[str, Any]) -> Rotation:
    return Rotation(
        node["id"],
        node["name"],
        instant(node["start"]),
        node["timeZone"],
        node["type"],
        int(node.get("shiftLength") or 1),
        int(node.get("activeUserIndex") or 0),
        tuple(node.get("userIDs") or ()),
    )


def _target(node: dict[str, Any]) -> Target:
    return Target(node["type"], node["id"], node.get("name") or node["id"])


def _rule(node: dict[str, Any]) -> Rule:
    # weekdayFilter starts on Sunday; pager's weeks on Monday.
    days = frozenset((i - 1) % 7 for i, on in enumerate(node["weekdayFilter"]) if on)
    return Rule(time.fromisoformat(node["start"]), time.fromisoformat(node["end"]), days)


def _schedule(node: dict[str, Any]) -> Schedule:
    return Schedule(
        node["id"],
        node["name"],
        node["timeZone"],
        tuple(
            ScheduleTarget(_target(t["target"]), tuple(_rule(r) for r in t.get("rules") or ()))
            for t in node.get("targets") or ()
        ),
        tuple(
            (instant(t["start"]), instant(t["end"])) for t in node.get("temporarySchedules") or ()
        ),
        tuple(
            Shift(s["userID"], instant(s["start"]), instant(s["end"]))
            for s in node.get("shifts") or ()
        ),
    )


def _override(node: dict[str, Any]) -> Override:
    return Override(
        instant(node["start"]),
        instant(node["end"]),
        node.get("addUserID") or "",
        node.get("removeUserID") or "",
        _target(node["target"]),
    )


def _policy(node: dict[str, Any]) -> Policy:
    steps = tuple(
        Step(
            int(s["stepNumber"]),
            timedelta(minutes=int(s["delayMinutes"])),
            tuple(_target(t) for t in s.get("targets") or ()),
        )
        for s in node.get("steps") or ()
    )
    return Policy(
        node["id"],
        node["name"],
        int(node.get("repeat") or 0),
        tuple(sorted(steps, key=lambda s: s.number)),
    )
