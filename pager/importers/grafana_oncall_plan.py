"""A Grafana OnCall organisation (`grafana_oncall.Account`) in pager's terms, and notes on the
rest.

A schedule becomes a rotation; each of its rotations (on-call shifts of `rolling_users` or
`recurrent_event` type) a layer, the higher `level` listed later (pager's last layer wins);
its overrides and one-off events become overrides.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from math import gcd

from pager.domain.layers import Window
from pager.domain.notify_rules import NotifyRule, NotifyRules
from pager.importers import grafana_oncall as go
from pager.importers.grafana_oncall_chains import ChainPlanner
from pager.importers.plan import (
    DAY,
    WEEK,
    Options,
    Plan,
    PlannedLayer,
    PlannedOverride,
    PlannedRotation,
    PlannedService,
    VendorShift,
    joined,
    local,
    span_windows,
)
from pager.importers.planner import Planner, Rendered, rendered_shifts

_UNITS = {"hourly": timedelta(hours=1), "daily": DAY, "weekly": WEEK}
_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_CHANNELS = {"notify_by_sms": "sms", "notify_by_phone_call": "voice"}


def plan(account: go.Account, options: Options) -> Plan:
    """What to write for `account` as it stands at `options.now`."""
    return _Planner(account, options).plan(
        account.users, account.schedules, account.chains, account.integrations
    )


class _Planner(Planner[go.User, go.Schedule, go.Chain, go.Integration]):
    def __init__(self, account: go.Account, options: Options) -> None:
        super().__init__(go.VENDOR, options)
        self.account = account  # rotations: by schedule id
        self.names = {u.id: u.email or u.username for u in account.users}
        self.chains = ChainPlanner(self.people, self.rotations, self.names, self.ids, self.notes)
        self.policies = self.chains.policies  # by chain id
        if account.rules is None:
            self.note(
                "personal notification rules",
                "not readable with this key (they need "
                "a user's key), so pager texts everyone at once (its default)",
            )

    def policy(self, policy: go.Chain) -> None:
        self.chains.policy(policy)

    def service(self, service: go.Integration) -> PlannedService | None:
        return self.chains.service(service)

    # People

    def person(self, user: go.User) -> None:
        subject = f"user '{user.email or user.username}' ({user.id})"
        phone = self.options.phone_of(user.email, user.username)
        if phone is None:
            self.note(
                subject,
                "Grafana OnCall's API gives no phone numbers, and --phones has "
                "none for them: left out, and so out of every rotation and chain",
            )
            return
        zone = self.zone_or_utc(user.timezone, subject)
        rules = self._notify(user, subject)
        id_from = (user.username, user.email.partition("@")[0])
        name = user.username or user.email
        self.add_person(user.id, id_from, name, phone, zone, NotifyRules(rules, rules))

    def _notify(self, user: go.User, subject: str) -> tuple[NotifyRule, ...]:
        """Their default rules (OnCall has no urgencies: pager's both get them); the
        "important" ones go with escalation steps marked important, which pager lacks."""
        mine = sorted(
            (r for r in self.account.rules or () if r.user == user.id), key=lambda r: r.position
        )
        if any(r.important for r in mine):
            self.note(
                subject,
                "the important notification rules are not carried over "
                "(pager has no important escalation steps)",
            )
        found: list[NotifyRule] = []
        delay = timedelta(0)
        for rule in (r for r in mine if not r.important):
            if rule.type == "wait":
                delay += rule.wait
            elif rule.type in _CHANNELS:
                carried = NotifyRule(_CHANNELS[rule.type], delay)
                if carried not in found:
                    found.append(carried)
            else:
                self.note(
                    subject,
                    f"the rule {rule.type} is not carried over: pager pages by SMS and voice",
                )
        return tuple(found)

    # Rotations

    def schedule(
        self, schedule: go.Schedule, overrides: list[PlannedOverride], shifts: list[VendorShift]
    ) -> None:
        subject = f"schedule '{schedule.name}'"
        if schedule.type == "ical":
            self.note(subject, "an iCal schedule (its calendar lives elsewhere): left out")
            return
        zone = self.zone_or_utc(schedule.time_zone or "UTC", subject)
        if schedule.overrides_calendar:
            self.note(subject, "its overrides calendar (ical_url_overrides) is not read")
        rotation_id = self.ids.make("rotation", schedule.name)
        layers: list[PlannedLayer] = []
        mine: list[PlannedOverride] = []
        levels: dict[int, str] = {}
        for shift in sorted(schedule.shifts, key=lambda s: s.level):
            where = f"{subject}, shift '{shift.name}'"
            if shift.type in ("override", "single_event"):
                mine.extend(self._override(shift, rotation_id, where))
                continue
            carried = self._layers(shift, zone, where)
            if carried and shift.level in levels:
                self.note(
                    where,
                    f"on the same level as '{levels[shift.level]}': OnCall puts "
                    "both on call where they meet, pager the one listed later",
                )
            if carried:
                levels.setdefault(shift.level, shift.name)
            layers.extend(carried)
        if not layers:
            self.note(subject, "no rotation pager can carry over: left out")
            return
        self.rotations[schedule.id] = PlannedRotation(
            rotation_id, zone, tuple(layers), schedule.name
        )
        overrides.extend(mine)
        shifts.extend(self._final(schedule, rotation_id))

    def _layers(self, shift: go.Shift, zone: str, subject: str) -> list[PlannedLayer]:
        if self.ended(shift.until, subject):
            return []
        unit = _UNITS.get(shift.frequency or "")
        if unit is None or shift.by_month_or_monthday:
            how = "on days of months" if shift.by_month_or_monthday else shift.frequency or "never"
            self.note(
                subject,
                f"repeats {how}, and pager's layers repeat hourly, daily or weekly: left out",
            )
            return []
        own = shift.time_zone or zone
        if not self.zone_known(own, subject):
            return []
        if shift.until is not None:
            self.note(
                subject,
                f"ends {shift.until.isoformat()}, and pager layers do not end: "
                "it goes on after that (delete it then)",
            )
        if shift.rotation_start is not None and shift.rotation_start > self.now:
            self.note(
                subject,
                f"takes effect {shift.rotation_start.isoformat()}; pager applies "
                f"it from its first turn, {shift.start.isoformat()}",
            )
        members = self.members(self._members(shift, subject), subject)
        if not members:
            return []
        start = local(shift.start, own)
        days = sorted({_DAYS.index(day) for day in shift.by_day})
        if len(days) == 7:
            days = []
        if shift.frequency == "daily" and days:
            return self._on_days(shift, own, members, days, subject)
        first = start + self._first_day(start.weekday(), days, shift) * DAY
        windows = self._windows(shift, first, days, subject)
        if windows is None:
            return []
        return [PlannedLayer(own, first, unit * shift.interval, members, windows)]

    def _members(self, shift: go.Shift, subject: str) -> tuple[str, ...]:
        index = shift.start_index % len(shift.groups) if shift.groups else 0
        found = []
        for group in shift.groups[index:] + shift.groups[:index]:
            taken = [u for u in group if u in self.people]
            if len(group) > 1:
                names = ", ".join(self.names.get(u, u) for u in group)
                self.note(
                    subject,
                    f"{names} are on call together in OnCall; pager's turns are "
                    "one person's: only the first imported of them",
                )
            if taken:
                found.append(self.people[taken[0]].id)
            else:
                names = ", ".join(self.names.get(u, u) for u in group) or "nobody"
                self.note(
                    subject,
                    f"the turn of {names} is left out (not imported), so the "
                    "turns of the others differ from OnCall's",
                )
        return tuple(found)

    def _first_day(self, weekday: int, days: list[int], shift: go.Shift) -> int:
        """How many days after `start` OnCall has its first event: the first chosen day of
        the week (from `week_start`) when the start's own day is not chosen."""
        if not days or weekday in days:
            return 0
        week_start = _DAYS.index(shift.week_start or "SU")
        first = next(d % 7 for d in range(week_start, week_start + 7) if d % 7 in days)
        return (first - weekday) % 7

    def _windows(
        self, shift: go.Shift, start: datetime, days: list[int], subject: str
    ) -> tuple[Window, ...] | None:
        """The windows of a shift shorter than its turn (from `start`, local); None if
        pager cannot write them."""
        length = shift.duration
        if not days and length >= _UNITS[shift.frequency or ""] * shift.interval:
            return ()
        if shift.frequency == "hourly" or shift.interval > 1:
            self.note(
                subject,
                f"on call {length} of every {shift.interval} {shift.frequency} "
                "turn, which pager's weekly windows cannot say: left out",
            )
            return None
        if shift.frequency == "daily":
            return span_windows(None, start.time(), length)
        week_start = _DAYS.index(shift.week_start or "SU")
        if days and min((d - week_start) % 7 for d in days) < (start.weekday() - week_start) % 7:
            self.note(
                subject,
                "OnCall hands over at its week start, pager at the turn's start "
                "time: the turns differ on the days between",
            )
        found = [
            w for day in days or [start.weekday()] for w in span_windows(day, start.time(), length)
        ]
        return joined(found)

    def _on_days(
        self, shift: go.Shift, zone: str, members: tuple[str, ...], days: list[int], subject: str
    ) -> list[PlannedLayer]:
        """A daily rotation on some days of the week hands over at each of those days, so
        each day becomes a weekly layer of its own with the turns that fall on it."""
        if shift.interval > 1:
            self.note(subject, f"every {shift.interval} days on some weekdays: left out")
            return []
        start = local(shift.start, zone)
        first = start + self._first_day(start.weekday(), days, shift) * DAY
        offsets = sorted((day - first.weekday()) % 7 for day in days)
        count, slots = len(members), len(offsets)
        weeks = count // gcd(slots, count)
        return [
            PlannedLayer(
                zone,
                first + offset * DAY,
                WEEK,
                tuple(members[(week * slots + slot) % count] for week in range(weeks)),
                span_windows((first.weekday() + offset) % 7, first.time(), shift.duration),
            )
            for slot, offset in enumerate(offsets)
        ]

    def _override(self, shift: go.Shift, rotation_id: str, subject: str) -> list[PlannedOverride]:
        end = shift.start + shift.duration
        if shift.until is not None:
            end = min(end, shift.until)
        if end <= self.now:
            return []
        if shift.frequency:
            self.note(
                subject,
                f"a {shift.frequency} repeating {shift.type.replace('_', ' ')}: "
                "left out (pager's overrides happen once)",
            )
            return []
        users = [u for group in shift.groups for u in group]
        taken = [u for u in users if u in self.people]
        if not taken:
            self.note(subject, "its people are not imported: left out")
            return []
        if len(users) > 1:
            self.note(
                subject,
                f"several people at once: only the first imported, {self.people[taken[0]].id}",
            )
        if shift.type == "single_event":
            self.note(
                subject,
                "a one-off event, written as an override (it wins over every "
                "layer, whatever its level)",
            )
        return [PlannedOverride(rotation_id, self.people[taken[0]].id, shift.start, end)]

    def _final(self, schedule: go.Schedule, rotation_id: str) -> list[VendorShift]:
        """OnCall's final shifts, nobody's gaps included; where two people are on call at
        once (which pager cannot be) the later entry is not compared."""
        entries = (
            Rendered(e.start, e.end, person.id if person else None, person is not None)
            for e in schedule.final
            for person in [self.people.get(e.user)]
        )
        return rendered_shifts(rotation_id, entries, one_at_a_time=True)
