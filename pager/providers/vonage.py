"""Vonage: SMS through the SMS API and calls through the Voice API, with the official SDK, and
reading Vonage's webhooks (checked in vonage_webhooks).

Vonage wants numbers as digits without the '+' (`447700900123`); we speak E.164 everywhere else,
so numbers change form only in this module.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, TypeVar

import pydantic
import requests
from vonage import Auth, HttpClientOptions, Vonage
from vonage_http_client.errors import HttpRequestError
from vonage_sms import PartialFailureError, SmsError, SmsMessage
from vonage_utils import VonageError
from vonage_voice import CreateCallRequest, Input, Phone, Talk, ToPhone
from vonage_voice.models.input_types import Dtmf

from pager.config import ProviderSettings
from pager.domain.messages import is_gsm7
from pager.domain.phones import from_msisdn
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
    get_for_lookup,
    listed,
    optional_option,
    outcome_unknown,
    reply_quietly,
    timeout_option,
)
from pager.providers.vonage_webhooks import (
    messages_inbound,
    messages_status,
    pressed,
    required,
    signed_by_vonage,
    webhook_params,
)

if TYPE_CHECKING:
    from pager.providers.lookups import VonageInsight

log = logging.getLogger(__name__)
T = TypeVar("T")

# The `status` of an SMS delivery receipt. `unknown` says the carrier never told: no failure to
# fail over on, so the page stays `sent` and escalation goes on by its own clock.
SMS_STATES: Mapping[str, DeliveryState] = {
    "accepted": "sent",
    "buffered": "sent",
    "unknown": "sent",
    "delivered": "delivered",
    "expired": "failed",
    "failed": "failed",
    "rejected": "failed",
}

# The `status` of a Voice API event. `completed` ends every call, after `busy` or `unanswered`
# too, but it never overrides them: feedback keeps the first final state. Voicemail (`machine`)
# is not an ack, and `rejected` is Vonage refusing the call, so another provider should try.
CALL_STATES: Mapping[str, DeliveryState] = {
    "started": "queued",
    "ringing": "sent",
    "answered": "answered",
    "human": "answered",
    "completed": "answered",
    "machine": "no_answer",
    "busy": "no_answer",
    "timeout": "no_answer",
    "unanswered": "no_answer",
    "cancelled": "no_answer",
    "rejected": "failed",
    "failed": "failed",
}

# SMS API `status` values worth retrying: throttled, internal error, too many binds.
TEMPORARY_SMS_STATUSES = frozenset({"1", "5", "10"})
SIGNATURE_METHODS = ("md5", "sha1", "sha256", "sha512")  # the HMACs the SDK computes
KEYPAD_WAIT_SECONDS = 8
REPORTS_HOST = "api.nexmo.com"
CLOCK_SKEW = timedelta(seconds=30)  # between our clock and Vonage's
NO_INPUT = "No input received. Goodbye."


class VonageProvider:
    """SMS (and voice, given an application id and private key) through one Vonage account."""

    def __init__(
        self,
        name: str,
        api_key: str,
        api_secret: str,
        from_number: str,
        *,
        application_id: str | None = None,
        private_key: str | None = None,
        signature_secret: str | None = None,
        signature_method: str = "sha256",
        api_host: str | None = None,
        rest_host: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.name = name
        self._api_key = api_key
        self._from = from_number
        # The Reports API, where `find_sms` looks up an SMS by our client-ref.
        self._reports_url = f"https://{api_host or REPORTS_HOST}/v2/reports/records"
        self._basic = (api_key, api_secret)
        self._timeout = timeout
        if signature_method not in SIGNATURE_METHODS:
            raise ValueError(
                f"vonage {name}: signature_method {signature_method!r} unknown (known: "
                f"{', '.join(SIGNATURE_METHODS)}); choose an HMAC method in the dashboard"
            )
        hosts = {"api_host": api_host, "rest_host": rest_host}
        # The SDK takes whole seconds only.
        options = HttpClientOptions(
            **{k: v for k, v in hosts.items() if v}, timeout=math.ceil(timeout)
        )
        # One client per API: the SDK keeps request headers on the client and never clears
        # them, so a Voice API call would leave its JWT and JSON content type on the next SMS.
        self._sms = Vonage(Auth(api_key=api_key, api_secret=api_secret), options).sms
        self._voice = None
        if bool(application_id) != bool(private_key):
            raise ValueError(f"vonage {name}: voice needs both application_id and private_key")
        if application_id and private_key:
            try:
                auth = Auth(application_id=application_id, private_key=private_key)
            except VonageError as exc:
                raise ValueError(f"vonage {name}: private_key: {exc}") from exc
            self._voice = Vonage(auth, options).voice
        self.channels: frozenset[str] = frozenset({"sms", "voice"} if self._voice else {"sms"})
        self._signature_secret = signature_secret or ""
        self._signatures = None
        if signature_secret:
            self._signatures = Auth(
                api_key=api_key,
                signature_secret=signature_secret,
                signature_method=signature_method,
            )
        # The SDK logs request headers (our credentials) at DEBUG and error bodies, which may
        # quote the number, at WARNING: both are ours to keep out of the logs.
        logging.getLogger("vonage").setLevel(logging.ERROR)

    def call(self, to: str, speech: str, keypad_url: str, status_url: str) -> Sent:
        """Call `to`, read `speech` twice and post the first digit pressed to `keypad_url`.

        The NCCO travels with the request, so the call reads the page even when Vonage cannot
        reach us; call events go to `status_url`.
        """
        voice = self._voice
        if voice is None:
            raise ProviderError(
                f"vonage {self.name}: placing a call failed: voice needs application_id and "
                "private_key",
                permanent=True,
            )
        request = self._build(
            "placing a call",
            to,
            lambda: CreateCallRequest(
                ncco=[
                    Talk(text=speech, bargeIn=True, loop=2),
                    Input(
                        type=["dtmf"],
                        dtmf=Dtmf(maxDigits=1, timeOut=KEYPAD_WAIT_SECONDS),
                        eventUrl=[keypad_url],
                    ),
                    Talk(text=NO_INPUT),
                ],
                to=[ToPhone(number=digits(to))],
                from_=Phone(number=digits(self._from)),
                event_url=[status_url],
            ),
        )
        call = self._ask("placing a call", to, lambda: voice.create_call(request))
        return Sent(provider_message_id=call.uuid, state=CALL_STATES.get(call.status, "queued"))

    def verify_webhook(self, request: WebRequest) -> bool:
        """True only when the request is signed with our signature secret, recently.

        SMS webhooks carry a `sig` parameter; voice webhooks a JWT in `Authorization`. Without
        a signature_secret nothing can be checked, so every webhook is refused (fail closed).
        """
        if self._signatures is None:
            return False
        return signed_by_vonage(
            request, self._signatures, self._signature_secret, self._api_key, time.time()
        )

    def parse_inbound(self, request: WebRequest) -> InboundSms:
        """An inbound SMS webhook: the SMS API's (query string, form or JSON: `msisdn`,
        `messageId`) or the Messages API's (JSON: `from`, `message_uuid`, `channel: sms`)."""
        params = webhook_params(request)
        if "message_uuid" in params and "msisdn" not in params:
            return messages_inbound(params)
        return InboundSms(
            sender=from_msisdn(required(params, "msisdn")),
            recipient=from_msisdn(required(params, "to")),
            body=str(params.get("text") or ""),
            provider_message_id=required(params, "messageId"),
        )

    def parse_status(self, request: WebRequest) -> StatusUpdate:
        """An SMS delivery receipt, or an event of one of our calls."""
        params = webhook_params(request)
        if "message_uuid" in params and "messageId" not in params:
            return messages_status(params)
        if "messageId" in params:
            message_id = required(params, "messageId")
            raw_status, states = required(params, "status"), SMS_STATES
            error_code = str(params.get("err-code") or "0")
        else:
            # Machine-detection events name the call `call_uuid`, every other event `uuid`.
            message_id = str(params.get("uuid") or params.get("call_uuid") or "")
            if not message_id:
                raise WebhookInvalid("vonage webhook: missing field 'messageId' or 'uuid'")
            raw_status, states, error_code = required(params, "status"), CALL_STATES, "0"
        state = states.get(raw_status)
        if state is None:
            raise WebhookInvalid(
                f"vonage webhook: unknown status {raw_status!r} (known: {', '.join(states)})"
            )
        return StatusUpdate(
            provider_message_id=message_id,
            state=state,
            raw_status=raw_status,
            error_code=None if error_code == "0" else error_code,
        )

    def parse_keypad(self, request: WebRequest) -> KeypadInput:
        """The input webhook of a call; digits are empty when the person pressed nothing."""
        params = webhook_params(request)
        return KeypadInput(provider_message_id=required(params, "uuid"), digits=pressed(params))

    def sms_reply(self, inbound: InboundSms, text: str | None) -> WebResponse:
        """Send `text` back to the sender by the SMS API, then answer the webhook empty.

        Vonage's webhook answer cannot carry a message. A reply that fails is logged, not
        raised: a failed answer would make Vonage post the same inbound SMS again for a day.
        """
        if text is not None:
            reply_quietly(
                self.name, inbound.sender, lambda: self.send_sms(inbound.sender, text, None)
            )
        return WebResponse(body="", content_type="text/plain")

    def voice_reply(self, pressed: KeypadInput, text: str) -> WebResponse:
        """An NCCO that says `text`; the call ends when nothing follows."""
        ncco = [{"action": "talk", "text": text}]
        return WebResponse(body=json.dumps(ncco), content_type="application/json")

    def send_sms(
        self, to: str, body: str, status_url: str | None, reference: str | None = None
    ) -> Sent:
        """Send one SMS; Vonage posts its delivery receipts to `status_url` when given, and
        keeps `reference` as the message's `client-ref`."""
        message = self._build(
            "sending an SMS",
            to,
            lambda: SmsMessage(
                to=digits(to),
                from_=digits(self._from),
                text=body,
                callback=status_url,
                client_ref=reference,
                # Vonage garbles what GSM-7 cannot carry unless told the text is Unicode.
                type=None if is_gsm7(body) else "unicode",
            ),
        )
        answer = self._ask("sending an SMS", to, lambda: self._sms.send(message))
        message_id = answer.messages[0].message_id if answer.messages else None
        if not message_id:
            raise ProviderError(
                f"vonage {self.name}: the SMS API accepted the message but returned no id",
                permanent=False,
            )
        return Sent(provider_message_id=message_id, state="queued")

    def find_sms(self, lookup: SmsLookup) -> Sent | None:
        """The SMS Vonage keeps under our `client-ref`, from the Reports API (synchronous
        records; the account must have the Reports API)."""
        if lookup.reference is None:
            return None
        failed = f"vonage {self.name}: looking up an SMS failed"
        params = {
            "account_id": self._api_key,
            "product": "SMS",
            "direction": "outbound",
            "client_ref": lookup.reference,
            "date_start": (lookup.since - CLOCK_SKEW).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        response = get_for_lookup(
            failed, self._reports_url, params=params, auth=self._basic, timeout=self._timeout
        )
        if not response.ok:
            detail = hide_number(error_detail(response), lookup.to)
            raise ProviderError(f"{failed}: HTTP {response.status_code}: {detail}", permanent=False)
        for record in listed(failed, response, "records"):
            message_id = str(record.get("message_id") or "")
            if record.get("client_ref") == lookup.reference and message_id not in lookup.skip:
                status = str(record.get("status") or "").lower()
                return Sent(message_id, SMS_STATES.get(status, "sent") if message_id else "sent")
        return None

    def _build(self, action: str, to: str, build: Callable[[], T]) -> T:
        """A request model of the SDK; one it refuses is our mistake, so a permanent error."""
        try:
            return build()
        except pydantic.ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
            )
            raise ProviderError(
                f"vonage {self.name}: {action} failed: the SDK refused the request: {problems}",
                permanent=True,
            ) from exc

    def _ask(self, action: str, to: str, send: Callable[[], T]) -> T:
        """Run one SDK request, turning every failure into a ProviderError."""
        failed = f"vonage {self.name}: {action} failed"
        try:
            return send()
        except SmsError as exc:  # HTTP 200 with a non-zero status for the message
            status, text = sms_status(exc)
            raise ProviderError(
                f"{failed}: status {status}: {hide_number(text, to)}",
                permanent=status not in TEMPORARY_SMS_STATUSES,
                code=status,
            ) from exc
        except HttpRequestError as exc:
            code = exc.response.status_code
            raise ProviderError(
                f"{failed}: HTTP {code}: {hide_number(error_detail(exc.response), to)}",
                permanent=classify(code).permanent,
                code=str(code),
            ) from exc
        except (OSError, KeyError, TypeError, ValueError) as exc:
            # No answer (requests' errors are OSErrors, like a CA bundle that is missing), or
            # one we cannot read (a ValidationError of the SDK's answer model).
            raise ProviderError(
                f"{failed}: {type(exc).__name__}: {hide_number(str(exc), to)}",
                permanent=False,
                outcome_unknown=outcome_unknown(exc),
            ) from exc
        except VonageError as exc:  # the SDK could not even sign the request
            raise ProviderError(f"{failed}: {type(exc).__name__}: {exc}", permanent=True) from exc


def sms_status(exc: SmsError) -> tuple[str, str]:
    """The SMS API `status` and `error-text` the SDK raised `exc` for."""
    answer = getattr(exc, "response", None)  # PartialFailureError keeps the decoded answer
    if isinstance(exc, PartialFailureError) and isinstance(answer, dict):
        failed = [m for m in answer.get("messages", []) if str(m.get("status")) != "0"]
        if failed:
            return str(failed[0].get("status")), str(failed[0].get("error-text", ""))
    # A single message's failure only survives in the text of the exception.
    found = re.search(r"error code (\d+): (.*)", str(exc), re.DOTALL)
    return (found.group(1), found.group(2)) if found else ("unknown", str(exc))


def error_detail(response: requests.Response) -> str:
    """What a Vonage error answer says: RFC 7807 `title` and `detail`, or the raw text."""
    try:
        body = response.json()
    except ValueError:
        body = None
    parts = (
        [str(body[k]) for k in ("title", "detail") if body.get(k)] if isinstance(body, dict) else []
    )
    return ": ".join(parts) or response.text[:200]


def digits(number: str) -> str:
    """`+447700900123` as Vonage wants it, `447700900123`; a sender name stays as it is."""
    return number[1:] if number.startswith("+") else number


def hide_number(text: str, number: str) -> str:
    """`text` without the full number in either form: messages end up in logs."""
    if not number:
        return text
    return text.replace(number, "<to>").replace(digits(number), "<to>")


def build(settings: ProviderSettings, context: BuildContext) -> VonageProvider:
    """The Vonage provider of a `type: vonage` entry (calls too when it names an application)."""
    o = settings.options
    return VonageProvider(
        name=settings.name,
        api_key=o["api_key"],
        api_secret=o["api_secret"],
        from_number=o["from"],
        application_id=optional_option(o, "application_id"),
        private_key=optional_option(o, "private_key"),
        signature_secret=optional_option(o, "signature_secret"),
        signature_method=o.get("signature_method") or "sha256",
        api_host=optional_option(o, "api_host"),
        rest_host=optional_option(o, "rest_host"),
        timeout=timeout_option(o),
    )


def lookup(settings: ProviderSettings) -> VonageInsight:
    """Number Insight with the account of a `type: vonage` entry."""
    from pager.providers.lookups import VonageInsight

    o = settings.options
    return VonageInsight(
        settings.name,
        o["api_key"],
        o["api_secret"],
        api_host=optional_option(o, "api_host"),
        timeout=timeout_option(o),
    )
