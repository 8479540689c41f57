"""A PagerDuty account (`pagerduty.Account`) in pager's terms: people, rotations (a schedule's
layers, restrictions and overrides), policies and services, and notes on the rest."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from pager.domain.layers import Window
from pager.domain.notify_rules import NotifyRule, NotifyRules
from pager.domain.rotation_fields import MIN_SHIFT
from pager.importers import pagerduty as pd
from pager.importers.plan import (
    Options,
    Plan,
    PlannedLayer,
    PlannedOverride,
    PlannedRotation,
    PlannedService,
    PlannedStep,
    VendorShift,
    after_text,
    agreeing,
    e164,
    joined,
    known_zone,
    local,
    span_windows,
)
from pager.importers.planner import Planner, Rendered, rendered_shifts

_CHANNELS = {"sms_contact_method": "sms", "phone_contact_method": "voice"}
_CONTACT_NAMES = {
    "sms_contact_method": "SMS",
    "phone_contact_method": "phone",
    "email_contact_method": "email",
    "push_notification_contact_method": "push notification",
    "whatsapp_contact_method": "WhatsApp",
}
_SERVICE_SETTINGS = {
    "acknowledgement_timeout": "pager's policies have `ack_timeout` (set it by hand)",
    "auto_resolve_timeout": "pager does not resolve incidents on a timer",
    "incident_urgency_rule": "pager takes the urgency from each alert",
    "support_hours": "pager takes the urgency from each alert",
    "scheduled_actions": "pager takes the urgency from each alert",
    "alert_grouping_parameters": "pager groups alerts by their dedup key",
    "auto_pause_notifications_parameters": "pager has no pause for transient alerts",
    "integrations": "set up the alert sources in pager.yaml (docs/sources.md)",
}


def plan(account: pd.Account, options: Options) -> Plan:
    """What to write for `account`, as it stands at `options.now` (ended layers and past
    overrides are left out)."""
    return _Planner(account, options).plan(
        account.users, account.schedules, account.policies, account.services
    )


class _Planner(Planner[pd.User, pd.Schedule, pd.EscalationPolicy, pd.Service]):
    def __init__(self, account: pd.Account, options: Options) -> None:
        super().__init__(pd.VENDOR, options)
        self.account = account  # rotations: by schedule id
        self.names = {user.id: user.name for user in account.users}

    # People

    def person(self, user: pd.User) -> None:
        subject = f"user '{user.name}' ({user.id})"
        phone = self._phone(user, subject) or self.options.phone_of(user.email)
        if phone is None:
            self.note(
                subject,
                "no SMS or phone contact method with a valid number: left out, "
                "and so out of every rotation and escalation step",
            )
            return
        zone = self.zone_or_utc(user.time_zone, subject)
        others = (_said(c.type) for c in user.contacts if c.type not in _CHANNELS)
        self.other_contacts(subject, others, "contact methods")
        rules = self._notify(user, phone, subject)
        self.add_person(
            user.id, (user.email.partition("@")[0], user.name), user.name, phone, zone, rules
        )

    def _phone(self, user: pd.User, subject: str) -> str | None:
        """The number pager pages on: the first SMS contact method, else the first phone."""
        for kind in _CHANNELS:
            for contact in user.contacts:
                if contact.type == kind and (number := self._number(contact, subject)):
                    return number
        return None

    def _number(self, contact: pd.Contact, subject: str) -> str | None:
        number = _number(contact)
        if number is None:
            self.note(subject, f"{contact.type} {contact.id}: not a valid number: left out")
        return number

    def _notify(self, user: pd.User, phone: str, subject: str) -> NotifyRules:
        rules: dict[str, list[NotifyRule]] = {"high": [], "low": []}
        numbers = {c.id: _number(c) for c in user.contacts if c.type in _CHANNELS}
        for rule in sorted(user.rules, key=lambda r: r.delay):
            channel = _CHANNELS.get(rule.contact_type)
            after = after_text(rule.delay)
            if channel is None or rule.urgency not in rules:
                self.note(
                    subject,
                    f"{rule.urgency} urgency: the rule by "
                    f"{_said(rule.contact_type)}{after} is not carried over",
                )
                continue
            said = f"{rule.urgency} urgency: {channel}{after}"
            self.other_number(subject, said, phone, numbers.get(rule.contact_id))
            found = NotifyRule(channel, rule.delay)
            if found not in rules[rule.urgency]:
                rules[rule.urgency].append(found)
        for urgency in ("high", "low"):
            if not rules[urgency] and any(r.urgency == urgency for r in user.rules):
                self.note(
                    subject,
                    f"{urgency} urgency: no rule by SMS or phone, so pager "
                    "texts them at once (its default)",
                )
        return NotifyRules(high=tuple(rules["high"]), low=tuple(rules["low"]))

    # Rotations

    def schedule(
        self, schedule: pd.Schedule, overrides: list[PlannedOverride], shifts: list[VendorShift]
    ) -> None:
        subject = f"schedule '{schedule.name}' ({schedule.id})"
        zone = schedule.time_zone
        if not known_zone(zone):
            self.note(subject, f"time zone {zone!r} is not a tz database name: left out")
            return
        rotation_id = self.ids.make("rotation", schedule.name)
        # The API lists the layer that wins first, the opposite of the order a POST takes (so
        # PagerDuty's Terraform provider reverses what it reads); pager's last layer wins.
        layers = [
            self._layer(layer, zone, f"{subject}, layer '{layer.name}'")
            for layer in reversed(schedule.layers)
        ]
        planned = [layer for layer in layers if layer]
        if not planned:
            self.note(subject, "no layer pager can carry over: left out")
            return
        rotation = PlannedRotation(rotation_id, zone, tuple(planned), schedule.name)
        mine = [
            o
            for o in map(lambda e: self._override(e, rotation_id, subject), schedule.overrides)
            if o
        ]
        theirs = self._final(schedule, rotation_id)
        rotation = self._layer_order(rotation, mine, theirs, subject)
        self.rotations[schedule.id] = rotation
        overrides.extend(mine)
        shifts.extend(theirs)

    def _layer(self, layer: pd.Layer, zone: str, subject: str) -> PlannedLayer | None:
        if self.ended(layer.end, subject):
            return None
        if layer.turn < MIN_SHIFT:
            self.note(
                subject,
                f"turns of {layer.turn} are shorter than pager's shortest shift (1h): left out",
            )
            return None
        if layer.end is not None:
            self.note(
                subject,
                f"ends {layer.end.isoformat()}, and pager layers do not end: "
                "it goes on after that (delete the layer then)",
            )
        anchor = local(layer.virtual_start, zone)
        turns = max(0, (local(layer.start, zone) - anchor) // layer.turn)
        start = anchor + turns * layer.turn
        if start.second or start.microsecond:
            self.note(subject, f"handoffs at {start.time()} are written to the minute")
            start = start.replace(second=0, microsecond=0)
        if layer.start > self.now and local(layer.start, zone) != start:
            self.note(
                subject,
                f"starts {layer.start.isoformat()}, inside a turn: pager starts "
                f"it at that turn's handoff, {start.isoformat()} {zone}",
            )
        order = layer.users[turns % len(layer.users) :] + layer.users[: turns % len(layer.users)]
        members = tuple(self.people[u].id for u in order if u in self.people)
        left_out = sorted({self.names.get(u, u) for u in order if u not in self.people})
        if left_out:
            self.note(
                subject,
                f"{', '.join(left_out)} left out of the turns (no usable "
                "number), so the turns of the others differ from PagerDuty's",
            )
        if not self.members(members, subject):
            return None
        windows = self._windows(layer.restrictions, subject)
        return PlannedLayer(zone, start, layer.turn, members, windows)

    def _windows(
        self, restrictions: tuple[pd.Restriction, ...], subject: str
    ) -> tuple[Window, ...]:
        found: list[Window] = []
        for restriction in restrictions:
            opens = restriction.start_time
            if opens.second or restriction.duration.total_seconds() % 60:
                self.note(
                    subject,
                    f"the {restriction.type} from {opens} for "
                    f"{restriction.duration} is written to the minute",
                )
                opens = opens.replace(second=0, microsecond=0)
            length = timedelta(minutes=restriction.duration.total_seconds() // 60)
            day = None if restriction.start_day is None else restriction.start_day - 1
            windows = span_windows(day, opens, length)
            if not windows:
                return ()  # the layer applies at all times
            found.extend(windows)
        return joined(found)

    def _override(self, entry: pd.Entry, rotation_id: str, subject: str) -> PlannedOverride | None:
        if entry.end <= self.now:
            return None  # over: nothing to carry
        person = self.people.get(entry.user or "")
        if person is None:
            self.left_out_override(
                subject, self.names.get(entry.user or "", entry.user), entry.start
            )
            return None
        return PlannedOverride(rotation_id, person.id, entry.start, entry.end)

    def _final(self, schedule: pd.Schedule, rotation_id: str) -> list[VendorShift]:
        """PagerDuty's rendered final schedule, nobody's gaps included, for the check."""
        return rendered_shifts(
            rotation_id,
            (
                Rendered(e.start, e.end, self.people[e.user].id if e.user else None)
                if e.user in self.people or e.user is None
                else Rendered(e.start, e.end, None, compared=False)
                for e in schedule.final
            ),
        )

    def _layer_order(
        self,
        rotation: PlannedRotation,
        overrides: list[PlannedOverride],
        shifts: list[VendorShift],
        subject: str,
    ) -> PlannedRotation:
        """The layers in the order that matches PagerDuty's final schedule best; the
        documented order unless the other one matches strictly better."""
        if len(rotation.layers) < 2 or not shifts:
            return rotation
        other = replace(rotation, layers=rotation.layers[::-1])
        if agreeing(other, overrides, shifts) > agreeing(rotation, overrides, shifts):
            self.note(
                subject,
                "the layers are taken in the order the API listed them, the "
                "last winning, as that matches PagerDuty's final schedule",
            )
            return other
        return rotation

    # Policies and services

    def policy(self, policy: pd.EscalationPolicy) -> None:
        subject = f"escalation policy '{policy.name}' ({policy.id})"
        steps = []
        for number, rule in enumerate(policy.rules, start=1):
            targets = [t for t in (self._target(t, subject, number) for t in rule.targets) if t]
            if not targets:
                self.note(subject, f"rule {number} pages nobody pager has: left out")
                continue
            steps.append(PlannedStep(tuple(targets), rule.delay, rule.round_robin))
        if not steps:
            self.note(subject, "no rule left: left out, with the services it pages for")
            return
        self.add_policy(policy.id, policy.name, policy.loops, steps)

    def _target(self, target: tuple[str, str], subject: str, number: int) -> str | None:
        kind, target_id = target
        if kind == "user" and target_id in self.people:
            return f"person:{self.people[target_id].id}"
        if kind == "schedule" and target_id in self.rotations:
            return f"rotation:{self.rotations[target_id].id}"
        name = self.names.get(target_id, target_id)
        why = "not imported" if kind in ("user", "schedule") else "pager does not read those"
        self.note(subject, f"rule {number}: the {kind} target {name} is left out ({why})")
        return None

    def service(self, service: pd.Service) -> PlannedService | None:
        subject = f"service '{service.name}' ({service.id})"
        policy = self.policies.get(service.policy or "")
        if policy is None:
            self.note(subject, "its escalation policy is not imported: left out")
            return None
        if service.status == "disabled":
            self.note(
                subject,
                "disabled in PagerDuty, and pager has no disabled services: imported as active",
            )
        for setting in service.settings:
            self.note(subject, f"{setting} is not carried over: {_SERVICE_SETTINGS[setting]}")
        return self.add_service(service.name, policy)


def _said(contact_type: str) -> str:
    return _CONTACT_NAMES.get(contact_type, contact_type)


def _number(contact: pd.Contact) -> str | None:
    """A phone or SMS contact method's number (country code and address) in E.164."""
    return e164(f"{contact.country_code or ''}{contact.address}")
