"""MessageBird (now Bird): SMS and text-to-speech calls through the classic REST API.

Plain `requests` against `https://rest.messagebird.com`: the official `messagebird` Python SDK
is unmaintained (its last release predates the move to Bird), and pager needs only two calls.
SMS go through `POST /messages`, pages by phone through the Voice Messaging API (`POST
/voicemessages`), which reads the text aloud and hangs up. That API takes no keypad input, so
`call` cannot be acknowledged by pressing a key: `parse_keypad` refuses every request, and acks
come by SMS reply. Its status reports cannot tell a person from a voicemail that answered.

MessageBird sends status reports to `reportUrl` as GET requests with query parameters, and
inbound SMS to the URL set on the number (Flow Builder "Forward to URL", or the number's SMS
webhook) with the documented fields `id`, `originator`, `recipient`, `body`; both are read from
the query or the form. Every request is signed with a `MessageBird-Signature-JWT` (HMAC JWT over
the URL and the body, keyed with the account's signing key); without a signing key every
webhook is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping
from typing import Any

import jwt
import requests

from pager.config import ProviderSettings
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
    keep_alive_session,
    optional_option,
    outcome_unknown,
    reply_quietly,
    timeout_option,
)

log = logging.getLogger(__name__)

API_URL = "https://rest.messagebird.com"
# Recipient statuses of SMS (scheduled ... delivery_failed) and of voice messages (calling,
# answered, failed). `buffered`: the carrier holds it until the phone is reachable.
STATES: Mapping[str, DeliveryState] = {
    "scheduled": "queued",
    "sent": "sent",
    "buffered": "sent",
    "delivered": "delivered",
    "expired": "failed",
    "delivery_failed": "failed",
    "calling": "sent",
    "answered": "answered",
    "failed": "failed",
}
SIGNATURE_HEADER = "messagebird-signature-jwt"
ALGORITHMS = ["HS256", "HS384", "HS512"]  # what MessageBird's own SDKs accept
REQUIRED_CLAIMS = ["iss", "nbf", "exp", "url_hash"]
VOICE = {"language": "en-gb", "voice": "female", "repeat": 2, "ifMachine": "hangup"}
EMPTY = WebResponse(body="", content_type="text/plain")
LOOKUP_PAGE = "20"  # newest messages to the number read when looking one up


class MessageBirdProvider:
    """SMS and spoken (keypad-less) calls through one MessageBird account."""

    channels: frozenset[str] = frozenset({"sms", "voice"})

    def __init__(
        self,
        name: str,
        access_key: str,
        originator: str,
        *,
        base_url: str | None = None,
        signing_key: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.name = name
        self._originator = originator
        self._signing_key = signing_key or None
        self._timeout = timeout
        self._base = (base_url or API_URL).rstrip("/")
        self._http = keep_alive_session()
        self._auth = {"Authorization": f"AccessKey {access_key}"}

    def send_sms(self, to: str, body: str, status_url: str, reference: str | None = None) -> Sent:
        """Send one SMS; MessageBird reports its status to `status_url` and keeps `reference`
        as the message's `reference`."""
        fields = {"body": body, "reportUrl": status_url}
        if reference:
            fields["reference"] = reference
        return self._create("sending an SMS", "messages", to, fields)

    def find_sms(self, lookup: SmsLookup) -> Sent | None:
        """The SMS MessageBird keeps under our `reference`, among the newest to `lookup.to`."""
        if lookup.reference is None:
            return None
        failed = f"messagebird {self.name}: looking up an SMS failed"
        params = {"recipient": lookup.to.lstrip("+"), "direction": "mt", "limit": LOOKUP_PAGE}
        url = f"{self._base}/messages"
        response = get_for_lookup(
            failed, url, params=params, headers=self._auth, timeout=self._timeout
        )
        answer = _json(response)
        if not response.ok:
            raise self._refused("looking up an SMS", lookup.to, response.status_code, answer)
        for message in answer.get("items") or []:
            message_id = str(message.get("id") or "") if isinstance(message, dict) else ""
            ours = message_id and message.get("reference") == lookup.reference
            if ours and message_id not in lookup.skip:
                return _sent(message_id, message)
        return None

    def call(self, to: str, speech: str, keypad_url: str, status_url: str) -> Sent:
        """Call `to` and read `speech` twice. No keypad: `keypad_url` is never called."""
        message = {"body": speech, "reportUrl": status_url, **VOICE}
        return self._create("placing a call", "voicemessages", to, message)

    def verify_webhook(self, request: WebRequest) -> bool:
        """True only when the MessageBird-Signature-JWT is ours, current, and matches the URL
        and the body."""
        if self._signing_key is None:
            return False
        headers = {name.lower(): value for name, value in request.headers.items()}
        token = headers.get(SIGNATURE_HEADER, "")
        if not token:
            return False
        try:
            claims = jwt.decode(
                token,
                self._signing_key,
                algorithms=ALGORITHMS,
                issuer="MessageBird",
                leeway=1,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.InvalidTokenError:
            return False
        if not _same_hash(request.url.encode(), claims["url_hash"]):
            return False
        payload_hash = claims.get("payload_hash")
        if request.body:
            return bool(payload_hash) and _same_hash(request.body, payload_hash)
        return not payload_hash  # a hash of a body we did not get is a different request

    def parse_inbound(self, request: WebRequest) -> InboundSms:
        """An SMS someone sent to our number."""
        fields = _fields(request)
        return InboundSms(
            sender=from_msisdn(_required(fields, "originator")),
            recipient=from_msisdn(_required(fields, "recipient")),
            body=fields.get("body", ""),
            provider_message_id=_required(fields, "id"),
        )

    def parse_status(self, request: WebRequest) -> StatusUpdate:
        """A status report of one of our SMS or voice messages."""
        fields = _fields(request)
        message_id = _required(fields, "id")
        raw_status = _required(fields, "status")
        state = STATES.get(raw_status)
        if state is None:
            raise WebhookInvalid(
                f"messagebird webhook: unknown status {raw_status!r} (known: {', '.join(STATES)})"
            )
        failed = state == "failed"
        return StatusUpdate(
            provider_message_id=message_id,
            state=state,
            raw_status=raw_status,
            error_code=(fields.get("statusErrorCode") or None) if failed else None,
            error_message=(fields.get("statusReason") or None) if failed else None,
        )

    def parse_keypad(self, request: WebRequest) -> KeypadInput:
        """Never: the Voice Messaging API reads a text and hangs up, it gathers no digits."""
        raise WebhookInvalid(
            "messagebird webhook: voice messages take no keypad input; acknowledge by SMS"
        )

    def sms_reply(self, inbound: InboundSms, text: str | None) -> WebResponse:
        """Send `text` back as an SMS of its own, then answer the webhook 200.

        A failed reply is logged, not raised: the inbound SMS was handled, and an error answer
        would make MessageBird post it again.
        """
        if text is not None:
            reply_quietly(
                self.name,
                inbound.sender,
                lambda: self._create("replying", "messages", inbound.sender, {"body": text}),
            )
        return EMPTY

    def voice_reply(self, pressed: KeypadInput, text: str) -> WebResponse:
        """An empty 200: no keypad webhook ever comes to be answered."""
        return EMPTY

    def _create(self, action: str, resource: str, to: str, fields: dict[str, Any]) -> Sent:
        """POST one message to `to` and return what MessageBird answered, or ProviderError."""
        # MessageBird writes MSISDNs without the +, as do the integrations that use it.
        message = {"originator": self._originator, "recipients": [to.lstrip("+")], **fields}
        try:
            response = self._http.post(
                f"{self._base}/{resource}", json=message, headers=self._auth, timeout=self._timeout
            )
        except requests.RequestException as exc:
            raise ProviderError(
                f"messagebird {self.name}: {action} failed: {type(exc).__name__}: {exc}",
                permanent=False,
                outcome_unknown=outcome_unknown(exc),
            ) from exc
        answer = _json(response)
        if not response.ok:
            raise self._refused(action, to, response.status_code, answer)
        message_id = answer.get("id")
        if not message_id:
            raise ProviderError(
                f"messagebird {self.name}: the API accepted the message but returned no id",
                permanent=False,
            )
        return _sent(str(message_id), answer)

    def _refused(self, action: str, to: str, status: int, answer: dict[str, Any]) -> ProviderError:
        """The ProviderError for an error answer, judged by `classify`."""
        errors = answer.get("errors") or [{}]
        first = errors[0] if isinstance(errors[0], dict) else {}
        code = first.get("code")
        detail = str(first.get("description") or "")
        for written in (to, to.lstrip("+")):  # the number may come back quoted, without its +
            if written:
                detail = detail.replace(written, "<to>")
        return ProviderError(
            f"messagebird {self.name}: {action} failed: HTTP {status}, code {code}: {detail}",
            permanent=classify(status).permanent,
            code=None if code is None else str(code),
        )


def _sent(message_id: str, message: dict[str, Any]) -> Sent:
    """`Sent` for a message object, in the state of its (only) recipient."""
    recipients = message.get("recipients")
    items = (recipients.get("items") if isinstance(recipients, dict) else None) or [{}]
    first = items[0] if isinstance(items[0], dict) else {}
    return Sent(message_id, STATES.get(str(first.get("status")), "queued"))


def _same_hash(data: bytes, claimed: object) -> bool:
    # As bytes: compare_digest refuses str with non-ASCII characters (a TypeError, not False).
    given = str(claimed).encode("utf-8", "surrogatepass")
    return hmac.compare_digest(hashlib.sha256(data).hexdigest().encode(), given)


def _fields(request: WebRequest) -> dict[str, str]:
    """A webhook's parameters: MessageBird sends them in the query (GET) or the form (POST)."""
    return {**request.query, **request.form}


def _required(fields: Mapping[str, str], field: str) -> str:
    value = fields.get(field)
    if not value:
        raise WebhookInvalid(f"messagebird webhook: missing field {field!r}")
    return value


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def build(settings: ProviderSettings, context: BuildContext) -> MessageBirdProvider:
    """The MessageBird provider of a `type: messagebird` entry."""
    o = settings.options
    return MessageBirdProvider(
        settings.name,
        o["access_key"],
        o["originator"],
        base_url=optional_option(o, "base_url"),
        signing_key=optional_option(o, "signing_key"),
        timeout=timeout_option(o),
    )
