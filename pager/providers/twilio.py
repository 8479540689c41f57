"""Twilio: SMS and voice calls through the official SDK, and reading Twilio's webhooks."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from pager.config import ProviderSettings
from pager.providers.base import (
    BuildContext,
    DeliveryState,
    InboundSms,
    KeypadInput,
    ProviderError,
    Sent,
    SmsLookup,
    StatusUpdate,
    WebhookInvalid,
    WebRequest,
    WebResponse,
    classify,
    keep_alive_session,
    optional_option,
    outcome_unknown,
    timeout_option,
)

if TYPE_CHECKING:
    from pager.providers.lookups import TwilioLookup

# Twilio's MessageStatus values. `receiving`/`received` only describe inbound messages, so a
# status callback for one of our pages never carries them.
SMS_STATES: Mapping[str, DeliveryState] = {
    "queued": "queued",
    "accepted": "queued",
    "scheduled": "queued",
    "sending": "queued",
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "failed",
    "failed": "failed",
    "canceled": "failed",
}

# Twilio's CallStatus values. A call answered by voicemail is `completed` too: only the digits
# posted to the keypad URL acknowledge a page, so a machine never acks.
CALL_STATES: Mapping[str, DeliveryState] = {
    "queued": "queued",
    "initiated": "queued",
    "ringing": "sent",
    "in-progress": "answered",
    "completed": "answered",
    "busy": "no_answer",
    "no-answer": "no_answer",
    "canceled": "no_answer",
    "failed": "failed",
}

SIGNATURE_HEADER = "X-Twilio-Signature"
# Present when a Twilio Webhook Rule signs with a SharedKey instead of the auth token.
SHARED_KEY_HEADER = "X-Twilio-Webhooks-Signature-Settings"
XML = "application/xml"
KEYPAD_WAIT_SECONDS = 8
LOOKUP_PAGE = 20  # newest Messages to our number read when looking one up
CLOCK_SKEW = timedelta(seconds=30)  # between our clock and Twilio's date_created
NO_INPUT = "No input received. Goodbye."
# Fields every incoming-message webhook carries (Twilio's "Twilio's request to your incoming
# message Webhook URL", https://www.twilio.com/docs/messaging/guides/webhook-request; a real
# capture in tests/providers/test_twilio.py). A request without one is not Twilio's.
INBOUND_FIELDS = ("MessageSid", "AccountSid", "From", "To", "NumMedia")
# SM (SMS) or MM (MMS) and 32 hex digits: Twilio's Message SID.
MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-f]{32}")


def twilio_client(account_sid: str, auth_token: str, timeout: float) -> Client:
    """A Twilio SDK client whose hosts come from pager.yaml only."""
    http = TwilioHttpClient(timeout=timeout)
    http.session = keep_alive_session()  # its own pool keeps only a few connections
    client = Client(account_sid, auth_token, http_client=http)
    # The SDK falls back to TWILIO_EDGE / TWILIO_REGION from the environment and would then
    # rewrite every host, including a configured base URL.
    client.edge = None
    client.region = None
    return client


class TwilioProvider:
    """SMS and voice through one Twilio account."""

    channels: frozenset[str] = frozenset({"sms", "voice"})

    def __init__(
        self,
        name: str,
        account_sid: str,
        auth_token: str,
        from_number: str,
        api_base_url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.name = name
        self._from = from_number
        self._account_sid = account_sid
        self._validator = RequestValidator(auth_token)
        self._client_settings = (account_sid, auth_token, timeout, api_base_url)

    @cached_property
    def _client(self) -> Client:
        """The SDK client, made at the first call to Twilio: the SDK's API classes (7 MB) stay
        out of processes that only check Twilio's webhooks, such as `pager web`'s."""
        account_sid, auth_token, timeout, api_base_url = self._client_settings
        client = twilio_client(account_sid, auth_token, timeout)
        if api_base_url:
            client.api.base_url = api_base_url
        return client

    def send_sms(self, to: str, body: str, status_url: str, reference: str | None = None) -> Sent:
        """Send one SMS; Twilio posts its delivery status to `status_url`.

        A Message keeps no reference of ours (`reference` is not sent): `find_sms` finds it by
        recipient, sender and text instead.
        """
        message = self._ask(
            "sending an SMS",
            to,
            lambda: self._client.messages.create(
                to=to, from_=self._from, body=body, status_callback=status_url
            ),
        )
        return self._sent(message.sid, message.status, SMS_STATES)

    def find_sms(self, lookup: SmsLookup) -> Sent | None:
        """Our SMS among the newest Messages from our number to `lookup.to`, created since the
        attempt started: same text, and a sid no other attempt of ours has."""
        # From a Messaging Service the sender is one of its numbers: filter by recipient only.
        sender = {} if self._from.startswith("MG") else {"from_": self._from}
        messages = self._ask(
            "looking up an SMS",
            lookup.to,
            lambda: self._client.messages.list(
                to=lookup.to, limit=LOOKUP_PAGE, page_size=LOOKUP_PAGE, **sender
            ),
        )
        since = lookup.since - CLOCK_SKEW
        for message in messages:
            created = message.date_created
            ours = message.sid not in lookup.skip and message.body == lookup.body
            if ours and created is not None and created >= since:
                return self._sent(message.sid, message.status, SMS_STATES)
        return None

    def call(self, to: str, speech: str, keypad_url: str, status_url: str) -> Sent:
        """Call `to`, read `speech` twice and post the first digit pressed to `keypad_url`."""
        twiml = VoiceResponse()
        gather = twiml.gather(
            num_digits=1, action=keypad_url, method="POST", timeout=KEYPAD_WAIT_SECONDS
        )
        gather.say(speech, loop=2)
        twiml.say(NO_INPUT)
        call = self._ask(
            "placing a call",
            to,
            lambda: self._client.calls.create(
                to=to,
                from_=self._from,
                twiml=str(twiml),
                status_callback=status_url,
                # Only the outcome matters for escalation; progress events would be noise.
                status_callback_event=["completed"],
            ),
        )
        return self._sent(call.sid, call.status, CALL_STATES)

    def verify_webhook(self, request: WebRequest) -> bool:
        """True only when the X-Twilio-Signature matches our auth token, URL and form."""
        signature = header(request.headers, SIGNATURE_HEADER)
        if not signature or header(request.headers, SHARED_KEY_HEADER):
            # A SharedKey signature needs a secret we are not configured with: fail closed.
            return False
        return bool(self._validator.validate(request.url, dict(request.form), signature))

    def parse_inbound(self, request: WebRequest) -> InboundSms:
        """An incoming SMS webhook, refused unless it has the fields Twilio always sends.

        Twilio's signature joins names and values without separators, so a captured request
        can be re-cut (`MessageSid=SMab` + `NumMedia=0` signs like `MessageSid=SMabNumMedia0`):
        the required fields make most re-cuts invalid and `signed_content` catches the rest.
        """
        form = request.form
        for field in INBOUND_FIELDS:
            required(form, field)
        sid = form["MessageSid"]
        if not MESSAGE_SID.fullmatch(sid):
            raise WebhookInvalid(f"twilio webhook: malformed MessageSid {sid[:40]!r}")
        if form["AccountSid"] != self._account_sid:
            raise WebhookInvalid("twilio webhook: AccountSid is not this provider's account")
        if not form["NumMedia"].isdigit():
            raise WebhookInvalid("twilio webhook: NumMedia is not a number")
        self._check_recipient(form)
        return InboundSms(
            sender=form["From"],
            recipient=form["To"],
            body=form.get("Body", ""),
            provider_message_id=sid,
            signed_content=signed_content(request.url, form),
        )

    def _check_recipient(self, form: Mapping[str, str]) -> None:
        """The message was sent to our number (or, with a Messaging Service, to that service)."""
        if self._from.startswith("MG"):
            if form.get("MessagingServiceSid") != self._from:
                raise WebhookInvalid("twilio webhook: not sent to our Messaging Service")
        elif form["To"] != self._from:
            raise WebhookInvalid("twilio webhook: To is not our number")

    def parse_status(self, request: WebRequest) -> StatusUpdate:
        """A status callback of one of our SMS (MessageStatus) or calls (CallStatus)."""
        form = request.form
        if "CallStatus" in form:
            sid_field, status_field, states = "CallSid", "CallStatus", CALL_STATES
        else:
            sid_field, status_field, states = "MessageSid", "MessageStatus", SMS_STATES
        sid = required(form, sid_field)
        raw_status = required(form, status_field)
        state = states.get(raw_status)
        if state is None:
            raise WebhookInvalid(
                f"twilio webhook: unknown {status_field} {raw_status!r} "
                f"(known: {', '.join(states)})"
            )
        return StatusUpdate(
            provider_message_id=sid,
            state=state,
            raw_status=raw_status,
            error_code=form.get("ErrorCode") or None,
            error_message=form.get("ErrorMessage") or None,
        )

    def parse_keypad(self, request: WebRequest) -> KeypadInput:
        """The <Gather> action callback with the digits pressed."""
        form = request.form
        return KeypadInput(
            provider_message_id=required(form, "CallSid"), digits=required(form, "Digits")
        )

    def sms_reply(self, inbound: InboundSms, text: str | None) -> WebResponse:
        """TwiML that answers the inbound SMS with `text`, or with nothing.

        Twilio sends a <Message> in the answer back to the sender, so `inbound` is not needed.
        """
        twiml = MessagingResponse()
        if text is not None:
            twiml.message(text)
        return WebResponse(body=str(twiml), content_type=XML)

    def voice_reply(self, pressed: KeypadInput, text: str) -> WebResponse:
        """TwiML that says `text` and hangs up."""
        twiml = VoiceResponse()
        twiml.say(text)
        twiml.hangup()
        return WebResponse(body=str(twiml), content_type=XML)

    def _ask(self, action: str, to: str, create: Callable[[], Any]) -> Any:
        """Run one SDK create call, turning every failure into a ProviderError."""
        try:
            return create()
        except (TwilioRestException, TwilioServiceException) as exc:
            # str(exc) may hold terminal colour codes; build the message from the fields.
            detail = str(
                getattr(exc, "msg", None)
                or getattr(exc, "detail", None)
                or getattr(exc, "title", "")
            )
            if to:  # Twilio quotes the number in some messages; never log a full number
                detail = detail.replace(to, "<to>")
            code = None if exc.code is None else str(exc.code)
            raise ProviderError(
                f"twilio {self.name}: {action} failed: HTTP {exc.status}, code {code}: {detail}",
                permanent=classify(exc.status).permanent,
                code=code,
            ) from exc
        except (requests.RequestException, TwilioException, json.JSONDecodeError) as exc:
            raise ProviderError(
                f"twilio {self.name}: {action} failed: {type(exc).__name__}: {exc}",
                permanent=False,
                outcome_unknown=outcome_unknown(exc),
            ) from exc

    def _sent(
        self, sid: str | None, status: str | None, states: Mapping[str, DeliveryState]
    ) -> Sent:
        if not sid:
            raise ProviderError(
                f"twilio {self.name}: the API accepted the request but returned no sid",
                permanent=False,
            )
        return Sent(provider_message_id=sid, state=states.get(status or "", "queued"))


def header(headers: Mapping[str, str], name: str) -> str:
    """The value of header `name` in any mapping, whatever the case of its keys."""
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), "")


def signed_content(url: str, form: Mapping[str, str]) -> str:
    """SHA-256 of the string Twilio signs: the URL, then each name and value, sorted by name."""
    signed = url + "".join(name + form[name] for name in sorted(form))
    return hashlib.sha256(signed.encode("utf-8")).hexdigest()


def required(form: Mapping[str, str], field: str) -> str:
    """A non-empty form field, or WebhookInvalid naming it."""
    value = form.get(field)
    if not value:
        raise WebhookInvalid(f"twilio webhook: missing form field {field!r}")
    return value


def build(settings: ProviderSettings, context: BuildContext) -> TwilioProvider:
    """The Twilio provider of a `type: twilio` entry."""
    o = settings.options
    return TwilioProvider(
        name=settings.name,
        account_sid=o["account_sid"],
        auth_token=o["auth_token"],
        from_number=o["from"],
        api_base_url=optional_option(o, "api_base_url"),
        timeout=timeout_option(o),
    )


def lookup(settings: ProviderSettings) -> TwilioLookup:
    """Lookup v2 with the account of a `type: twilio` entry."""
    from pager.providers.lookups import TwilioLookup

    o = settings.options
    return TwilioLookup(
        settings.name,
        o["account_sid"],
        o["auth_token"],
        base_url=optional_option(o, "lookups_base_url"),
        timeout=timeout_option(o),
    )
