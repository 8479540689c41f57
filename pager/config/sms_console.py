"""The `sms_console:` section: how the commands people send by SMS behave."""

from __future__ import annotations

from datetime import timedelta

from pager.config.delivery import DeliveryReader
from pager.config.model import SmsConsoleSettings
from pager.domain.durations import format_duration
from pager.domain.yamldoc import Map

SMS_CONSOLE_KEYS = {"max_snooze"}
# A snooze shorter than a minute is no snooze; one longer than a day is a maintenance window
# (`pager silence`), which says why the service is quiet.
MAX_SNOOZE_RANGE = (timedelta(minutes=1), timedelta(days=1))


class SmsConsoleReader(DeliveryReader):
    def sms_console(self, doc: Map) -> SmsConsoleSettings:
        """`sms_console: {max_snooze: 4h}`, each optional."""
        base = SmsConsoleSettings()
        section = self.section(doc, "sms_console", "sms_console: expected a mapping")
        if section is None:
            return base
        self.keys(section, SMS_CONSOLE_KEYS, "sms_console")
        value = self.duration(section, "max_snooze", "sms_console")
        if value is None:
            return base
        shortest, longest = MAX_SNOOZE_RANGE
        if not shortest <= value <= longest:
            span = f"{format_duration(shortest)} and {format_duration(longest)}"
            self.problem(section.at("max_snooze"), f"sms_console max_snooze: between {span}")
            return base
        return SmsConsoleSettings(max_snooze=value)
