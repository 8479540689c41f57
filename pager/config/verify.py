"""The `verify:` section: the team's own applications that send codes through pager's
Twilio-Verify-compatible API, one entry per Service SID."""

from __future__ import annotations

import re
from datetime import timedelta

from pager.config.delivery import DeliveryReader
from pager.config.model import VerifyService
from pager.domain.yamldoc import Map

SERVICE_SID = re.compile(r"VA[0-9a-f]{32}")
VERIFY_KEYS = {"services"}
SERVICE_KEYS = {"name", "token", "code_length", "ttl", "channels", "per_minute"}
CHANNELS = ("sms", "call")
TTL_RANGE = (timedelta(minutes=5), timedelta(minutes=10))
CODE_LENGTHS = range(4, 11)
PER_MINUTE = range(1, 10_001)


class VerifyReader(DeliveryReader):
    def verify_services(self, doc: Map) -> dict[str, VerifyService]:
        """`verify: {services: {VA...: {name: Acme, token: ${TOKEN}, ttl: 10m}}}`."""
        verify = self.section(doc, "verify", "verify: expected a mapping with 'services'")
        if verify is None:
            return {}
        self.keys(verify, VERIFY_KEYS, "verify")
        services = self.section(verify, "services", "verify services: expected a mapping by SID")
        if services is None:
            return {}
        result = {}
        for sid, entry in services.items():
            what = f"verify service '{sid}'"
            if not SERVICE_SID.fullmatch(str(sid)):
                self.problem(services.at(sid), f"{what}: a Service SID is VA and 32 hex digits")
                continue
            if not isinstance(entry, Map):
                self.problem(services.at(sid), f"{what}: expected name and token")
                continue
            service = self.verify_service(str(sid), entry, what)
            if service is not None:
                result[service.sid] = service
        return result

    def verify_service(self, sid: str, entry: Map, what: str) -> VerifyService | None:
        self.keys(entry, SERVICE_KEYS, what)
        missing = [key for key in ("name", "token") if key not in entry]
        for key in missing:
            self.problem(entry.where, f"{what}: missing '{key}'")
        name = self.text(entry.get("name", ""), entry.at("name"), f"{what} name")
        token = self.text(entry.get("token", ""), entry.at("token"), f"{what} token")
        if "name" in entry and not 1 <= len(name) <= 30:
            self.problem(entry.at("name"), f"{what} name: 1-30 characters (it is in the SMS)")
        if "token" in entry and not token:
            self.problem(entry.at("token"), f"{what} token: empty")
        length = self.whole_number(entry, "code_length", what, 6, CODE_LENGTHS)
        per_minute = self.whole_number(entry, "per_minute", what, 60, PER_MINUTE)
        ttl = self.duration(entry, "ttl", what) or TTL_RANGE[1]
        if not TTL_RANGE[0] <= ttl <= TTL_RANGE[1]:
            self.problem(entry.at("ttl"), f"{what} ttl: between 5m and 10m")
        channels = self.choices(entry, "channels", what, CHANNELS, "[sms, call]")
        if missing or not name or not token:
            return None
        return VerifyService(sid, name, token, length, ttl, channels, per_minute)

    def whole_number(self, entry: Map, key: str, what: str, default: int, allowed: range) -> int:
        if key not in entry:
            return default
        value = entry[key]
        if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
            self.problem(
                entry.at(key),
                f"{what} {key}: expected a whole number {allowed.start}-{allowed.stop - 1}, "
                f"got {value!r}",
            )
            return default
        return value
