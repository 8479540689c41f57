"""A provider that needs no account: messages land on pretend phones shown at `/sandbox`.

It cannot write to the database itself (providers never do); the daemon hands it a `record`
function that stores each message.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from pager.config import ProviderSettings
from pager.providers.base import (
    BuildContext,
    InboundSms,
    KeypadInput,
    Sent,
    StatusUpdate,
    WebhookInvalid,
    WebRequest,
    WebResponse,
)


@dataclass(frozen=True)
class PhoneMessage:
    at: datetime
    number: str  # the pretend phone's number
    direction: str  # out: to the phone; in: from it
    channel: str  # sms | voice
    body: str
    message_id: str


Recorder = Callable[[PhoneMessage], None]


class SandboxProvider:
    channels = frozenset({"sms", "voice"})

    def __init__(self, name: str, token: str, record: Recorder, from_number: str = "pager") -> None:
        self.name = name
        self.token = token
        self.from_number = from_number
        self._record = record

    def _put(self, number: str, direction: str, channel: str, body: str) -> str:
        message_id = "SB" + secrets.token_hex(16)
        self._record(PhoneMessage(datetime.now(UTC), number, direction, channel, body, message_id))
        return message_id

    def send_sms(self, to: str, body: str, status_url: str, reference: str | None = None) -> Sent:
        return Sent(self._put(to, "out", "sms", body), "delivered")

    def call(self, to: str, speech: str, keypad_url: str, status_url: str) -> Sent:
        # The phone page offers the keypad; it posts to /providers/<name>/voice with this id.
        return Sent(self._put(to, "out", "voice", speech), "answered")

    def verify_webhook(self, request: WebRequest) -> bool:
        given = request.form.get("token") or request.query.get("token") or ""
        return hmac.compare_digest(given.encode(), self.token.encode())

    def parse_inbound(self, request: WebRequest) -> InboundSms:
        sender = _field(request, "from")
        body = request.form.get("body", "")
        message_id = self._put(sender, "in", "sms", body)
        return InboundSms(sender, self.from_number, body, message_id)

    def parse_status(self, request: WebRequest) -> StatusUpdate:
        raise WebhookInvalid("the sandbox reports delivery when it sends; it takes no status")

    def parse_keypad(self, request: WebRequest) -> KeypadInput:
        call_id = _field(request, "call")
        digits = _field(request, "digits")
        caller = _field(request, "from")
        self._put(caller, "in", "voice", f"pressed {digits}")  # the phone shows the press
        return KeypadInput(call_id, digits, caller)

    def sms_reply(self, inbound: InboundSms, text: str | None) -> WebResponse:
        if text:
            self._put(inbound.sender, "out", "sms", text)
        return WebResponse(json.dumps({"reply": text}), "application/json")

    def voice_reply(self, pressed: KeypadInput, text: str) -> WebResponse:
        self._put(pressed.caller, "out", "voice", text)  # what the call said, then hung up
        return WebResponse(json.dumps({"say": text}), "application/json")


def _field(request: WebRequest, name: str) -> str:
    value = request.form.get(name, "").strip()
    if not value:
        raise WebhookInvalid(f"missing form field '{name}'")
    return value


def build(settings: ProviderSettings, context: BuildContext) -> SandboxProvider:
    """The sandbox of a `type: sandbox` entry, recording through the daemon's `record`."""
    sender = settings.options.get("from", "pager")
    return SandboxProvider(settings.name, context.sandbox_token, context.record, sender)
