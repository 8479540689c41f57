"""Sinch: SMS through the SMS REST API (`/xms/v1/{service_plan_id}/batches`) with Sinch's SDK.

SMS only: Sinch's voice products are separate APIs with separate credentials. Each page is a
batch of one recipient with `delivery_report: per_recipient`, so the batch id identifies the SMS
and Sinch posts a `recipient_delivery_report_sms` to the page's status URL. Inbound SMS
(`mo_text`) go to the callback URL set on the service plan in the Sinch dashboard: point it at
`/providers/<name>/inbound`. Sinch signs callbacks with HMAC-SHA256 only once HMAC signing is
enabled for the service plan (ask Sinch); without a `webhook_secret` every webhook is refused.
A webhook's answer cannot carry a reply, so `sms_reply` sends it as a batch of its own.

Everything goes through the official `sinch` package (`SinchClient` with the service plan id
and API token): batches are sent and listed by `client.sms.batches`, callback signatures are
checked by its `SmsSinchEvent`, and callbacks are read into its event models. What it leaves
to us is said where we do it: the signature's age and algorithm, and which fields are missing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, TypeVar

import requests
from sinch import SinchClient
from sinch.core.clients.retry_configuration import RetryConfiguration
from sinch.core.enums import RetryPolicy
from sinch.core.exceptions import SinchException
from sinch.domains.sms.models.v1.response import RecipientDeliveryReport
from sinch.domains.sms.models.v1.shared import MOTextMessage, TextRequest
from sinch.domains.sms.sinch_events.v1.sms_sinch_event import SmsSinchEvent

from pager.config import ProviderSettings
from pager.domain.jsonbody import JsonRefused, read_json_object
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
    optional_option,
    outcome_unknown,
    reply_quietly,
    timeout_option,
)

log = logging.getLogger(__name__)
# The SDK logs every request and answer at DEBUG with their headers and bodies: the API token
# and full phone numbers. Its own logger, never below WARNING, keeps them out of our logs.
SDK_LOG = logging.getLogger(f"{__name__}.sdk")
SDK_LOG.setLevel(logging.WARNING)

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
LOOKUP_PAGE = 30  # newest batches under our reference read when looking one up
CLOCK_SKEW = timedelta(seconds=30)  # between our clock and Sinch's created_at
EMPTY = WebResponse(body="", content_type="text/plain")
Event = TypeVar("Event", MOTextMessage, RecipientDeliveryReport)


def sinch_client(
    service_plan_id: str, api_token: str, region: str, base_url: str | None, timeout: float
) -> SinchClient:
    """A Sinch SDK client for one service plan, its SMS API in `region` or at `base_url`."""
    client = SinchClient(
        service_plan_id=service_plan_id,
        sms_api_token=api_token,
        sms_region=region,  # https://{region}.sms.api.sinch.com
        logger=SDK_LOG,
        # One attempt: the dispatch flow retries and fails over. By default the SDK sleeps and
        # retries a 429 up to three times inside the send, holding up the page.
        retry_configuration=RetryConfiguration(retry_policy=RetryPolicy.NONE),
    )
    # SinchClient takes no timeout; its configuration's connection_timeout (10 s by default)
    # is the `timeout` of every request it sends.
    client.configuration.connection_timeout = timeout
    if base_url:
        # The origin of the service-plan SMS API, as Sinch's own SDK tests set their mock's.
        client.configuration.sms_origin_with_service_plan_id = base_url.rstrip("/")
    return client


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
        self._events = SmsSinchEvent(self._secret)
        self._client = sinch_client(service_plan_id, api_token, region, base_url, timeout)

    def send_sms(self, to: str, body: str, status_url: str, reference: str | None = None) -> Sent:
        """Send one SMS as a batch; Sinch posts each recipient delivery report to `status_url`
        and keeps `reference` as the batch's `client_reference`."""
        batch_id = self._send_batch(
            "sending an SMS",
            to,
            body,
            delivery_report="per_recipient",
            event_destination_target=status_url,  # the batch's `callback_url`
            client_reference=reference or None,
        )
        return Sent(provider_message_id=batch_id)

    def find_sms(self, lookup: SmsLookup) -> Sent | None:
        """The batch Sinch keeps under our `client_reference` (list batches, filtered)."""
        if lookup.reference is None:
            return None
        page = self._ask(
            "looking up an SMS",
            lookup.to,
            lambda: self._client.sms.batches.list(
                client_reference=lookup.reference,
                # Whole seconds (`...:ssZ`, as in the SDK's own tests): it would write
                # microseconds, where Sinch documents milliseconds.
                start_date=(lookup.since - CLOCK_SKEW).replace(microsecond=0),
                page_size=LOOKUP_PAGE,
            ),
        )
        for batch in page.content():
            batch_id = str(getattr(batch, "id", None) or "")
            ours = getattr(batch, "client_reference", None) == lookup.reference
            if ours and batch_id and batch_id not in lookup.skip:
                return Sent(provider_message_id=batch_id, state="queued")
        return None

    def call(self, to: str, speech: str, keypad_url: str, status_url: str) -> Sent:
        """Never: the SMS API places no calls (permanent, so routing moves on at once)."""
        raise ProviderError(
            f"sinch {self.name}: the Sinch SMS API cannot place calls", permanent=True
        )

    def verify_webhook(self, request: WebRequest) -> bool:
        """True only when the callback carries a fresh HMAC signature made with our secret.

        The SDK checks the signature over body, nonce and timestamp; how old the timestamp may
        be and the algorithm header are ours to check (it reads neither).
        """
        if self._secret is None:
            return False
        headers = {name.lower(): value for name, value in request.headers.items()}
        timestamp = headers.get(f"{SIGNATURE}-timestamp", "")
        algorithm = headers.get(f"{SIGNATURE}-algorithm", ALGORITHM)
        if algorithm.lower() != ALGORITHM.lower():
            return False
        try:
            if abs(time.time() - int(timestamp)) > FRESH_SECONDS:
                return False
            # Sinch signs the UTF-8 body; given bytes, the SDK would decode them by whatever
            # charset the Content-Type names, and raise on a made-up one.
            body = request.body.decode("utf-8")
            return bool(self._events.validate_authentication_header(headers, body))
        # No timestamp or not a number, a body that is not UTF-8; a signature that is not
        # ASCII (hmac.compare_digest refuses to compare such strings).
        except (ValueError, TypeError):
            return False

    def parse_inbound(self, request: WebRequest) -> InboundSms:
        """An `mo_text` callback: an SMS someone sent to our number."""
        sms = _event(request, INBOUND_TYPE, MOTextMessage)
        return InboundSms(
            sender=from_msisdn(_filled(sms.from_, "from")),
            recipient=from_msisdn(_filled(sms.to, "to")),
            body=sms.body,
            provider_message_id=_filled(sms.id, "id"),
        )

    def parse_status(self, request: WebRequest) -> StatusUpdate:
        """A `recipient_delivery_report_sms` callback for one of our batches."""
        report = _event(request, REPORT_TYPE, RecipientDeliveryReport)
        raw_status = _filled(report.status, "status")
        state = STATES.get(raw_status.lower())
        if state is None:
            raise WebhookInvalid(
                f"sinch webhook: unknown status {raw_status!r} (known: {', '.join(STATES)})"
            )
        return StatusUpdate(
            provider_message_id=_filled(report.batch_id, "batch_id"),
            state=state,
            raw_status=raw_status,
            # Delivered and pending reports carry codes too (0, 400, 401): only failures matter.
            error_code=str(report.code) if state == "failed" else None,
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
            reply_quietly(
                self.name,
                inbound.sender,
                lambda: self._send_batch("replying", inbound.sender, text, delivery_report="none"),
            )
        return EMPTY

    def voice_reply(self, pressed: KeypadInput, text: str) -> WebResponse:
        """An empty 200: there is no call to speak to."""
        return EMPTY

    def _send_batch(self, action: str, to: str, body: str, **options: Any) -> str:
        """Send one batch to `to` and return its id, or raise ProviderError."""
        try:
            batch = TextRequest(to=[to], from_=self._from, body=body, **options)
        except ValueError as exc:  # the SDK's model refuses it: our mistake, never sent
            raise ProviderError(
                f"sinch {self.name}: {action} failed: the SDK refused the batch: {exc}",
                permanent=True,
            ) from exc
        sent = self._ask(action, to, lambda: self._client.sms.batches.send(request=batch))
        batch_id = getattr(sent, "id", None)
        if not batch_id:
            raise ProviderError(
                f"sinch {self.name}: the API accepted the batch but returned no id",
                permanent=False,
            )
        return str(batch_id)

    def _ask(self, action: str, to: str, call: Callable[[], Any]) -> Any:
        """Run one SDK call, turning every failure into a ProviderError."""
        try:
            return call()
        except SinchException as exc:
            raise self._refused(action, to, exc) from exc
        except requests.RequestException as exc:  # the SDK lets requests' errors through
            raise ProviderError(
                f"sinch {self.name}: {action} failed: {type(exc).__name__}: {exc}",
                permanent=False,
                outcome_unknown=outcome_unknown(exc),
            ) from exc
        except ValueError as exc:  # an answer the SDK's models cannot read
            raise ProviderError(
                f"sinch {self.name}: {action} failed: unreadable answer: {exc}", permanent=False
            ) from exc

    def _refused(self, action: str, to: str, exc: SinchException) -> ProviderError:
        """The ProviderError for an error answer, judged by `classify`."""
        answer = exc.http_response
        # The SDK's own answer for JSON, requests' Response for a body that is not JSON (then
        # its response_status_code is None: a Response of an error status is falsy).
        status = int(getattr(answer, "status_code", None) or 0)
        error = getattr(answer, "body", None)
        if not isinstance(error, dict):
            error = {}
        # SMS API errors are {"code", "text"}; Sinch's shared auth errors are {"title", "detail"}.
        code = error.get("code") or error.get("title") or None
        detail = str(error.get("text") or error.get("detail") or getattr(answer, "reason", exc))
        if to:
            detail = detail.replace(to, "<to>")
        return ProviderError(
            f"sinch {self.name}: {action} failed: HTTP {status}, code {code}: {detail}",
            permanent=classify(status).permanent,
            code=None if code is None else str(code),
        )


def _event(request: WebRequest, kind: str, model: type[Event]) -> Event:
    """The callback's JSON object, which must be of type `kind`, read into the SDK's `model`.

    The SDK's `SmsSinchEvent.parse_event` would pick the model by `type` too, but it turns an
    event missing a field into a raw stand-in (and logs a warning) instead of naming the field.
    """
    try:
        event = read_json_object(request.body, nul="drop")
    except JsonRefused as exc:
        raise WebhookInvalid(f"sinch webhook: {exc}") from exc
    if event.get("type") != kind:
        raise WebhookInvalid(f"sinch webhook: type {event.get('type')!r}, expected {kind!r}")
    try:
        return model.model_validate(event)
    except ValueError as exc:  # pydantic's ValidationError
        raise WebhookInvalid(f"sinch webhook: {kind} {_fields_refused(exc)}") from None


def _fields_refused(exc: ValueError) -> str:
    """`missing field 'from'` or `invalid field 'code'`, from a pydantic ValidationError."""
    errors = exc.errors(include_url=False) if hasattr(exc, "errors") else []
    # The top-level field only: a union's errors go on into each of its members.
    refused = {
        f"{'missing' if error['type'] == 'missing' else 'invalid'} field {error['loc'][0]!r}": 1
        for error in errors
        if error["loc"]
    }
    return ", ".join(refused) or str(exc)


def _filled(value: str, field: str) -> str:
    if not value:
        raise WebhookInvalid(f"sinch webhook: missing field {field!r}")
    return value


def build(settings: ProviderSettings, context: BuildContext) -> SinchProvider:
    """The Sinch provider of a `type: sinch` entry."""
    o = settings.options
    return SinchProvider(
        settings.name,
        o["service_plan_id"],
        o["api_token"],
        o["from"],
        region=o.get("region") or "us",
        base_url=optional_option(o, "base_url"),
        webhook_secret=optional_option(o, "webhook_secret"),
        timeout=timeout_option(o),
    )
