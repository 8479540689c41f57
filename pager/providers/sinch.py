"""Sinch: SMS through the SMS REST API (`/xms/v1/{service_plan_id}/batches`) with `requests`.

SMS only: Sinch's voice products are separate APIs with separate credentials. Each page is a
batch of one recipient with `delivery_report: per_recipient`, so the batch id identifies the SMS
and Sinch posts a `recipient_delivery_report_sms` to the page's status URL. Inbound SMS
(`mo_text`) go to the callback URL set on the service plan in the Sinch dashboard: point it at
`/providers/<name>/inbound`. Sinch signs callbacks with HMAC-SHA256 only once HMAC signing is
enabled for the service plan (ask Sinch); without a `webhook_secret` every webhook is refused.
A webhook's answer cannot carry a reply, so `sms_reply` sends it as a batch of its own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import requests

from pager.domain.jsonbody import JsonRefused, read_json_object
from pager.domain.phones import from_msisdn
from pager.providers.base import (
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
    get_for_lookup,
    listed,
    outcome_unknown,
    reply_quietly,
)

log = logging.getLogger(__name__)

# Sinch's delivery report statuses (`Queued` and `Dispatched` are intermediate, the rest final).
# `Unknown` means the operator never confirmed delivery: handed over, nothing more is known.
STATES: Mapping[str, DeliveryState] = {
    "queued": "queued",
    "dispatched": "sent",
    "unknown": "sent",
    "delivered": "delivered",
    "aborted": "failed",
    "cancelled": "failed",
    "rejected": "failed",
    "deleted": "failed",
    "failed": "failed",
    "expired": "failed",
}
SIGNATURE = "x-sinch-webhook-signature"
ALGORITHM = "HmacSHA256"
FRESH_SECONDS = 300  # a signed callback older (or newer) than this is a replay: refused
INBOUND_TYPE = "mo_text"
REPORT_TYPE = "recipient_delivery_report_sms"
CLOCK_SKEW = timedelta(seconds=30)  # between our clock and Sinch's created_at
EMPTY = WebResponse(body="", content_type="text/plain")


class SinchProvider:
    """SMS through one Sinch service plan."""

    channels: frozenset[str] = frozenset({"sms"})

    def __init__(
        self,
        name: str,
        service_plan_id: str,
        api_token: str,
        from_number: str,
        *,
        region: str = "us",
        base_url: str | None = None,
        webhook_secret: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.name = name
        self._from = from_number
        self._secret = webhook_secret or None
        self._timeout = timeout
        base = (base_url or f"https://{region}.sms.api.sinch.com").rstrip("/")
        self._batches_url = f"{base}/xms/v1/{service_plan_id}/batches"
        self._auth = {"Authorization": f"Bearer {api_token}"}

    def send_sms(self, to: str, body: str, status_url: str, reference: str | None = None) -> Sent:
        """Send one SMS as a batch; Sinch posts each recipient delivery report to `status_url`
        and keeps `reference` as the batch's `client_reference`."""
        batch = {"delivery_report": "per_recipient", "callback_url": status_url}
        if reference:
            batch["client_reference"] = reference
        return Sent(provider_message_id=self._send_batch("sending an SMS", to, body, batch))

    def find_sms(self, lookup: SmsLookup) -> Sent | None:
        """The batch Sinch keeps under our `client_reference` (list batches, filtered)."""
        if lookup.reference is None:
            return None
        failed = f"sinch {self.name}: looking up an SMS failed"
        params = {
            "client_reference": lookup.reference,
            "start_date": (lookup.since - CLOCK_SKEW).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "page_size": "30",
        }
        response = get_for_lookup(
            failed, self._batches_url, params=params, headers=self._auth, timeout=self._timeout
        )
        if not response.ok:
            raise self._refused("looking up an SMS", lookup.to, response)
        for batch in listed(failed, response, "batches"):
            batch_id = str(batch.get("id") or "")
            if batch.get("client_reference") == lookup.reference and batch_id not in lookup.skip:
                return Sent(provider_message_id=batch_id, state="queued")
        return None

    def call(self, to: str, speech: str, keypad_url: str, status_url: str) -> Sent:
        """Never: the SMS API places no calls (permanent, so routing moves on at once)."""
        raise ProviderError(
            f"sinch {self.name}: the Sinch SMS API cannot place calls", permanent=True
        )

    def verify_webhook(self, request: WebRequest) -> bool:
        """True only when the callback carries a fresh HMAC signature made with our secret."""
        if self._secret is None:
            return False
        headers = {name.lower(): value for name, value in request.headers.items()}
        signature = headers.get(SIGNATURE, "")
        nonce = headers.get(f"{SIGNATURE}-nonce", "")
        timestamp = headers.get(f"{SIGNATURE}-timestamp", "")
        algorithm = headers.get(f"{SIGNATURE}-algorithm", ALGORITHM)
        if not (signature and nonce and timestamp) or algorithm.lower() != ALGORITHM.lower():
            return False
        try:
            age = abs(time.time() - int(timestamp))
        except ValueError:
            return False
        if age > FRESH_SECONDS:
            return False
        expected = callback_signature(self._secret, request.body, nonce, timestamp)
        return hmac.compare_digest(expected.encode(), signature.encode())

    def parse_inbound(self, request: WebRequest) -> InboundSms:
        """An `mo_text` callback: an SMS someone sent to our number."""
        event = _event(request, INBOUND_TYPE)
        return InboundSms(
            sender=from_msisdn(_required(event, "from")),
            recipient=from_msisdn(_required(event, "to")),
            body=str(event.get("body") or ""),
            provider_message_id=_required(event, "id"),
        )

    def parse_status(self, request: WebRequest) -> StatusUpdate:
        """A `recipient_delivery_report_sms` callback for one of our batches."""
        event = _event(request, REPORT_TYPE)
        batch_id = _required(event, "batch_id")
        raw_status = _required(event, "status")
        state = STATES.get(raw_status.lower())
        if state is None:
            raise WebhookInvalid(
                f"sinch webhook: unknown status {raw_status!r} (known: {', '.join(STATES)})"
            )
        code = event.get("code")
        return StatusUpdate(
            provider_message_id=batch_id,
            state=state,
            raw_status=raw_status,
            # Delivered and pending reports carry codes too (0, 400, 401): only failures matter.
            error_code=str(code) if state == "failed" and code is not None else None,
        )

    def parse_keypad(self, request: WebRequest) -> KeypadInput:
        """Never: without calls there are no keys pressed."""
        raise WebhookInvalid("sinch webhook: Sinch SMS places no calls, so no keypad input")

    def sms_reply(self, inbound: InboundSms, text: str | None) -> WebResponse:
        """Send `text` back to the sender as a batch of its own, then answer the webhook 200.

        A failed reply is logged, not raised: the inbound SMS was handled, and an error answer
        would make Sinch post it again for up to a day.
        """
        if text is not None:
            options = {"delivery_report": "none"}
            reply_quietly(
                self.name,
                inbound.sender,
                lambda: self._send_batch("replying", inbound.sender, text, options),
            )
        return EMPTY

    def voice_reply(self, pressed: KeypadInput, text: str) -> WebResponse:
        """An empty 200: there is no call to speak to."""
        return EMPTY

    def _send_batch(self, action: str, to: str, body: str, options: dict[str, str]) -> str:
        """POST one batch to `to` and return its id, or raise ProviderError."""
        batch = {"from": self._from, "to": [to], "body": body, **options}
        try:
            response = requests.post(
                self._batches_url, json=batch, headers=self._auth, timeout=self._timeout
            )
        except requests.RequestException as exc:
            raise ProviderError(
                f"sinch {self.name}: {action} failed: {type(exc).__name__}: {exc}",
                permanent=False,
                outcome_unknown=outcome_unknown(exc),
            ) from exc
        if not response.ok:
            raise self._refused(action, to, response)
        try:
            batch_id = response.json().get("id")
        except (ValueError, AttributeError):
            batch_id = None
        if not batch_id:
            raise ProviderError(
                f"sinch {self.name}: the API accepted the batch but returned no id",
                permanent=False,
            )
        return str(batch_id)

    def _refused(self, action: str, to: str, response: requests.Response) -> ProviderError:
        """The ProviderError for an error answer: 429 and 5xx may pass, other 4xx will not."""
        try:
            error = response.json()
        except ValueError:
            error = {}
        if not isinstance(error, dict):
            error = {}
        # SMS API errors are {"code", "text"}; Sinch's shared auth errors are {"title", "detail"}.
        code = error.get("code") or error.get("title") or None
        detail = str(error.get("text") or error.get("detail") or response.reason or "")
        status = response.status_code
        return ProviderError(
            f"sinch {self.name}: {action} failed: HTTP {status}, code {code}: "
            + (detail.replace(to, "<to>") if to else detail),
            permanent=400 <= status < 500 and status != 429,
            code=None if code is None else str(code),
        )


def callback_signature(secret: str, body: bytes, nonce: str, timestamp: str) -> str:
    """Sinch's callback signature: base64(HMAC-SHA256(secret, body "." nonce "." timestamp))."""
    signed = body + f".{nonce}.{timestamp}".encode()
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _event(request: WebRequest, kind: str) -> dict[str, Any]:
    """The callback's JSON object, which must be of type `kind`."""
    try:
        event = read_json_object(request.body, nul="drop")
    except JsonRefused as exc:
        raise WebhookInvalid(f"sinch webhook: {exc}") from exc
    if event.get("type") != kind:
        raise WebhookInvalid(f"sinch webhook: type {event.get('type')!r}, expected {kind!r}")
    return event


def _required(event: Mapping[str, Any], field: str) -> str:
    value = event.get(field)
    if value in (None, ""):
        raise WebhookInvalid(f"sinch webhook: missing field {field!r}")
    return str(value)
