"""An Opsgenie account (`opsgenie.Account`) in pager's terms, and notes on the rest.

Every rotation of an Opsgenie schedule is on call at once, while a pager rotation has one
person at a time: so each Opsgenie rotation becomes a pager rotation of its own
(`<schedule>-<rotation>` when a schedule has several), and an escalation rule that notifies
the schedule pages all of them.
"""

from __future__ import annotations

from datetime import time, timedelta

from pager.domain.layers import Window
from pager.domain.notify_rules import NotifyRule, NotifyRules
from pager.importers import opsgenie as og
from pager.importers.plan import (
    DAY,
    WEEK,
    Options,
    Plan,
    PlannedLayer,
    PlannedOverride,
    PlannedPerson,
    PlannedRotation,
    PlannedService,
    PlannedStep,
    VendorShift,
    after_text,
    e164,
    joined,
    local,
    span_windows,
)
from pager.importers.planner import Planner, Rendered, rendered_shifts

_CHANNELS = {"sms": "sms", "voice": "voice"}
_TURNS = {"hourly": timedelta(hours=1), "daily": DAY, "weekly": WEEK}


def plan(account: og.Account, options: Options) -> Plan:
    """What to write for `account` as it stands at `options.now`."""
    return _Planner(account, options).plan(
        account.users, account.schedules, account.escalations, account.services
    )


class _Planner(Planner[og.User, og.Schedule, og.Escalation, og.Service]):
    def __init__(self, account: og.Account, options: Options) -> None:
        super().__init__(og.VENDOR, options)
        self.account = account  # rotations: by Opsgenie rotation id; policies: escalation id
        self.usernames = {user.username: user.id for user in account.users}
        self.of_schedule: dict[str, list[str]] = {}  # schedule id -> its rotation ids

    def _user_of(self, recipient: og.Recipient) -> PlannedPerson | None:
        user_id = recipient.id or self.usernames.get(recipient.name, "")
        return self.people.get(user_id)

    # People

    def person(self, user: og.User) -> None:
        subject = f"user '{user.name}' ({user.username})"
        phone = next(
            (
                number
                for method in _CHANNELS
                for contact in user.contacts
                if contact.method == method and contact.enabled and (number := e164(contact.to))
            ),
            self.options.phone_of(user.username),
        )
        if phone is None:
            self.note(
                subject,
                "no enabled SMS or voice contact with a valid number: left out, "
                "and so out of every rotation and escalation",
            )
            return
        zone = self.zone_or_utc(user.time_zone, subject)
        others = (c.method for c in user.contacts if c.method not in _CHANNELS)
        self.other_contacts(subject, others, "contacts")
        rules = self._notify(user, phone, subject)
        id_from = (user.username.partition("@")[0], user.name)
        self.add_person(user.id, id_from, user.name, phone, zone, NotifyRules(rules, rules))

    def _notify(self, user: og.User, phone: str, subject: str) -> tuple[NotifyRule, ...]:
        """The steps of their first enabled new-alert rule that applies to every alert at
        any time; Opsgenie has no urgencies, so both of pager's get them."""
        chosen = next(
            (r for r in user.rules if r.enabled and r.match_all and not r.restricted), None
        )
        for rule in user.rules:
            if rule is not chosen and rule.enabled:
                why = "on conditions" if not rule.match_all else "at some times only"
                self.note(
                    subject,
                    f"the notification rule '{rule.name}' applies {why}, and "
                    "pager's rules apply to every alert: not carried over",
                )
        found: list[NotifyRule] = []
        for step in chosen.steps if chosen else ():
            channel = _CHANNELS.get(step.method)
            after = after_text(step.after)
            if channel is None or not step.enabled:
                state = "" if step.enabled else " (disabled)"
                self.note(
                    subject,
                    f"the step by {step.method}{after}{state} of the rule "
                    f"'{chosen.name if chosen else ''}' is not carried over",
                )
                continue
            self.other_number(subject, f"{channel}{after}", phone, e164(step.to))
            carried = NotifyRule(channel, step.after)
            if carried not in found:
                found.append(carried)
        return tuple(found)

    # Rotations

    def schedule(
        self, schedule: og.Schedule, overrides: list[PlannedOverride], shifts: list[VendorShift]
    ) -> None:
        subject = f"schedule '{schedule.name}'"
        if not schedule.enabled:
            self.note(subject, "disabled in Opsgenie: left out")
            return
        if not self.zone_known(schedule.timezone, subject):
            return
        several = len(schedule.rotations) > 1
        mine = self.of_schedule.setdefault(schedule.id, [])
        for rotation in schedule.rotations:
            name = f"{schedule.name} {rotation.name}" if several else schedule.name
            planned = self._rotation(
                rotation, schedule.timezone, name, f"{subject}, rotation '{rotation.name}'"
            )
            if planned is not None:
                self.rotations[rotation.id] = planned
                mine.append(rotation.id)
        for override in schedule.overrides:
            overrides.extend(self._override(override, schedule, subject))
        shifts.extend(self._timeline(schedule))

    def _rotation(
        self, rotation: og.Rotation, zone: str, name: str, subject: str
    ) -> PlannedRotation | None:
        if self.ended(rotation.end, subject):
            return None
        turn = _TURNS.get(rotation.type)
        if turn is None:
            self.note(subject, f"rotation type {rotation.type!r} is not one pager reads: left out")
            return None
        if rotation.end is not None:
            self.note(
                subject,
                f"ends {rotation.end.isoformat()}, and pager rotations do not "
                "end: it goes on after that (delete it then)",
            )
        members = []
        for participant in rotation.participants:
            person = self._user_of(participant) if participant.type == "user" else None
            if person is not None:
                members.append(person.id)
                continue
            what = (
                "a turn for nobody ('none')"
                if participant.type == "none"
                else f"the {participant.type} {participant.name or participant.id}"
            )
            self.note(
                subject,
                f"{what} is left out (pager's turns are people's), so the "
                "turns of the others differ from Opsgenie's",
            )
        if not self.members(tuple(members), subject):
            return None
        layer = PlannedLayer(
            zone,
            local(rotation.start, zone),
            turn * rotation.length,
            tuple(members),
            _windows(rotation.spans),
        )
        return PlannedRotation(self.ids.make("rotation", name), zone, (layer,), name)

    def _override(
        self, override: og.Override, schedule: og.Schedule, subject: str
    ) -> list[PlannedOverride]:
        if override.end <= self.now:
            return []
        person = self._user_of(override.user)
        if person is None:
            self.left_out_override(subject, override.user.name or override.user.id, override.start)
            return []
        covered = override.rotations or tuple(r.id for r in schedule.rotations)
        return [
            PlannedOverride(self.rotations[r].id, person.id, override.start, override.end)
            for r in covered
            if r in self.rotations
        ]

    def _timeline(self, schedule: og.Schedule) -> list[VendorShift]:
        """Opsgenie's final timeline of each rotation, nobody's gaps included."""
        shifts: list[VendorShift] = []
        for rotation_id in self.of_schedule[schedule.id]:
            periods = (p for p in schedule.timeline if p.rotation == rotation_id)
            shifts.extend(
                rendered_shifts(self.rotations[rotation_id].id, map(self._period, periods))
            )
        return shifts

    def _period(self, period: og.Period) -> Rendered:
        recipient = period.recipient
        person = self._user_of(recipient) if recipient and recipient.type == "user" else None
        compared = person is not None or recipient is None or recipient.type == "none"
        return Rendered(period.start, period.end, person.id if person else None, compared)

    # Escalations and services

    def policy(self, escalation: og.Escalation) -> None:
        subject = f"escalation '{escalation.name}'"
        by_delay: dict[timedelta, list[str]] = {}
        for number, rule in enumerate(escalation.rules, start=1):
            if rule.condition != "if-not-acked":
                self.note(
                    subject,
                    f"rule {number} runs {rule.condition}, and pager stops "
                    "escalating at the acknowledgement: it runs if not acknowledged",
                )
            targets = self._targets(rule, subject, number)
            if targets:
                by_delay.setdefault(rule.delay, []).extend(targets)
        if not by_delay:
            self.note(subject, "no rule left: left out, with what routes to it")
            return
        delays = sorted(by_delay)
        if delays[0]:
            self.note(
                subject,
                f"the first rule waits {_minutes(delays[0])} after the alert; "
                "pager's first step pages at once",
            )
        if escalation.repeat_resets:
            self.note(
                subject,
                "repeat's 'reset recipient states' and 'close the alert after "
                "all repeats' are not carried over",
            )
        last_wait = escalation.repeat_wait if escalation.repeat_count else timedelta(0)
        steps = tuple(
            PlannedStep(
                tuple(dict.fromkeys(by_delay[delay])),
                delays[i + 1] - delay if i + 1 < len(delays) else last_wait,
            )
            for i, delay in enumerate(delays)
        )
        self.add_policy(escalation.id, escalation.name, escalation.repeat_count, steps)

    def _targets(self, rule: og.EscalationRule, subject: str, number: int) -> list[str]:
        recipient = rule.recipient
        if recipient.type == "user":
            person = self._user_of(recipient)
            if person is not None:
                return [f"person:{person.id}"]
        elif recipient.type == "schedule" and rule.notify in ("default", "all"):
            kind = "rotation" if rule.notify == "default" else "members"
            rotations = self.of_schedule.get(recipient.id, [])
            if rotations:
                return [f"{kind}:{self.rotations[r].id}" for r in rotations]
        elif recipient.type == "schedule":
            self.note(
                subject,
                f"rule {number} notifies the {rule.notify} on-call of "
                f"'{recipient.name}', which pager does not have: left out",
            )
            return []
        what = f"the {recipient.type} {recipient.name or recipient.id}"
        why = "not imported" if recipient.type in ("user", "schedule") else "pager has no teams"
        self.note(subject, f"rule {number}: {what} is left out ({why})")
        return []

    def service(self, service: og.Service) -> PlannedService | None:
        subject = f"service '{service.name}'"
        policy = None
        for rule in service.routing:
            target = rule.notify
            if rule.default and target.type == "escalation" and target.id in self.policies:
                policy = self.policies[target.id]
            elif rule.default:
                self.note(
                    subject,
                    f"its team's default routing notifies the {target.type} "
                    f"{target.name or target.id}, not an imported escalation",
                )
            else:
                self.note(
                    subject,
                    f"its team's routing rule '{rule.name}' routes on conditions "
                    "pager does not have (a service pages one policy): left out",
                )
        if policy is None:
            self.note(subject, "no escalation to page: left out")
            return None
        return self.add_service(service.name, policy)


def _windows(spans: tuple[og.Span, ...]) -> tuple[Window, ...]:
    found: list[Window] = []
    for span in spans:
        opens = time(span.start // 60 % 24, span.start % 60)
        if span.start_day is None or span.end_day is None:
            length = timedelta(minutes=(span.end - span.start) % 1440) or DAY
            windows = span_windows(None, opens, length)
        else:
            minutes = (span.end_day * 1440 + span.end) - (span.start_day * 1440 + span.start)
            windows = span_windows(
                span.start_day, opens, timedelta(minutes=minutes % 10080) or WEEK
            )
        if not windows:
            return ()
        found.extend(windows)
    return joined(found)


def _minutes(delta: timedelta) -> str:
    return f"{int(delta.total_seconds() // 60)} min"
