"""The `webhooks:` section: where pager tells other tools what happened (n8n, Zapier, Make,
Slack, ticketing), each entry a URL, the events it wants and its format."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import timedelta

from pager.config.delivery import DeliveryReader
from pager.config.model import WEBHOOK_EVENTS, WebhookSettings
from pager.domain.yamldoc import Map, Seq

KEYS = {"name", "url", "secret", "events", "format", "timeout"}
FORMATS = ("standard", "slack")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,59}")
LONGEST_TIMEOUT = timedelta(seconds=30)


class WebhookReader(DeliveryReader):
    def webhooks(self, doc: Map) -> tuple[WebhookSettings, ...]:
        """`webhooks: [{name: n8n, url: https://..., secret: ${X}, events: [...]}]`."""
        if "webhooks" not in doc:
            return ()
        value = doc["webhooks"]
        if not isinstance(value, Seq):
            self.problem(doc.at("webhooks"), "webhooks: expected a list of entries")
            return ()
        found: dict[str, WebhookSettings] = {}
        for i, entry in enumerate(value):
            if not isinstance(entry, Map):
                self.problem(value.at(i), "webhooks: each entry is a mapping with name and url")
                continue
            hook = self.webhook(entry)
            if hook is None:
                continue
            if hook.name in found:
                self.problem(entry.at("name"), f"webhook '{hook.name}' is named twice")
                continue
            found[hook.name] = hook
        return tuple(found.values())

    def webhook(self, entry: Map) -> WebhookSettings | None:
        self.keys(entry, KEYS, "webhook")
        name = self.text(entry.get("name", ""), entry.at("name"), "webhook name")
        what = f"webhook '{name}'"
        if not NAME.fullmatch(name):
            self.problem(entry.at("name"), "webhook name: 1-60 letters, digits, '-', '_' or '.'")
            return None
        url = self.text(entry.get("url", ""), entry.at("url"), f"{what} url")
        if not re.match(r"https?://[^/\s]+", url):
            self.problem(entry.at("url"), f"{what} url: expected an http:// or https:// URL")
        kind = self.text(entry.get("format", "standard"), entry.at("format"), f"{what} format")
        if kind not in FORMATS:
            self.problem(
                entry.at("format"), f"{what} format: '{kind}' unknown (known: {', '.join(FORMATS)})"
            )
        secret = self.text(entry.get("secret", ""), entry.at("secret"), f"{what} secret")
        if kind == "standard" and not _standard_secret(secret):
            self.problem(
                entry.at("secret") if "secret" in entry else entry.where,
                f"{what} secret: a Standard Webhooks secret is whsec_ and base64 of 24-64 "
                "random bytes, from the environment (secret: ${N8N_WEBHOOK_SECRET})",
            )
        timeout = self.duration(entry, "timeout", what) or timedelta(seconds=10)
        if timeout > LONGEST_TIMEOUT:
            self.problem(entry.at("timeout"), f"{what} timeout: at most 30s")
        events = self.choices(entry, "events", what, WEBHOOK_EVENTS, "[incident.triggered]")
        return WebhookSettings(name, url, secret, events, kind, min(timeout, LONGEST_TIMEOUT))


def _standard_secret(secret: str) -> bool:
    if not secret.startswith("whsec_"):
        return False
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        return False
    return 24 <= len(key) <= 64
